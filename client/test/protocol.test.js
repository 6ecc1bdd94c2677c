// The message logic alone: debouncing, sequence numbers, one update in flight,
// stale answers dropped, Arrow datasets decoded, errors shown. Timers are
// advanced by hand: no clock is read.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { tableToIPC, tableFromArrays } from "@uwdata/flechette";
import { Session, plain } from "../src/protocol.js";

/** A timer the test fires by hand. */
function manualTimer() {
  const waiting = new Map();
  let next = 0;
  return {
    set(fn, ms) {
      waiting.set(++next, { fn, ms });
      return next;
    },
    clear(handle) {
      waiting.delete(handle);
    },
    fire() {
      const due = [...waiting.values()];
      waiting.clear();
      due.forEach(({ fn }) => fn());
      return due.map(({ ms }) => ms);
    },
    get pending() {
      return waiting.size;
    },
  };
}

function session(overrides = {}) {
  const sent = [];
  const applied = [];
  const errors = [];
  const timer = manualTimer();
  const s = new Session({
    send: (m) => sent.push(m),
    apply: (changes) => applied.push(changes),
    error: (m) => errors.push(m),
    timer,
    ...overrides,
  });
  return { s, sent, applied, errors, timer };
}

const brush = { namespace: "data", name: "brush_store", scope: [] };
const hist = { namespace: "data", name: "data_1", scope: [] };

test("changes within the debounce window go as one update with the last value", () => {
  const { s, sent, timer } = session();
  s.change(brush, [{ values: [[0, 1]] }]);
  s.change(brush, [{ values: [[0, 2]] }]);
  s.change({ namespace: "signal", name: "bins", scope: [] }, 20);
  assert.equal(sent.length, 0, "nothing goes before the window closes");
  assert.equal(timer.pending, 1, "each change restarts one timer");
  assert.deepEqual(timer.fire(), [30]);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].seq, 1);
  assert.deepEqual(sent[0].changes, [
    { ...brush, value: [{ values: [[0, 2]] }] },
    { namespace: "signal", name: "bins", scope: [], value: 20 },
  ]);
});

test("one update is in flight: newer changes wait for its answer and go as one", async () => {
  const { s, sent, applied, timer } = session();
  s.change(brush, 1);
  timer.fire();
  for (let i = 2; i <= 50; i++) {
    s.change(brush, i);
    timer.fire();
  }
  assert.equal(sent.length, 1, "the burst waits for the first answer");
  await s.receive({ type: "update", seq: 1, changes: [{ ...hist, value: [{ n: 1 }] }] });
  assert.equal(applied.length, 1);
  assert.equal(sent.length, 2, "the burst went when the answer came");
  assert.deepEqual(sent[1], { type: "update", seq: 2, changes: [{ ...brush, value: 50 }] });
  await s.receive({ type: "update", seq: 2, changes: [{ ...hist, value: [{ n: 50 }] }] });
  assert.deepEqual(applied.at(-1), [{ ...hist, value: [{ n: 50 }] }], "the state is the last move's");
  assert.equal(sent.length, 2, "nothing more to send");
});

test("answers to updates older than the latest sent are dropped", async () => {
  const { s, sent, applied } = session();
  s.change(brush, 1);
  s.flush();
  assert.equal(sent.at(-1).seq, 1);
  await s.receive({ type: "update", seq: 1, changes: [] });
  s.change(brush, 2);
  s.flush();
  assert.equal(await s.receive({ type: "update", seq: 1, changes: [{ ...hist, value: [] }] }), null, "a late duplicate of 1");
  assert.equal(await s.receive({ type: "update", seq: 7, changes: [] }), null, "an answer to nothing sent");
  assert.equal(s.dropped, 2);
  assert.equal(applied.length, 1);
  assert.deepEqual(await s.receive({ type: "update", seq: 2, changes: [] }), []);
});

test("a change made while an answer is debouncing goes after its window", async () => {
  const { s, sent, timer } = session();
  s.change(brush, 1);
  timer.fire();
  s.change(brush, 2);
  await s.receive({ type: "update", seq: 1, changes: [] });
  assert.equal(sent.length, 1, "the pending change still waits for its quiet time");
  timer.fire();
  assert.equal(sent.length, 2);
});

test("datasets sent as Arrow IPC are decoded into rows, timestamps as epoch ms", async () => {
  const { s, applied } = session();
  const table = tableFromArrays({ bin0: [0, 10], __count: [3, 4], t: [new Date(Date.UTC(2001, 0, 2)), null] });
  const ipc = tableToIPC(table, { format: "stream" });
  s.change(brush, 1);
  s.flush();
  const view = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  await s.receive({ type: "update", seq: 1, changes: [{ ...hist, arrow: 0 }] }, [view]);
  assert.deepEqual(applied[0], [{ ...hist, value: [{ bin0: 0, __count: 3, t: Date.UTC(2001, 0, 2) }, { bin0: 10, __count: 4, t: null }] }]);
});

test("the server's Arrow encoding comes back as the rows it encoded: missing fields missing, nested values whole", async () => {
  // Written by vegalake_proto::arrow_rows from arrow-rows.json (a Rust test checks it is current).
  const ipc = readFileSync(new URL("./fixtures/arrow-rows.arrows", import.meta.url));
  const { s, applied } = session();
  s.change(brush, 1);
  s.flush();
  await s.receive({ type: "update", seq: 1, changes: [{ ...hist, arrow: 0 }] }, [new Uint8Array(ipc)]);
  assert.deepEqual(applied[0][0].value, [
    { n: 1, x: 1.5, s: "a", v: [1, { k: 2 }], m: "one" },
    { x: 2, m: 4, t: true },
    // JSON's "NaN" is a number again; a null that was there stays null.
    { n: 3, x: NaN, z: null, t: false },
  ]);
});

test("server errors, bad messages and failing applies show an error state", async () => {
  const failing = session({
    apply: () => {
      throw new Error("the chart has no dataset 'x' at scope []");
    },
  });
  failing.s.change(brush, 1);
  failing.s.flush();
  await failing.s.receive({ type: "update", seq: 1, changes: [] });
  assert.deepEqual(failing.errors, ["the chart has no dataset 'x' at scope []"]);

  const { s, errors, sent } = session();
  s.change(brush, 1);
  s.flush();
  await s.receive({ type: "error", seq: 1, message: "vlSelectionTest: unknown store" });
  s.change(brush, 2);
  s.flush();
  await s.receive({ type: "update", seq: 2, changes: [{ ...hist, arrow: 3 }] }, []);
  s.change(brush, 3);
  s.flush();
  await s.receive({ type: "nonsense", seq: 3 });
  assert.deepEqual(errors, [
    "vlSelectionTest: unknown store",
    "dataset 'data_1': Arrow buffer 3 is missing from the message",
    'unexpected message from the server: {"type":"nonsense","seq":3}',
  ]);
  assert.equal(sent.length, 3, "the session keeps going after errors");
});

test("values go as the server reads them: dates as epoch ms, no symbols", () => {
  const row = { a: 1, d: new Date(Date.UTC(2020, 1, 3)) };
  row[Symbol("vega_id")] = 7;
  assert.deepEqual(plain([row]), [{ a: 1, d: Date.UTC(2020, 1, 3) }]);
  assert.equal(plain(undefined), null);
});
