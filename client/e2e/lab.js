// The pieces of a JupyterLab session in a real browser, shared by the widget's
// end-to-end test (jupyterlab.test.js) and its latency benchmark (bench.js):
// the crossfilter notebook, JupyterLab in a process group of its own, Debian's
// chromium with nothing leaving loopback, and the widget's settled state.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

// Headless Chromium as root, with nothing phoning home (measured on this machine).
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Python that builds the crossfilter's frame `df` (`rows` rows, seeded) and
 * `chart`, three brushable histograms over it; the notebook and the
 * benchmark's ChartState run share it. */
export function chartCode(rows) {
  return `
import altair as alt
import numpy as np
import pandas as pd
import vegalake as vl

vl.enable()
n = ${rows}
rng = np.random.default_rng(11)
df = pd.DataFrame({
    "delay": np.round(rng.normal(10, 25, n), 1),
    "distance": np.round(rng.uniform(0, 3000, n)),
    "hour": rng.integers(0, 24, n).astype("int64"),
})
brush = alt.selection_interval(encodings=["x"], name="brush")

# Altair's crossfilter: each view brushable, its bars in grey under the bars the
# brush selects.
def view(field):
    base = alt.Chart(df).mark_bar().encode(x=alt.X(field, bin=alt.Bin(maxbins=20)), y="count()").properties(width=220, height=140)
    return base.encode(color=alt.value("#ddd")).add_params(brush) + base.transform_filter(brush)

chart = alt.hconcat(view("delay"), view("distance"), view("hour"))
`;
}

/** The notebook's code: the chart as a widget; with `truth`, the rows and the
 * whole Vega spec are written beside it (for the test's vega.js run). */
function crossfilterCode(rows, truth) {
  const written = `
import json
import pyarrow as pa
table = pa.Table.from_pandas(df, preserve_index=False)
with pa.OSFile("rows.arrow", "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
    writer.write_table(table)
with open("whole.vg.json", "w") as f:
    json.dump(vl._altair._chart_to_vega(chart), f)
`;
  return `${chartCode(rows)}${truth ? written : ""}
widget = vl.ChartWidget(chart, embed_options={"renderer": "svg"})
widget
`;
}

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
function startJupyter(jupyter, root, port, token) {
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
  const proc = spawn(jupyter, args, {
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

/**
 * JupyterLab serving the crossfilter notebook, and a headless chromium.
 * `close()` stops both and removes the notebook's directory.
 */
export async function openLab({ jupyter, chromiumPath = "/usr/bin/chromium", rows, truth }) {
  if (!jupyter) throw new Error("set VEGALAKE_JUPYTER to a jupyter executable whose environment has vegalake[widget] and jupyterlab");
  const root = mkdtempSync(join(tmpdir(), "vegalake-lab-"));
  // No "news" prompt over the notebook (JupyterLab would fetch it from the web).
  mkdirSync(join(root, ".jupyter", "labconfig"), { recursive: true });
  const disabled = { disabledExtensions: { "@jupyterlab/apputils-extension:announcements": true } };
  writeFileSync(join(root, ".jupyter", "labconfig", "page_config.json"), JSON.stringify(disabled));
  writeFileSync(join(root, "crossfilter.ipynb"), JSON.stringify(notebook(crossfilterCode(rows, truth))));
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const server = startJupyter(jupyter, root, port, token);
  await server.ready;
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_FLAGS });
  return {
    root,
    browser,
    url: `http://127.0.0.1:${port}/lab/tree/crossfilter.ipynb?token=${token}`,
    async close() {
      await browser.close();
      if (server.proc.exitCode === null) {
        const exited = new Promise((resolve) => server.proc.on("exit", resolve));
        process.kill(-server.proc.pid, "SIGTERM");
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Awaits `step`; when it fails, keeps a screenshot of where the page stopped. */
export async function shownOrShot(page, artifacts, step) {
  try {
    return await step;
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "widget-crossfilter-failed.png") });
    throw e;
  }
}

/**
 * Opens the notebook in a fresh browser context, runs it, and waits for the
 * widget to render. Requests off loopback are refused and listed in
 * `offLoopback`; `onFrame(bytes)` sees each websocket frame received.
 */
export async function runNotebook(lab, { artifacts, timeout, onFrame = () => {} }) {
  const context = await lab.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  const offLoopback = [];
  await context.route("**/*", (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
    offLoopback.push(route.request().url());
    return route.abort();
  });
  page.on("websocket", (ws) => {
    ws.on("framereceived", ({ payload }) => onFrame(typeof payload === "string" ? Buffer.from(payload) : payload));
  });
  await page.goto(lab.url);
  // The kernel is up (the status bar says so) before the notebook runs.
  await shownOrShot(page, artifacts, page.getByText(/\| Idle$/).waitFor());
  await page.getByRole("menuitem", { name: "Run", exact: true }).click();
  await page.getByRole("menuitem", { name: "Run All Cells", exact: true }).click();
  const widget = page.locator(".vegalake-widget[data-vegalake-ready='true']");
  await shownOrShot(page, artifacts, widget.waitFor());
  return { context, page, widget, offLoopback };
}

/** Drags the brush with the mouse across the first view, from and to fractions of its width. */
export async function dragBrush(page, widget, from, to, moves = 10) {
  // The mouse reaches only what the viewport shows (a long cell pushes the output down).
  await widget.scrollIntoViewIfNeeded();
  const plot = await widget.locator("g.role-scope path.background").first().boundingBox();
  if (!plot) throw new Error("the first view's plot area is not drawn");
  const y = plot.y + plot.height / 2;
  await page.mouse.move(plot.x + plot.width * from, y);
  await page.mouse.down();
  for (let i = 1; i <= moves; i++) await page.mouse.move(plot.x + plot.width * (from + ((to - from) * i) / moves), y);
  await page.mouse.up();
}

/** Waits until the client has sent `sent` updates and applied the last answer. */
export async function settled(page, sent = 1) {
  await page.waitForFunction((sent) => {
    const s = document.querySelector(".vegalake-widget").vegalake.session;
    return s.lastSent >= sent && s.inFlight === null && s.pending.size === 0 && s.waiting === null;
  }, sent);
}
