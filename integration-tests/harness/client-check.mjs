#!/usr/bin/env node
// Runs many Vega specs in the official Vega runtime, each in its own time zone, and
// prints {name: {datasets, signals}} (or {name: {error}}) as one JSON object. The
// pretransform test uses it to run vegalake's client specs.
//
//   node client-check.mjs MANIFEST.json [--data-dir DIR]
//
// MANIFEST: [{name, spec: PATH, timezone, set, store}]; `set` and `store` apply to
// the signals and datasets the spec still declares.
import fs from 'node:fs';

const argv = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(argv[0], 'utf8'));
const dataDirFlag = argv.indexOf('--data-dir');
const { openView, apply, snapshot, defaultDataDir } = await import('./vega-run.mjs');
const dataDir = dataDirFlag >= 0 ? argv[dataDirFlag + 1] : defaultDataDir;

const out = {};
for (const entry of manifest) {
  process.env.TZ = entry.timezone || 'UTC';
  const spec = JSON.parse(fs.readFileSync(entry.spec, 'utf8'));
  try {
    const { view, run } = await openView(spec, dataDir);
    await apply(view, run, spec, { set: entry.set || {}, store: entry.store || {} }, true);
    out[entry.name] = snapshot(view, spec);
    view.finalize();
  } catch (e) {
    out[entry.name] = { error: String(e?.message || e) };
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
