// End to end in a real browser: JupyterLab (from PyPI, $VEGALAKE_JUPYTER) and
// Debian's chromium driven by playwright-core, with no network beyond loopback.
// A notebook opens a crossfilter of three histograms over 1M rows as a
// vl.ChartWidget; the test drags a brush with the mouse on the first view (a
// burst of 50 moves) and checks that the other views' data equal vega.js running
// the whole chart over the same rows with the brush the drag ended with, that the comm messages carry aggregates
// only, and that no request left loopback. Screenshots are kept in
// $VEGALAKE_ARTIFACTS (default: the system's temporary directory).
//
//   VEGALAKE_JUPYTER=/path/to/venv/bin/jupyter node --test client/e2e/
//
// Hang guards only (generous timeouts); nothing here measures time.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { tableFromIPC } from "@uwdata/flechette";
import { View, parse } from "vega";
import { dragBrush, openLab, runNotebook, settled } from "./lab.js";

const ROWS = Number(process.env.VEGALAKE_WIDGET_ROWS || 1_000_000);
const ARTIFACTS = process.env.VEGALAKE_ARTIFACTS || tmpdir();
const HANG_GUARD_MS = Number(process.env.VEGALAKE_E2E_GUARD_MS || 10 * 60 * 1000);

/** vega.js over the whole chart, the notebook's rows inline, with `store` as the brush. */
async function vegaTruth(root, store) {
  const whole = JSON.parse(readFileSync(join(root, "whole.vg.json"), "utf8"));
  const rows = tableFromIPC(readFileSync(join(root, "rows.arrow")), { useBigInt: false }).toArray();
  for (const entry of whole.data) {
    if (String(entry.url || "").startsWith("vegalake+dataset://")) {
      delete entry.url;
      delete entry.format;
      entry.values = rows;
    }
  }
  const view = new View(parse(whole), { renderer: "none" });
  await view.runAsync();
  view.data("brush_store", store);
  await view.runAsync();
  return view;
}

function rowsText(rows, columns) {
  return rows.map((row) => JSON.stringify(columns.map((c) => row[c] ?? null))).sort();
}

let lab;

before(async () => {
  lab = await openLab({ jupyter: process.env.VEGALAKE_JUPYTER, chromiumPath: process.env.VEGALAKE_CHROMIUM, rows: ROWS, truth: true });
});

after(async () => {
  await lab?.close();
});

test("a brush dragged in JupyterLab gives vega.js's counts, with aggregates on the wire and nothing off loopback", { timeout: HANG_GUARD_MS }, async () => {
  const frames = [];
  let brushing = false;
  const onFrame = (bytes) => {
    if (brushing && bytes.toString("latin1").includes("comm_msg")) frames.push(bytes.length);
  };
  const { context, page, widget, offLoopback } = await runNotebook(lab, { artifacts: ARTIFACTS, timeout: HANG_GUARD_MS / 2, onFrame });

  // A burst: 50 mouse moves as fast as the browser takes them; the final state
  // must be the last move's.
  brushing = true;
  await dragBrush(page, widget, 0.3, 0.6, 50);
  await settled(page);
  const state = await widget.evaluate((el) => {
    const { view, session, plan } = el.vegalake;
    const strip = (v) => JSON.parse(JSON.stringify(v));
    return {
      store: strip(view.data("brush_store")),
      datasets: plan.server_to_client.filter((v) => v.namespace === "data").map((v) => ({ name: v.name, rows: strip(view.data(v.name)) })),
      error: el.querySelector(".vegalake-error")?.textContent ?? null,
      sent: session.lastSent,
    };
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, "widget-crossfilter.png");
  await widget.screenshot({ path: shot });
  await page.screenshot({ path: join(ARTIFACTS, "jupyterlab.png") });
  console.log(`screenshot: ${shot}; ${state.sent} updates sent; comm frames received while brushing: ${frames.length}, largest ${Math.max(...frames)} B`);

  assert.equal(state.error, null);
  assert.equal(state.store.length, 1, "the drag made a brush");
  const truth = await vegaTruth(lab.root, state.store);
  for (const { name, rows } of state.datasets) {
    const expected = truth.data(name);
    const columns = Object.keys(rows[0] ?? expected[0] ?? {});
    assert.deepEqual(rowsText(rows, columns), rowsText(expected, columns), `dataset ${name} equals vega.js's`);
  }
  const filtered = state.datasets.filter(({ rows }) => rows.some((r) => "__count" in r));
  const totals = filtered.map(({ rows }) => rows.reduce((n, r) => n + r.__count, 0));
  const brushed = totals.filter((t) => t > 0 && t < ROWS);
  assert.ok(brushed.length >= 2, `the brush selects some rows but not all in the other views (${totals})`);

  // Aggregates only: 3 histograms of at most 20 bins, against 1M rows of raw data.
  assert.ok(frames.length > 0, "answers came over the comm");
  assert.ok(Math.max(...frames) < 16_000, `a comm message is ${Math.max(...frames)} B`);
  assert.deepEqual(offLoopback, []);
  await context.close();
});
