#!/usr/bin/env node
// Expected outputs of the lake suite (integration-tests/lake): each case's spec run
// by vega.js over the rows its table holds. The tables are built by the Rust test
// from datasets/data/flights-200k.arrow: rows [2000*d, 2000*d + 2000) form day d
// (the partition column). Here the same rows are derived on their own from the Arrow
// file, so a table written wrongly (a partition mislabeled, a version with the wrong
// files) makes the test fail.
//
//   node lake-expect.mjs   (writes integration-tests/lake/expected/*.json)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.TZ = 'UTC';
const here = path.dirname(fileURLToPath(import.meta.url));
const lake = path.join(here, '..', 'lake');
const { openView, snapshot } = await import('./vega-run.mjs');
const { tableFromIPC } = await import('apache-arrow');

const table = tableFromIPC(fs.readFileSync(path.join(here, '..', 'datasets', 'data', 'flights-200k.arrow')));
const all = [];
for (let i = 0; i < table.numRows; i++) {
  const r = table.get(i).toJSON();
  all.push({ delay: r.delay, distance: r.distance, time: r.time, day: Math.floor(i / 2000) });
}

const cases = JSON.parse(fs.readFileSync(path.join(lake, 'cases.json'), 'utf8'));
for (const c of cases) {
  const spec = JSON.parse(fs.readFileSync(path.join(lake, `${c.spec}.vg.json`), 'utf8'));
  const [lo, hi] = c.days;
  for (const d of spec.data) {
    if (typeof d.url === 'string' && d.url.startsWith('table://')) {
      d.values = all.filter((r) => r.day >= lo && r.day < hi).map((r) => ({ ...r }));
      delete d.url;
    }
  }
  const { view } = await openView(spec, here);
  const out = snapshot(view, spec);
  const file = path.join(lake, 'expected', `${c.spec}@${c.table.replace(/[?=]/g, '_')}.json`);
  fs.writeFileSync(file, JSON.stringify({ case: c, datasets: out.datasets }) + '\n');
}
console.log(`wrote ${cases.length} lake expectations`);
