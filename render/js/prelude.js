// What vega.js needs of a browser that QuickJS lacks, defined before vega loads.
// Timers run on a virtual clock: a headless render waits for nothing real, so a
// timer fires as soon as no promise job is left (the Rust side asks `fireTimer`).
(function () {
  const timers = [];
  let nextId = 1;
  let now = 0;
  globalThis.setTimeout = (fn, ms, ...args) => {
    const id = nextId++;
    timers.push({ id, at: now + Math.max(0, +ms || 0), fn, args });
    return id;
  };
  globalThis.clearTimeout = (id) => {
    const i = timers.findIndex((t) => t.id === id);
    if (i >= 0) timers.splice(i, 1);
  };
  globalThis.setInterval = () => {
    throw new Error('setInterval is not available when rendering without a browser');
  };
  globalThis.requestAnimationFrame = (fn) => setTimeout(() => fn(now), 16);
  globalThis.__vegalakeFireTimer = () => {
    if (!timers.length) return false;
    let first = 0;
    for (let i = 1; i < timers.length; i++) if (timers[i].at < timers[first].at) first = i;
    const [t] = timers.splice(first, 1);
    now = t.at;
    t.fn(...t.args);
    return true;
  };
  globalThis.__vegalakeClearTimers = () => { timers.length = 0; now = 0; };
  // vega-lite copies specs with structuredClone (plain data: objects, arrays,
  // dates, maps and sets, and cycles).
  globalThis.structuredClone = (value) => {
    const seen = new Map();
    const clone = (v) => {
      if (v === null || typeof v !== 'object') return v;
      if (seen.has(v)) return seen.get(v);
      let out;
      if (v instanceof Date) return new Date(v.getTime());
      if (v instanceof RegExp) return new RegExp(v.source, v.flags);
      if (v instanceof Map) {
        out = new Map();
        seen.set(v, out);
        v.forEach((x, k) => out.set(clone(k), clone(x)));
        return out;
      }
      if (v instanceof Set) {
        out = new Set();
        seen.set(v, out);
        v.forEach((x) => out.add(clone(x)));
        return out;
      }
      out = Array.isArray(v) ? [] : {};
      seen.set(v, out);
      for (const k of Object.keys(v)) out[k] = clone(v[k]);
      return out;
    };
    return clone(value);
  };
  // Text is measured like a browser canvas measures it, with the fonts the images
  // draw it in: vega keeps the 2D context of a canvas it creates while loading,
  // so `document` exists only until vega has loaded (entry.js removes it; vega
  // reads `document` elsewhere for DOM work a headless render must not do).
  const measure = globalThis.__vegalakeMeasure; // (family, size, weight, style, text) -> px
  const context = {
    font: '10px sans-serif',
    measureText(text) {
      // vega's font(): "[style ][variant ][weight ]SIZEpx FAMILY"
      const m = /^(.*?)([0-9.eE+-]+)px (.*)$/.exec(this.font);
      if (!m) return { width: 0 };
      const words = m[1].split(' ').filter(Boolean);
      const style = words.find((w) => w === 'italic' || w === 'oblique') || '';
      const weight = words.find((w) => /^(bold|bolder|lighter|normal|[0-9]+)$/.test(w)) || '';
      return { width: measure(m[3], +m[2], weight, style, String(text)) };
    },
    // Hit testing (view.intersect) is not part of drawing.
    beginPath() {},
    isPointInPath() { return false; },
  };
  globalThis.document = {
    createElement: (tag) => (tag === 'canvas' ? { getContext: () => context } : null),
  };
  const log = (...args) => globalThis.__vegalakeLog(args.map(String).join(' '));
  globalThis.console = { log, info: log, warn: log, error: log, debug: () => {} };
})();
