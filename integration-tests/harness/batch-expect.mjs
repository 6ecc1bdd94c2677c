#!/usr/bin/env node
// Writes what vega.js computes for each chart of the batch tests: every template of
// integration-tests/batch/templates, compiled by vega-lite, drawn from each store's
// rows alone (the template's data replaced by those rows). The rows are generated
// here, deterministically, and written too; everything is committed, so the tests
// never need Node.
//
//   TZ=UTC node batch-expect.mjs      (from integration-tests/harness)
import fs from 'node:fs';
import path from 'node:path';

process.env.TZ = 'UTC';
const { toVega, openView, snapshot } = await import('./vega-run.mjs');
const here = path.dirname(new URL(import.meta.url).pathname);
const dir = path.join(here, '..', 'batch');

// 200 stores, 6 to 16 rows each, values in ranges that differ per store (so each
// key's bins differ), some values null.
function rows() {
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648);
  const out = [];
  for (let i = 0; i < 200; i++) {
    const store = `s${String(i).padStart(3, '0')}`;
    const n = 6 + ((i * 7) % 11);
    for (let j = 0; j < n; j++) {
      const day = next() % 730;
      const value = (next() % 100000) / 100 * (1 + (i % 5)) - 200;
      out.push({
        store,
        date: Date.UTC(2023, 0, 1) + day * 86400000,
        category: 'ABCD'[next() % 4],
        value: j === 3 && i % 9 === 0 ? null : Math.round(value * 100) / 100,
        units: next() % 50,
      });
    }
  }
  return out;
}

const all = rows();
fs.writeFileSync(path.join(dir, 'rows.json'), JSON.stringify(all) + '\n');
const stores = [...new Set(all.map((r) => r.store))].sort();
fs.mkdirSync(path.join(dir, 'expected'), { recursive: true });
for (const file of fs.readdirSync(path.join(dir, 'templates')).filter((f) => f.endsWith('.vl.json')).sort()) {
  const name = file.replace('.vl.json', '');
  const vega = await toVega(JSON.parse(fs.readFileSync(path.join(dir, 'templates', file), 'utf8')));
  const charts = {};
  for (const store of stores) {
    const spec = JSON.parse(JSON.stringify(vega));
    const source = spec.data.find((d) => d.url);
    delete source.url;
    if (source.format) delete source.format.type;
    source.values = all.filter((r) => r.store === store);
    const { view } = await openView(spec, dir);
    charts[`store=${store}`] = snapshot(view, spec).datasets;
    view.finalize();
  }
  fs.writeFileSync(path.join(dir, 'expected', `${name}.json`), JSON.stringify({ vega, charts }) + '\n');
  console.log(`${name}: ${stores.length} charts`);
}
