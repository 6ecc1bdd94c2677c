#!/usr/bin/env node
// What vega.js computes for a spec before and after each update of a sequence (each
// a list of {namespace: "signal"|"data", name, scope, value}, applied on one view
// in order): {spec: the Vega spec, steps: [{datasets, signals}, ...]}, the first step
// being the initial state. Datasets of over 300 rows appear as row counts. The interaction suite's expected files come from here.
//
//   node replay-expect.mjs SPEC.json UPDATES.json [--data-dir DIR] [--timezone TZ]
import fs from 'node:fs';

const argv = process.argv.slice(2);
const flag = (name) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);
process.env.TZ = flag('--timezone') || 'UTC';
const { toVega, openView, snapshot, defaultDataDir } = await import('./vega-run.mjs');

const spec = await toVega(JSON.parse(fs.readFileSync(argv[0], 'utf8')));
const pristine = JSON.parse(JSON.stringify(spec));
const updates = JSON.parse(fs.readFileSync(argv[1], 'utf8'));
// Large datasets (raw sources) are kept as row counts: the files stay reviewable.
const LARGE = 300;
function compact(snap) {
  const counts = {};
  for (const [name, rows] of Object.entries(snap.datasets)) {
    if (rows.length > LARGE) {
      counts[name] = rows.length;
      delete snap.datasets[name];
    }
  }
  return { ...snap, counts };
}
try {
  const { view, run } = await openView(spec, flag('--data-dir') || defaultDataDir);
  const steps = [compact(snapshot(view, spec))];
  for (const update of updates) {
    for (const u of update) {
      if ((u.scope || []).length) throw new Error(`scoped update of ${u.name}: only top-level names are applied here`);
      if (u.namespace === 'data') view.data(u.name, u.value);
      else view.signal(u.name, u.value);
    }
    await run();
    steps.push(compact(snapshot(view, spec)));
  }
  process.stdout.write(JSON.stringify({ spec: pristine, steps }) + '\n');
} catch (e) {
  console.error(String(e?.stack || e));
  process.exit(1);
}
