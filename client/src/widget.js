// The Jupyter widget's front end (anywidget): the chart's client spec and
// communication plan come as model traits, updates travel as custom comm
// messages, and datasets as Arrow IPC buffers beside them. Nothing waits on the
// kernel or the browser before the first render: the spec already holds the
// server's results.

import { render as renderChart, showError } from "./index.js";

function transportOf(model) {
  return {
    send: (message) => model.send(message),
    onMessage(handler) {
      model.on("msg:custom", handler);
      return () => model.off("msg:custom", handler);
    },
  };
}

async function render({ model, el }) {
  el.classList.add("vegalake-widget");
  try {
    const chart = await renderChart(el, {
      spec: model.get("spec"),
      plan: model.get("plan"),
      transport: transportOf(model),
      debounceMs: model.get("debounce_ms"),
      embedOptions: model.get("embed_options"),
    });
    // For the console and for tests: the view and the session's state.
    el.vegalake = chart;
    el.dataset.vegalakeReady = "true";
    return () => chart.finalize();
  } catch (e) {
    showError(el, e.message);
  }
}

export default { render };
