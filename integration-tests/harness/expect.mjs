#!/usr/bin/env node
// Writes what the official Vega runtime computes for a spec: every top-level dataset
// and signal, in the JSON shape of `vegalake eval`, plus the Vega spec itself (compiled
// first when the input is Vega-Lite). The conformance suite's expected files are
// produced by this script (see regenerate.sh) and committed, so the Rust tests never
// need Node.
//
//   node expect.mjs SPEC.json [--data-dir DIR] [--timezone TZ] [--set F] [--store F]
//
// A spec may carry its own options in `usermeta.vegalake`: `timezone`, `set`
// ({signal: value}) and `store` ({dataset: rows}); flags win over them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const flags = {};
const positional = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith('--')) flags[argv[i].slice(2)] = argv[++i];
  else positional.push(argv[i]);
}
let spec = JSON.parse(fs.readFileSync(positional[0], 'utf8'));
const meta = spec.usermeta?.vegalake || {};
// The zone must be set before any date code runs.
process.env.TZ = flags.timezone || meta.timezone || 'UTC';
const here = path.dirname(fileURLToPath(import.meta.url));
const vega = await import('vega');

if ((spec.$schema || '').includes('vega-lite')) {
  const vl = await import('vega-lite');
  spec = vl.compile(spec).spec;
}
// vega.parse mutates inline values (format.parse): keep the spec as given.
const pristine = JSON.parse(JSON.stringify(spec));
const dataDir = flags['data-dir'] || path.join(here, 'node_modules', 'vega-datasets');

// Vega has no Parquet reader: read Parquet with hyparquet and inline the rows.
const { default: arrowReader } = await import('vega-loader-arrow');
vega.formats('arrow', arrowReader);
const { parquetReadObjects } = await import('hyparquet');
const { compressors } = await import('hyparquet-compressors');
async function inlineParquet(scope) {
  for (const d of scope.data || []) {
    if (typeof d.url !== 'string' || !(d.format?.type === 'parquet' || d.url.endsWith('.parquet'))) continue;
    const buf = fs.readFileSync(path.resolve(dataDir, d.url));
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const rows = await parquetReadObjects({ file, compressors });
    for (const r of rows) for (const k of Object.keys(r)) if (typeof r[k] === 'bigint') r[k] = Number(r[k]);
    d.values = rows;
    delete d.url;
    delete d.format;
  }
  for (const m of scope.marks || []) await inlineParquet(m);
}
await inlineParquet(spec);

const loader = vega.loader({ baseURL: dataDir + '/', mode: 'file' });
const view = new vega.View(vega.parse(spec), { renderer: 'none', loader });
// A spec whose expressions throw (vega.js stops the dataflow) has no expected output.
const fail = (e) => { console.error(String(e?.stack || e)); process.exit(1); };
view.logger({ level: () => 0, error: fail, warn: () => {}, info: () => {}, debug: () => {} });
await view.runAsync().catch(fail);
const read = (f) => (f ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined);
const stores = read(flags.store) || meta.store || {};
const sets = read(flags.set) || meta.set || {};
for (const [name, rows] of Object.entries(stores)) view.data(name, rows);
for (const [name, value] of Object.entries(sets)) view.signal(name, value);
if (Object.keys(stores).length + Object.keys(sets).length) await view.runAsync().catch(fail);

// Dates as epoch ms, non-finite numbers as strings, functions with properties
// (a bin signal) as plain objects, scenegraph items dropped.
function plain(x, depth = 0) {
  if (x instanceof Date) return x.getTime();
  if (x === undefined) return null;
  if (typeof x === 'number') return Number.isFinite(x) ? x : String(x);
  if (typeof x === 'function') {
    const keys = Object.keys(x);
    return keys.length ? Object.fromEntries(keys.map((k) => [k, plain(x[k], depth + 1)])) : null;
  }
  if (x === null || typeof x !== 'object') return x;
  if (depth > 16 || /Item$|^Scenegraph$|^View$/.test(x.constructor?.name || '')) return null;
  if (Array.isArray(x)) return x.map((e) => plain(e, depth + 1));
  return Object.fromEntries(Object.keys(x).map((k) => [k, plain(x[k], depth + 1)]));
}

const inner = new Set();
(function walk(scope) {
  for (const m of scope.marks || []) {
    for (const d of m.data || []) inner.add(d.name);
    walk(m);
  }
})(spec);
const out = { spec: pristine, datasets: {}, signals: {} };
for (const d of spec.data || []) {
  if (!inner.has(d.name)) out.datasets[d.name] = view.data(d.name).map((r) => plain(r));
}
const state = view.getState({ data: vega.truthy, signals: vega.truthy, recurse: false });
for (const name of Object.keys(state.signals || {})) out.signals[name] = plain(view.signal(name));
process.stdout.write(JSON.stringify(out) + '\n');
