// The communication plan's message logic, apart from any view or transport:
// what the client sends, when, and which server answers it applies.
//
// Client → server: {type: "update", seq, changes: [{namespace, name, scope, value}]}
// Server → client: {type: "update", seq, changes: [...]} where a dataset's rows are
//   either `value` (JSON) or `arrow: i`, the index of an Arrow IPC buffer sent with
//   the message; or {type: "error", seq, message}.
//
// Changes are debounced (a brush drag fires a signal per mouse move) and at most
// one update is in flight: while the server works, newer changes accumulate and
// go as one update when its answer arrives, so a slow server never builds a queue
// of positions the user has already left.

import { tableFromIPC } from "@uwdata/flechette";

/** The key of a variable: its namespace, name and scope. */
export function varKey({ namespace, name, scope }) {
  return `${namespace}:${name}:${(scope || []).join(".")}`;
}

/** A value as the server reads it: dates as epoch milliseconds, no symbols or functions. */
export function plain(value) {
  return JSON.parse(
    JSON.stringify(value, function (key, v) {
      const raw = this[key];
      return raw instanceof Date ? raw.getTime() : v;
    }) ?? "null",
  );
}

/** Rows of an Arrow IPC buffer (a DataView, ArrayBuffer or Uint8Array), with
 * timestamps as epoch milliseconds, as vega's datasets hold them. The server's
 * field metadata restores what Arrow has no type for: `vegalake:json` columns
 * hold each cell's JSON text (nested or mixed values), and in
 * `vegalake:undefined` columns a null is a field the row does not have. */
export function rowsOfArrow(buffer) {
  const bytes =
    buffer instanceof Uint8Array
      ? buffer
      : ArrayBuffer.isView(buffer)
        ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
        : new Uint8Array(buffer);
  const table = tableFromIPC(bytes, { useDate: false, useBigInt: false, useProxy: false });
  const marked = (key) => new Set(table.schema.fields.filter((f) => f.metadata?.has(key)).map((f) => f.name));
  const json = marked("vegalake:json");
  const undefinedWhenNull = marked("vegalake:undefined");
  const rows = table.toArray();
  if (json.size === 0 && undefinedWhenNull.size === 0) return rows;
  return rows.map((row) => {
    const out = {};
    for (const [name, value] of Object.entries(row)) {
      if (value === null && undefinedWhenNull.has(name)) continue;
      out[name] = value !== null && json.has(name) ? JSON.parse(value) : value;
    }
    return out;
  });
}

/** Timers, injectable so that tests advance them by hand. */
export const realTimer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle),
};

export class Session {
  /**
   * @param {object} options
   * @param {(message: object) => void} options.send sends one message to the server
   * @param {(changes: object[]) => (void|Promise<void>)} options.apply shows server values
   * @param {(message: string) => void} options.error shows an error state
   * @param {number} [options.debounceMs] quiet time before changes go (default 30)
   * @param {{set: Function, clear: Function}} [options.timer]
   */
  constructor({ send, apply, error, debounceMs = 30, timer = realTimer }) {
    this.send = send;
    this.apply = apply;
    this.error = error;
    this.debounceMs = debounceMs;
    this.timer = timer;
    this.pending = new Map();
    this.waiting = null;
    this.inFlight = null;
    this.lastSent = 0;
    this.dropped = 0;
  }

  /** Records a client change; it goes after `debounceMs` without newer changes. */
  change(variable, value) {
    const { namespace, name } = variable;
    const scope = variable.scope || [];
    this.pending.set(varKey({ namespace, name, scope }), { namespace, name, scope, value: plain(value) });
    if (this.waiting !== null) this.timer.clear(this.waiting);
    this.waiting = this.timer.set(() => {
      this.waiting = null;
      this.flush();
    }, this.debounceMs);
  }

  /** Sends what is pending now, unless an update is in flight (it goes after). */
  flush() {
    if (this.inFlight !== null || this.pending.size === 0) return;
    const changes = [...this.pending.values()];
    this.pending.clear();
    this.inFlight = ++this.lastSent;
    this.send({ type: "update", seq: this.inFlight, changes });
  }

  /**
   * Handles one server message. Returns the changes applied, or null when the
   * message answers an update older than the latest sent (dropped).
   */
  async receive(message, buffers = []) {
    if (!message || typeof message.seq !== "number" || message.seq !== this.lastSent) {
      this.dropped += 1;
      return null;
    }
    this.inFlight = null;
    try {
      if (message.type === "error") {
        this.error(String(message.message));
        return null;
      }
      if (message.type !== "update" || !Array.isArray(message.changes)) {
        throw new Error(`unexpected message from the server: ${JSON.stringify(message).slice(0, 80)}`);
      }
      const changes = message.changes.map((c) => decodeChange(c, buffers));
      await this.apply(changes);
      return changes;
    } catch (e) {
      this.error(e instanceof Error ? e.message : String(e));
      return null;
    } finally {
      // Whatever the user did meanwhile goes now, as one update.
      if (this.waiting === null) this.flush();
    }
  }
}

function decodeChange(change, buffers) {
  const { namespace, name, scope = [] } = change;
  if (typeof change.arrow !== "number") return { namespace, name, scope, value: change.value };
  const buffer = buffers[change.arrow];
  if (!buffer) throw new Error(`dataset '${name}': Arrow buffer ${change.arrow} is missing from the message`);
  return { namespace, name, scope, value: rowsOfArrow(buffer) };
}
