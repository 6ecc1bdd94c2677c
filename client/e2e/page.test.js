// The client bundle (dist/vegalake-client.js, what pages load) in a plain page
// in chromium, no kernel: it renders the recorded crossfilter's client spec with
// vega-embed, the test brushes it, the bundle's messages go to a transport that
// replays the recorded server answers (test/fixtures/crossfilter.json), and the
// views must then equal vega.js running the whole chart for the same brush. The
// page is served from 127.0.0.1; nothing else is reachable.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { View, parse } from "vega";
import { CHROMIUM_FLAGS } from "./lab.js";

const fixture = JSON.parse(readFileSync(new URL("../test/fixtures/crossfilter.json", import.meta.url)));
const bundle = readFileSync(new URL("../dist/vegalake-client.js", import.meta.url));

// The page: the bundle, and a transport whose answers the test hands over.
const PAGE = `<!doctype html><html><body><div id="chart"></div>
<script type="module">
import * as client from "/vegalake-client.js";
const fixture = await (await fetch("/fixture.json")).json();
let deliver = null;
window.sent = [];
const transport = {
  send: (message) => window.sent.push(message),
  onMessage: (handler) => { deliver = handler; },
};
window.answer = async (i) => {
  const step = fixture.steps[i];
  const buffers = step.buffers.map((b) => Uint8Array.from(atob(b), (c) => c.charCodeAt(0)));
  return (await deliver(step.answer, buffers.map((b) => new DataView(b.buffer)))) !== null;
};
window.chart = await client.render(document.getElementById("chart"), { spec: fixture.client, plan: fixture.plan, transport, embedOptions: { renderer: "svg" } });
</script></body></html>`;

let server, browser, origin;

before(async () => {
  const files = { "/": ["text/html", PAGE], "/vegalake-client.js": ["text/javascript", bundle], "/fixture.json": ["application/json", JSON.stringify(fixture)] };
  server = createServer((request, response) => {
    const [type, body] = files[request.url] ?? ["text/plain", null];
    response.writeHead(body === null ? 404 : 200, { "content-type": type }).end(body ?? "not found");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: process.env.VEGALAKE_CHROMIUM || "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve) ?? resolve());
});

function rowsText(rows, columns) {
  return rows.map((row) => JSON.stringify(columns.map((c) => row[c] ?? null))).sort();
}

test("the bundle in a plain page replays the recorded answers into vega.js's views", { timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  const offOrigin = [];
  await page.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : (offOrigin.push(route.request().url()), route.abort())));
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(origin);
  await page.waitForFunction(() => window.chart?.view);
  assert.ok(await page.locator("#chart svg").count(), "vega-embed drew the chart");

  const whole = new View(parse(fixture.whole), { renderer: "none" });
  await whole.runAsync();
  for (const [i, step] of fixture.steps.entries()) {
    const store = step.request.find((c) => c.name === "brush_store").value;
    await page.evaluate((store) => window.chart.view.data("brush_store", store).runAsync().then(() => undefined), store);
    await page.waitForFunction((n) => window.sent.length === n, i + 1);
    assert.equal(await page.evaluate((i) => window.sent[i].seq, i), step.answer.seq);
    assert.ok(await page.evaluate((i) => window.answer(i), i), `answer ${i + 1} applied`);
    whole.data("brush_store", structuredClone(store));
    await whole.runAsync();
    for (const variable of fixture.plan.server_to_client.filter((v) => v.namespace === "data")) {
      const ours = await page.evaluate((name) => JSON.parse(JSON.stringify(window.chart.view.data(name))), variable.name);
      const truth = whole.data(variable.name);
      const columns = Object.keys(ours[0] ?? truth[0] ?? {});
      assert.deepEqual(rowsText(ours, columns), rowsText(truth, columns), `brush ${i + 1}: dataset ${variable.name}`);
    }
  }
  assert.equal(await page.locator(".vegalake-error").count(), 0);
  assert.deepEqual(errors, []);
  assert.deepEqual(offOrigin, []);
  await page.close();
});
