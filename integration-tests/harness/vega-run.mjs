// Runs a spec in the official Vega runtime and returns every top-level dataset and
// signal in the JSON shape of `vegalake eval`. Shared by the harness scripts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const defaultDataDir = path.join(here, 'node_modules', 'vega-datasets');

const vega = await import('vega');
const { default: arrowReader } = await import('vega-loader-arrow');
vega.formats('arrow', arrowReader);
const { parquetReadObjects } = await import('hyparquet');
const { compressors } = await import('hyparquet-compressors');

/// Vega-Lite is compiled to Vega; Vega specs are returned as they are.
export async function toVega(spec) {
  if ((spec.$schema || '').includes('vega-lite')) {
    const vl = await import('vega-lite');
    return vl.compile(spec).spec;
  }
  return spec;
}

// Vega has no Parquet reader: read Parquet with hyparquet and inline the rows.
async function inlineParquet(scope, dataDir) {
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
  for (const m of scope.marks || []) await inlineParquet(m, dataDir);
}

// Dates as epoch ms, non-finite numbers as strings, functions with properties
// (a bin signal) as plain objects, scenegraph items dropped.
export function plain(x, depth = 0) {
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
  // vega-selections caches a field's accessor on the selection's field objects
  // (`getter`) once a tuple is tested: its state, not the signal's value.
  const keys = Object.keys(x).filter((k) => !(k === 'getter' && typeof x[k] === 'function'));
  return Object.fromEntries(keys.map((k) => [k, plain(x[k], depth + 1)]));
}

/// Opens a view of a Vega spec (the zone must be set in process.env.TZ first).
export async function openView(vgSpec, dataDir) {
  const spec = JSON.parse(JSON.stringify(vgSpec));
  await inlineParquet(spec, dataDir);
  const loader = vega.loader({ baseURL: dataDir + '/', mode: 'file' });
  const view = new vega.View(vega.parse(spec), { renderer: 'none', loader });
  let failure = null;
  view.logger({ level: () => 0, error: (e) => { failure = failure || e; }, warn: () => {}, info: () => {}, debug: () => {} });
  const run = async () => {
    await view.runAsync();
    if (failure) throw failure;
  };
  await run();
  return { view, run };
}

/// Applies dataset contents and signal values (those the spec declares at the top
/// level; others are ignored when `lenient`), then runs the view again.
export async function apply(view, run, spec, { set = {}, store = {} }, lenient = false) {
  const data = new Set((spec.data || []).map((d) => d.name));
  const signals = new Set((spec.signals || []).map((s) => s.name));
  let changed = 0;
  for (const [name, rows] of Object.entries(store)) {
    if (lenient && !data.has(name)) continue;
    view.data(name, rows);
    changed++;
  }
  for (const [name, value] of Object.entries(set)) {
    if (lenient && !signals.has(name)) continue;
    view.signal(name, value);
    changed++;
  }
  if (changed) await run();
}

/// Every top-level dataset (not redeclared in a group) and signal of a view.
export function snapshot(view, spec) {
  const inner = new Set();
  (function walk(scope) {
    for (const m of scope.marks || []) {
      for (const d of m.data || []) inner.add(d.name);
      walk(m);
    }
  })(spec);
  const out = { datasets: {}, signals: {} };
  for (const d of spec.data || []) {
    if (!inner.has(d.name)) out.datasets[d.name] = view.data(d.name).map((r) => plain(r));
  }
  const state = view.getState({ data: vega.truthy, signals: vega.truthy, recurse: false });
  for (const name of Object.keys(state.signals || {})) out.signals[name] = plain(view.signal(name));
  return out;
}
