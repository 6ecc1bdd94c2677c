#!/usr/bin/env node
// Writes what the official Vega runtime computes for a spec: every top-level dataset
// and signal, in the JSON shape of `vegalake eval`, plus the Vega spec itself (compiled
// first when the input is Vega-Lite). The conformance suite's expected files are
// produced by this script (see regenerate.sh) and committed, so the conformance tests
// never need Node.
//
//   node expect.mjs SPEC.json [--data-dir DIR] [--timezone TZ] [--set F] [--store F]
//
// A spec may carry its own options in `usermeta.vegalake`: `timezone`, `set`
// ({signal: value}) and `store` ({dataset: rows}); flags win over them.
import fs from 'node:fs';

const argv = process.argv.slice(2);
const flags = {};
const positional = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith('--')) flags[argv[i].slice(2)] = argv[++i];
  else positional.push(argv[i]);
}
const input = JSON.parse(fs.readFileSync(positional[0], 'utf8'));
const meta = input.usermeta?.vegalake || {};
// The zone must be set before any date code runs.
process.env.TZ = flags.timezone || meta.timezone || 'UTC';
const { toVega, openView, apply, snapshot, defaultDataDir } = await import('./vega-run.mjs');

const spec = await toVega(input);
// vega.parse mutates inline values (format.parse): keep the spec as given.
const pristine = JSON.parse(JSON.stringify(spec));
const dataDir = flags['data-dir'] || defaultDataDir;
const read = (f) => (f ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined);
try {
  // A spec whose expressions throw (vega.js stops the dataflow) has no expected output.
  const { view, run } = await openView(spec, dataDir);
  await apply(view, run, spec, { set: read(flags.set) || meta.set || {}, store: read(flags.store) || meta.store || {} });
  process.stdout.write(JSON.stringify({ spec: pristine, ...snapshot(view, spec) }) + '\n');
  // A timer (an animation's clock) would keep the process alive.
  view.finalize();
} catch (e) {
  console.error(String(e?.stack || e));
  process.exit(1);
}
