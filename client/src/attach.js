// A live vega View connected to the server half through a transport: the part of
// the client that needs no DOM (Node runs it in tests, over a headless View).

import { Session } from "./protocol.js";
import { setValues, watch } from "./view.js";

/**
 * Connects a live view to the server: every client→server variable of `plan`
 * is watched and sent (debounced); server answers are applied to the view.
 *
 * @param {import("vega").View} view
 * @param {{client_to_server: object[], server_to_client: object[]}} plan
 * @param {{send: (message: object) => void, onMessage: (handler: Function) => (void|Function)}} transport
 * @param {object} [options] `debounceMs`, `timer`, `onError(message)`, `onApplied(changes)`
 */
export function attach(view, plan, transport, options = {}) {
  const onError = options.onError || ((message) => console.error(`vegalake: ${message}`));
  const session = new Session({
    send: (message) => transport.send(message),
    apply: async (changes) => {
      await setValues(view, changes);
      options.onApplied?.(changes);
    },
    error: onError,
    debounceMs: options.debounceMs,
    timer: options.timer,
  });
  const unwatch = watch(view, plan.client_to_server || [], (variable, value) => session.change(variable, value));
  const unlisten = transport.onMessage((message, buffers) => session.receive(message, buffers));
  return {
    session,
    finalize() {
      unwatch();
      if (typeof unlisten === "function") unlisten();
    },
  };
}
