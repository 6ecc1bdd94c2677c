// End to end in a real browser: JupyterLab (from PyPI, $VEGALAKE_JUPYTER) and
// Debian's chromium driven by playwright-core, with no network beyond loopback.
// A notebook opens a crossfilter of three histograms over 1M rows as a
// vl.ChartWidget; the test drags a brush with the mouse on the first view and
// checks that the other views' data equal vega.js running the whole chart over
// the same rows with the same brush, that the comm messages carry aggregates
// only, and that no request left loopback. A screenshot is kept in
// $VEGALAKE_ARTIFACTS (default: the system's temporary directory).
//
//   VEGALAKE_JUPYTER=/path/to/venv/bin/jupyter node --test client/e2e/
//
// Hang guards only (generous timeouts); nothing here measures time.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { tableFromIPC } from "@uwdata/flechette";
import { chromium } from "playwright-core";
import { View, parse } from "vega";

const JUPYTER = process.env.VEGALAKE_JUPYTER;
const CHROMIUM = process.env.VEGALAKE_CHROMIUM || "/usr/bin/chromium";
const ROWS = Number(process.env.VEGALAKE_WIDGET_ROWS || 1_000_000);
const ARTIFACTS = process.env.VEGALAKE_ARTIFACTS || tmpdir();
const HANG_GUARD_MS = Number(process.env.VEGALAKE_E2E_GUARD_MS || 10 * 60 * 1000);

// Headless Chromium as root, with nothing phoning home (measured on this machine).
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const NOTEBOOK_CODE = `
import json
import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import vegalake as vl

vl.enable()
n = ${ROWS}
rng = np.random.default_rng(11)
df = pd.DataFrame({
    "delay": np.round(rng.normal(10, 25, n), 1),
    "distance": np.round(rng.uniform(0, 3000, n)),
    "hour": rng.integers(0, 24, n).astype("int64"),
})
# The rows and the whole chart, for the test's vega.js run.
table = pa.Table.from_pandas(df, preserve_index=False)
with pa.OSFile("rows.arrow", "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
    writer.write_table(table)
brush = alt.selection_interval(encodings=["x"], name="brush")

def hist(field):
    return alt.Chart(df).mark_bar().encode(x=alt.X(field, bin=alt.Bin(maxbins=20)), y="count()").properties(width=220, height=140)

chart = alt.hconcat(hist("delay").add_params(brush), hist("distance").transform_filter(brush), hist("hour").transform_filter(brush))
widget = vl.ChartWidget(chart, embed_options={"renderer": "svg"})
with open("whole.vg.json", "w") as f:
    json.dump(vl._altair._chart_to_vega(chart), f)
widget
`;

