// A dashboard served by `vegalake serve --dashboards` (the real binary, on
// loopback), in chromium: the page loads the client bundled into the binary, a
// brush dragged with the mouse on one view sends the selection to the server, and
// the other views then hold what vega.js computes running the whole chart for that
// brush. No request leaves the server's origin. Needs VEGALAKE_BIN.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { chromium } from "playwright-core";
import { View, loader, parse } from "vega";
import { CHROMIUM_FLAGS, dragBrush } from "./lab.js";

const TOKEN = "dashboard-token-0123456789";
const datasets = fileURLToPath(new URL("../../integration-tests/datasets/", import.meta.url));
const expected = JSON.parse(readFileSync(new URL("../../integration-tests/interactions/expected/crossfilter_three_histograms.json", import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), "vegalake-dashboard-"));
let server = null;
after(() => {
  if (server) process.kill(-server.pid, "SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the server (its own process group) and resolves its address. */
async function start() {
  mkdirSync(join(dir, "dashboards"));
  // The unfiltered layer in grey, so the screenshot shows the selected rows.
  const spec = structuredClone(expected.spec);
  for (const group of spec.marks) {
    for (const mark of group.marks ?? []) if (mark.name?.endsWith("_layer_0_marks")) mark.encode.update.fill = { value: "#ddd" };
  }
  writeFileSync(join(dir, "dashboards", "crossfilter.vg.json"), JSON.stringify(spec));
  writeFileSync(join(dir, "tokens"), `${TOKEN}\n`);
  const bin = process.env.VEGALAKE_BIN;
  assert.ok(bin, "VEGALAKE_BIN names the vegalake binary (scripts/test.sh sets it)");
  const args = ["serve", "--bind", "127.0.0.1:0", "--token-file", join(dir, "tokens"), "--data-dir", datasets, "--dashboards", join(dir, "dashboards")];
  server = spawn(bin, args, { detached: true, stdio: ["ignore", "pipe", "inherit"] });
  for await (const line of createInterface({ input: server.stdout })) {
    if (line.startsWith("listening on ")) return `http://${line.slice("listening on ".length)}`;
  }
  throw new Error("vegalake serve stopped before listening");
}

function rowsText(rows, columns) {
  return rows.map((row) => JSON.stringify(columns.map((c) => row[c] ?? null))).sort();
}

test("a dashboard page brushes its crossfilter through the server", { timeout: 180_000 }, async () => {
  const origin = await start();
  const browser = await chromium.launch({ executablePath: process.env.VEGALAKE_CHROMIUM || "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const offOrigin = [];
    await page.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : (offOrigin.push(route.request().url()), route.abort())));
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const index = await page.goto(`${origin}/?token=${TOKEN}`);
    assert.equal(index.status(), 200);
    assert.ok(await page.locator('a[href^="/d/crossfilter"]').count(), "the index lists the dashboard");
    assert.equal((await page.goto(`${origin}/d/crossfilter`)).status(), 401, "a page needs the token");
    await page.goto(`${origin}/d/crossfilter?token=${TOKEN}`);
    await page.waitForFunction(() => window.chart?.view);
    const plan = await page.evaluate(() => window.chart.plan);
    const before = await page.evaluate(() => JSON.stringify(window.chart.view.data("brush_store")));
    await dragBrush(page, page.locator("#chart"), 0.2, 0.6);
    await page.waitForFunction(() => {
      const s = window.chart.session;
      return s.lastSent >= 1 && s.inFlight === null && s.pending.size === 0 && s.waiting === null;
    });
    const store = await page.evaluate(() => JSON.parse(JSON.stringify(window.chart.view.data("brush_store"))));
    assert.notEqual(JSON.stringify(store), before, "the drag made a brush");
    const whole = new View(parse(structuredClone(expected.spec)), { renderer: "none", loader: loader({ baseURL: datasets, mode: "file" }) });
    await whole.runAsync();
    whole.data("brush_store", store);
    await whole.runAsync();
    let compared = 0;
    for (const variable of plan.server_to_client.filter((v) => v.namespace === "data")) {
      const ours = await page.evaluate((name) => JSON.parse(JSON.stringify(window.chart.view.data(name))), variable.name);
      const truth = whole.data(variable.name);
      const columns = Object.keys(ours[0] ?? truth[0] ?? {});
      assert.deepEqual(rowsText(ours, columns), rowsText(truth, columns), `dataset ${variable.name}`);
      compared++;
    }
    assert.ok(compared >= 2, `${compared} datasets compared`);
    const artifacts = process.env.VEGALAKE_ARTIFACTS;
    if (artifacts) {
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, "serve-dashboard.png") });
    }
    assert.equal(await page.locator(".vegalake-error").count(), 0);
    assert.deepEqual(errors, []);
    assert.deepEqual(offOrigin, []);
  } finally {
    await browser.close();
  }
});
