// The renderer's entry points, defined after vega and vega-lite load.
(function () {
  delete globalThis.document; // see prelude.js

  // Data must arrive inlined (pre-transformed): nothing is fetched while rendering.
  const loader = vega.loader();
  loader.load = (uri) => Promise.reject(new Error(`data "${uri}" is not inlined: rendering reads no URLs`));

  globalThis.__vegalake = {
    async svg(specText, scale) {
      __vegalakeClearTimers();
      // vega's dataflow logs an operator's error (and a failed data load, as a
      // warning) and goes on drawing; a rendered image must not hide it, so the
      // first one fails the chart.
      const errors = [];
      const text = (m) => m.map((x) => (x && x.message) || String(x)).join(' ');
      const logger = {
        level(_) { return _ === undefined ? 2 : this; },
        error(...m) { errors.push(text(m)); return this; },
        warn(...m) {
          if (m[0] === 'Loading failed') errors.push(text(m.slice(2)));
          else __vegalakeLog('warning: ' + text(m));
          return this;
        },
        info() { return this; },
        debug() { return this; },
      };
      const view = new vega.View(vega.parse(JSON.parse(specText)), { renderer: 'none', loader, logger });
      try {
        const svg = await view.toSVG(scale);
        if (errors.length) throw new Error(errors[0]);
        return svg;
      } finally {
        view.finalize();
      }
    },
    compileVegaLite(specText) {
      const warnings = [];
      const logger = {
        level(_) { return _ === undefined ? 2 : this; },
        error(...m) { throw new Error(m.join(' ')); },
        warn(...m) { warnings.push(m.join(' ')); return this; },
        info() { return this; },
        debug() { return this; },
      };
      const spec = vegaLite.compile(JSON.parse(specText), { logger }).spec;
      return JSON.stringify({ spec, warnings });
    },
  };
})();
