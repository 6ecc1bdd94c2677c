// vegalake's browser client: renders a client spec and keeps it in step with the
// server half through the communication plan, over any transport
// ({send(message), onMessage(handler)}): the Jupyter widget's comm, vegalake
// serve's HTTP API, a replay of recorded messages in tests.

import embed from "vega-embed";
import { attach } from "./attach.js";

export { attach } from "./attach.js";
export { Session, plain, rowsOfArrow, varKey } from "./protocol.js";
export { contextAt, setValues, valueOf, watch } from "./view.js";

/** Clears the error state of `el` (an answer was drawn since). */
export function clearError(el) {
  el.querySelector(":scope > .vegalake-error")?.remove();
}

/** Shows an error state in `el` (the chart stays as it last was). */
export function showError(el, message) {
  let banner = el.querySelector(":scope > .vegalake-error");
  if (!banner) {
    banner = el.ownerDocument.createElement("div");
    banner.className = "vegalake-error";
    banner.setAttribute("role", "alert");
    banner.style.cssText = "color:#a00;background:#fee;border:1px solid #c99;padding:4px 8px;font:12px sans-serif;margin:4px 0";
    el.prepend(banner);
  }
  banner.textContent = `vegalake: ${message}`;
}

/**
 * Renders `spec` (a Vega client spec) in `el` with vega-embed and attaches it
 * to `transport`. Returns the view and a `finalize` that stops everything.
 */
export async function render(el, { spec, plan, transport, embedOptions = {}, debounceMs }) {
  const target = el.ownerDocument.createElement("div");
  el.append(target);
  let result;
  try {
    result = await embed(target, spec, { mode: "vega", actions: false, ...embedOptions });
  } catch (e) {
    showError(el, `the chart cannot be drawn: ${e.message}`);
    throw e;
  }
  const client = attach(result.view, plan, transport, {
    debounceMs,
    onError: (message) => showError(el, message),
    onApplied: () => clearError(el),
  });
  return {
    view: result.view,
    plan,
    session: client.session,
    finalize() {
      client.finalize();
      result.finalize();
    },
  };
}
