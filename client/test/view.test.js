// The plan's variables in a headless vega View: found in their group marks'
// scopes, watched, and set there.

import assert from "node:assert/strict";
import { test } from "node:test";
import { View, parse } from "vega";
import { setValues, valueOf, watch } from "../src/view.js";

// Two group marks; the second defines its own dataset and signal, and a mark
// whose count follows the dataset.
const spec = {
  $schema: "https://vega.github.io/schema/vega/v6.json",
  signals: [{ name: "top", value: 1 }],
  data: [{ name: "shared", values: [{ a: 1 }] }],
  marks: [
    { type: "group", marks: [{ type: "rect", from: { data: "shared" } }] },
    {
      type: "group",
      signals: [{ name: "inner", value: 0 }],
      data: [{ name: "local", values: [] }, { name: "count", source: "local", transform: [{ type: "aggregate" }] }],
      marks: [{ type: "rect", name: "bars", from: { data: "local" } }],
    },
  ],
};

async function view() {
  const v = new View(parse(spec), { renderer: "none" });
  await v.runAsync();
  return v;
}

test("server values land in their group's scope and flow through its dataflow", async () => {
  const v = await view();
  await setValues(v, [
    { namespace: "data", name: "local", scope: [1], value: [{ b: 1 }, { b: 2 }, { b: 3 }] },
    { namespace: "signal", name: "inner", scope: [1], value: 42 },
    { namespace: "signal", name: "top", scope: [], value: 7 },
  ]);
  assert.deepEqual(valueOf(v, { namespace: "data", name: "local", scope: [1] }).map((r) => r.b), [1, 2, 3]);
  assert.equal(valueOf(v, { namespace: "data", name: "count", scope: [1] })[0].count, 3, "the group's own transforms ran");
  assert.equal(valueOf(v, { namespace: "signal", name: "inner", scope: [1] }), 42);
  assert.equal(v.signal("top"), 7);
  // Replacing a dataset removes its old rows.
  await setValues(v, [{ namespace: "data", name: "local", scope: [1], value: [{ b: 9 }] }]);
  assert.equal(valueOf(v, { namespace: "data", name: "count", scope: [1] })[0].count, 1);
});

test("watching a scoped variable reports its changes", async () => {
  const v = await view();
  const seen = [];
  const stop = watch(v, [{ namespace: "signal", name: "inner", scope: [1] }, { namespace: "data", name: "local", scope: [1] }], (variable, value) =>
    seen.push([variable.name, Array.isArray(value) ? value.length : value]),
  );
  await setValues(v, [{ namespace: "signal", name: "inner", scope: [1], value: 5 }]);
  await setValues(v, [{ namespace: "data", name: "local", scope: [1], value: [{ b: 1 }, { b: 2 }] }]);
  assert.deepEqual(seen, [
    ["inner", 5],
    ["local", 2],
  ]);
  stop();
  await setValues(v, [{ namespace: "signal", name: "inner", scope: [1], value: 6 }]);
  assert.equal(seen.length, 2, "nothing after stop()");
});

test("a name the scope lacks is an error naming it and the scope", async () => {
  const v = await view();
  assert.throws(() => watch(v, [{ namespace: "signal", name: "inner", scope: [] }], () => {}), /no signal 'inner' at scope \[\]/);
  await assert.rejects(setValues(v, [{ namespace: "data", name: "nowhere", scope: [0] }]), /no dataset 'nowhere' at scope \[0\]/);
  // As in vega, a group sees its parents' names.
  assert.deepEqual(valueOf(v, { namespace: "data", name: "shared", scope: [0] }).map((r) => r.a), [1]);
});