function notebook(code) {
  return {
    cells: [{ cell_type: "code", execution_count: null, id: "crossfilter", metadata: {}, outputs: [], source: code.trim() }],
    metadata: { kernelspec: { display_name: "Python 3", language: "python", name: "python3" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts JupyterLab in a process group of its own; resolves when it serves. */
function startJupyter(root, port, token) {
  const args = [
    "lab",
    "--no-browser",
    "--allow-root",
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.port=${port}`,
    `--IdentityProvider.token=${token}`,
    `--ServerApp.root_dir=${root}`,
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
  ];
  const proc = spawn(JUPYTER, args, {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, JUPYTER_CONFIG_DIR: join(root, ".jupyter"), JUPYTER_RUNTIME_DIR: join(root, ".runtime") },
  });
  const ready = new Promise((resolve, reject) => {
    let log = "";
    const onData = (chunk) => {
      log += chunk;
      if (log.includes(`127.0.0.1:${port}/lab`)) resolve(log);
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.on("exit", (code) => reject(new Error(`jupyter lab exited (${code}) before serving:\n${log.slice(-2000)}`)));
  });
  return { proc, ready };
}

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

/** Awaits `step`; when it fails, keeps a screenshot of where the page stopped. */
async function shownOrShot(page, step) {
  try {
    return await step;
  } catch (e) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "widget-crossfilter-failed.png") });
    throw e;
  }
}

let root, jupyter, browser;

before(async () => {
  assert.ok(JUPYTER, "set VEGALAKE_JUPYTER to a jupyter executable whose environment has vegalake[widget] and jupyterlab");
  root = mkdtempSync(join(tmpdir(), "vegalake-lab-"));
  // No "news" prompt over the notebook (JupyterLab would fetch it from the web).
  mkdirSync(join(root, ".jupyter", "labconfig"), { recursive: true });
  const disabled = { disabledExtensions: { "@jupyterlab/apputils-extension:announcements": true } };
  writeFileSync(join(root, ".jupyter", "labconfig", "page_config.json"), JSON.stringify(disabled));
  writeFileSync(join(root, "crossfilter.ipynb"), JSON.stringify(notebook(NOTEBOOK_CODE)));
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  jupyter = startJupyter(root, port, token);
  await jupyter.ready;
  jupyter.url = `http://127.0.0.1:${port}/lab/tree/crossfilter.ipynb?token=${token}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
  if (jupyter?.proc.exitCode === null) {
    const exited = new Promise((resolve) => jupyter.proc.on("exit", resolve));
    process.kill(-jupyter.proc.pid, "SIGTERM");
    await exited;
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

test("a brush dragged in JupyterLab gives vega.js's counts, with aggregates on the wire and nothing off loopback", { timeout: HANG_GUARD_MS }, async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(HANG_GUARD_MS / 2);
  const offLoopback = [];
  await context.route("**/*", (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
    offLoopback.push(route.request().url());
    return route.abort();
  });
  const frames = [];
  let dragging = false;
  page.on("websocket", (ws) => {
    ws.on("framereceived", ({ payload }) => {
      const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
      if (dragging && bytes.toString("latin1").includes("comm_msg")) frames.push(bytes.length);
    });
  });

  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  await page.goto(jupyter.url);
  // The kernel is up (the status bar says so) before the notebook runs.
  await shownOrShot(page, page.getByText(/\| Idle$/).waitFor());
  await page.getByRole("menuitem", { name: "Run", exact: true }).click();
  await page.getByRole("menuitem", { name: "Run All Cells", exact: true }).click();
  const widget = page.locator(".vegalake-widget[data-vegalake-ready='true']");
  await shownOrShot(page, widget.waitFor());

  // Drag across the middle of the first view's plot.
  const plot = await widget.locator("g.role-scope path.background").first().boundingBox();
  assert.ok(plot, "the first view's plot area is drawn");
  const y = plot.y + plot.height / 2;
  dragging = true;
  await page.mouse.move(plot.x + plot.width * 0.3, y);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(plot.x + plot.width * (0.3 + 0.03 * i), y);
  await page.mouse.up();

  // Settled: something was sent, nothing pending or in flight, and no error.
  await page.waitForFunction(() => {
    const client = document.querySelector(".vegalake-widget").vegalake;
    const s = client.session;
    return s.lastSent > 0 && s.inFlight === null && s.pending.size === 0 && s.waiting === null;
  });
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
  const truth = await vegaTruth(root, state.store);
  for (const { name, rows } of state.datasets) {
    const expected = truth.data(name);
    const columns = Object.keys(rows[0] ?? expected[0] ?? {});
    assert.deepEqual(rowsText(rows, columns), rowsText(expected, columns), `dataset ${name} equals vega.js's`);
  }
  const filtered = state.datasets.filter(({ rows }) => rows.some((r) => "__count" in r));
  assert.ok(filtered.length >= 2, "the brushed views' counts were compared");
  const totals = filtered.map(({ rows }) => rows.reduce((n, r) => n + r.__count, 0));
  const brushed = totals.filter((t) => t > 0 && t < ROWS);
  assert.ok(brushed.length >= 2, `the brush selects some rows but not all in the other views (${totals})`);

  // Aggregates only: 3 histograms of at most 20 bins, against 1M rows of raw data.
  assert.ok(frames.length > 0, "answers came over the comm");
  assert.ok(Math.max(...frames) < 16_000, `a comm message is ${Math.max(...frames)} B`);
  assert.deepEqual(offLoopback, []);
  await context.close();
});
