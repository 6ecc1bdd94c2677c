// The gallery `vegalake batch` writes beside its charts, opened in chromium: every
// chart's PNG shown (loaded, not broken), the pages linked. Needs the vegalake
// binary (VEGALAKE_BIN) and the batch tests' stores (integration-tests/batch).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, test } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_FLAGS } from "./lab.js";

const batchDir = new URL("../../integration-tests/batch/", import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "vegalake-gallery-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the batch gallery shows every chart in chromium", { timeout: 300_000 }, async () => {
  const bin = process.env.VEGALAKE_BIN;
  assert.ok(bin, "VEGALAKE_BIN names the vegalake binary (scripts/test.sh sets it)");
  copyFileSync(new URL("rows.json", batchDir), join(dir, "stores.json"));
  const template = readFileSync(new URL("templates/histogram.vl.json", batchDir), "utf8").replace("stores.parquet", "stores.json");
  writeFileSync(join(dir, "histogram.vl.json"), template);
  // 130 charts: two gallery pages of 100.
  const args = ["batch", "--template", "histogram.vl.json", "--by", "store", "--where", "datum.store < 's130'", "--formats", "png", "--out", "out", "--progress", "none"];
  const run = spawnSync(bin, args, { cwd: dir, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const browser = await chromium.launch({ executablePath: process.env.VEGALAKE_CHROMIUM || "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const shown = async (file) => {
      await page.goto(pathToFileURL(join(dir, "out", file)).href);
      // Lazy images load once scrolled to: load them all, then wait for each.
      await page.evaluate(() => document.querySelectorAll("img").forEach((i) => (i.loading = "eager")));
      await page.waitForFunction(() => [...document.images].every((i) => i.complete));
      return page.evaluate(() => [...document.images].map((i) => ({ src: i.getAttribute("src"), width: i.naturalWidth })));
    };
    const first = await shown("index.html");
    assert.equal(first.length, 100);
    const artifacts = process.env.VEGALAKE_ARTIFACTS;
    if (artifacts) {
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, "batch-gallery.png") });
    }
    assert.ok(await page.locator('a[href="index-2.html"]').count(), "a link to page 2");
    const second = await shown("index-2.html");
    assert.equal(second.length, 30);
    const broken = [...first, ...second].filter((i) => !(i.width > 0));
    assert.deepEqual(broken, [], "every image shown");
    assert.equal(new Set([...first, ...second].map((i) => i.src)).size, 130);
  } finally {
    await browser.close();
  }
});
