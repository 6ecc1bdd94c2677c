// Brush-to-redraw latency of the widget in a real browser (not a test): JupyterLab
// and chromium as in jupyterlab.test.js, the crossfilter over ROWS rows, DRAGS
// mouse drags on the first view. For each drag: from the mouse button's release
// to the view's having drawn the answer to the last update (debounce, comm,
// kernel, Arrow decoding, vega's redraw). Beside it, in the same run,
// ChartState.update alone over the same rows and the same brushes, in a Python
// process of its own.
//
//   VEGALAKE_JUPYTER=/path/to/venv/bin/jupyter node client/e2e/bench.js [ROWS...] [--drags N]

import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chartCode, dragBrush, openLab, runNotebook, settled } from "./lab.js";

const args = process.argv.slice(2);
const dragsAt = args.indexOf("--drags");
const DRAGS = dragsAt >= 0 ? Number(args.splice(dragsAt, 2)[1]) : 50;
const SIZES = args.length ? args.map(Number) : [1_000_000, 10_000_000];
const JUPYTER = process.env.VEGALAKE_JUPYTER;
const GUARD_MS = 30 * 60 * 1000;

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

/** Brushes spread over the view: start and width vary, some reversed. */
function brushes(count) {
  return Array.from({ length: count }, (_, i) => {
    const from = 0.05 + 0.6 * ((i * 0.618034) % 1);
    const width = 0.08 + 0.3 * ((i * 0.414214) % 1);
    return i % 5 === 4 ? [from + width, from] : [from, from + width];
  });
}

async function inBrowser(rows) {
  const lab = await openLab({ jupyter: JUPYTER, chromiumPath: process.env.VEGALAKE_CHROMIUM, rows, truth: false });
  try {
    const frames = [];
    let brushing = false;
    const onFrame = (bytes) => {
      if (brushing && bytes.toString("latin1").includes("comm_msg")) frames.push(bytes.length);
    };
    const { page, widget } = await runNotebook(lab, { artifacts: tmpdir(), timeout: GUARD_MS, onFrame });
    // The time, in the page, each answer was drawn.
    await page.evaluate(() => {
      const session = document.querySelector(".vegalake-widget").vegalake.session;
      window.__vegalakeBench = { applied: 0 };
      const apply = session.apply;
      session.apply = async (changes) => {
        await apply(changes);
        window.__vegalakeBench.applied = performance.now();
      };
    });
    brushing = true;
    const latencies = [];
    const stores = [];
    let sent = 0;
    for (const [from, to] of brushes(DRAGS)) {
      await dragBrush(page, widget, from, to);
      // The release, in the page's clock (one round trip after the mouse event).
      const released = await page.evaluate(() => performance.now());
      sent = await page.evaluate(() => document.querySelector(".vegalake-widget").vegalake.session.lastSent);
      await settled(page, sent);
      const { applied } = await page.evaluate(() => window.__vegalakeBench);
      // A drag whose last move changed nothing sends nothing after the release.
      if (applied > released) latencies.push(applied - released);
      stores.push(await widget.evaluate((el) => JSON.parse(JSON.stringify(el.vegalake.view.data("brush_store")))));
    }
    return { latencies, stores, updates: sent, frames };
  } finally {
    await lab.close();
  }
}

/** ChartState.update alone over the same rows and brushes (milliseconds). */
function chartStateAlone(rows, stores) {
  const python = join(dirname(JUPYTER), "python");
  const code = `${chartCode(rows)}
import json, sys, time
state = vl.runtime.open_chart(vl._altair._chart_to_vega(chart), interactivity="server")
out = []
for store in json.load(sys.stdin):
    start = time.perf_counter()
    state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": store}])
    out.append((time.perf_counter() - start) * 1000)
print(json.dumps(out))
`;
  const run = spawnSync(python, ["-c", code], { input: JSON.stringify(stores), encoding: "utf8", maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`ChartState run failed: ${run.stderr.slice(-500)}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1));
}

console.log(`${DRAGS} drags per size; milliseconds; browser: mouse release to the answer drawn (drags that sent an update after it); comm: bytes per answer frame`);
console.log(`${"rows".padStart(11)} ${"browser p50".padStart(12)} ${"p95".padStart(8)} ${"ChartState p50".padStart(15)} ${"p95".padStart(8)} ${"updates".padStart(8)} ${"comm max B".padStart(11)}`);
for (const rows of SIZES) {
  const browser = await inBrowser(rows);
  const alone = chartStateAlone(rows, browser.stores);
  const f = (v) => v.toFixed(1).padStart(8);
  console.log(
    `${rows.toLocaleString("en").padStart(11)} ${f(quantile(browser.latencies, 0.5)).padStart(12)} ${f(quantile(browser.latencies, 0.95))} ` +
      `${f(quantile(alone, 0.5)).padStart(15)} ${f(quantile(alone, 0.95))} ${String(browser.updates).padStart(8)} ${String(Math.max(...browser.frames)).padStart(11)}  (${browser.latencies.length} drags timed)`,
  );
}
