// The client over a transport that replays recorded server messages
// (fixtures/crossfilter.json, written by fixtures/record.py from vegalake's
// widget): a headless vega View of the client spec is brushed, the client's
// messages are checked against the recorded requests, the recorded answers are
// applied, and the views' datasets and signals must equal vega.js running the
// whole chart (rows inline) for the same brush. No kernel, no clock.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { View, parse } from "vega";
import { attach } from "../src/attach.js";
import { valueOf, varKey } from "../src/index.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/crossfilter.json", import.meta.url)));

function manualTimer() {
  const waiting = new Map();
  let next = 0;
  return {
    set: (fn) => (waiting.set(++next, fn), next),
    clear: (handle) => waiting.delete(handle),
    fire() {
      const due = [...waiting.values()];
      waiting.clear();
      due.forEach((fn) => fn());
    },
  };
}

/** A transport whose server answers each update with the next recorded answer. */
function replay(steps) {
  const sent = [];
  let handler = null;
  return {
    sent,
    send: (message) => sent.push(message),
    onMessage: (h) => {
      handler = h;
    },
    async answer(step) {
      const buffers = step.buffers.map((b) => new Uint8Array(Buffer.from(b, "base64")));
      return handler(step.answer, buffers.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength)));
    },
    steps,
  };
}

async function viewOf(spec) {
  const view = new View(parse(spec), { renderer: "none" });
  await view.runAsync();
  return view;
}

/** Rows as comparable text, keeping only `columns`; order-insensitive. */
function rowsText(rows, columns) {
  return rows.map((row) => JSON.stringify(columns.map((c) => row[c] ?? null))).sort();
}

const byKey = (changes) => Object.fromEntries(changes.map((c) => [varKey(c), c.value]));

test("a replayed crossfilter equals vega.js running the whole chart, brush by brush", async () => {
  const client = await viewOf(fixture.client);
  const whole = await viewOf(fixture.whole);
  const transport = replay(fixture.steps);
  const timer = manualTimer();
  const errors = [];
  let applied = 0;
  attach(client, fixture.plan, transport, { timer, onError: (m) => errors.push(m), onApplied: () => (applied += 1) });

  for (const [i, step] of fixture.steps.entries()) {
    const store = step.request.find((c) => c.name === "brush_store").value;
    client.data("brush_store", structuredClone(store));
    await client.runAsync();
    timer.fire();
    assert.equal(transport.sent.length, i + 1, `brush ${i + 1} sent one update`);
    const message = transport.sent[i];
    assert.equal(message.seq, step.answer.seq);
    assert.deepEqual(byKey(message.changes), byKey(step.request), `brush ${i + 1}: the client sends what the recording asked`);

    const applied = await transport.answer(step);
    assert.ok(applied, `brush ${i + 1}: the answer was applied`);
    whole.data("brush_store", structuredClone(store));
    await whole.runAsync();

    for (const variable of fixture.plan.server_to_client) {
      const ours = valueOf(client, variable);
      const truth = valueOf(whole, variable);
      if (variable.namespace === "data") {
        const columns = Object.keys(ours[0] ?? truth[0] ?? {});
        assert.deepEqual(rowsText(ours, columns), rowsText(truth, columns), `brush ${i + 1}: dataset ${variable.name}`);
      } else {
        // vega's bin signal is its accessor function carrying start, step, stop...;
        // the server sends those properties.
        const props = (v) => (typeof v === "function" ? { ...v } : v);
        assert.deepEqual(props(ours), props(truth), `brush ${i + 1}: signal ${variable.name}`);
      }
    }
  }
  assert.deepEqual(errors, []);
  assert.equal(applied, fixture.steps.length, "each answer drawn was reported (the page clears its error state then)");
});

test("a dataset missing from the chart shows an error and the client keeps going", async () => {
  const client = await viewOf(fixture.client);
  const transport = replay(fixture.steps);
  const timer = manualTimer();
  const errors = [];
  attach(client, fixture.plan, transport, { timer, onError: (m) => errors.push(m) });
  client.data("brush_store", structuredClone(fixture.steps[0].request[0].value));
  await client.runAsync();
  timer.fire();
  const bad = { ...fixture.steps[0], answer: { type: "update", seq: 1, changes: [{ namespace: "data", name: "nope", scope: [9], value: [] }] } };
  assert.equal(await transport.answer(bad), null);
  assert.deepEqual(errors, ["the chart has no group mark at scope [9]"]);
  client.data("brush_store", structuredClone(fixture.steps[1].request[0].value));
  await client.runAsync();
  timer.fire();
  assert.equal(transport.sent.length, 2, "the next brush still goes");
});
