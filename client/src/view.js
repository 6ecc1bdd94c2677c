// The plan's variables in a live vega View: found in their scopes (a scope is
// the index of each enclosing group mark among its parent's group marks, which
// is the order vega's runtime creates sub-contexts in; a name resolves up the
// enclosing scopes, as in vega), watched, and set.

import { changeset, truthy } from "vega";

/** The runtime context of `scope` ([] is the root). */
export function contextAt(view, scope = []) {
  let context = view._runtime;
  for (const index of scope) {
    context = context?.subcontext?.[index];
    if (!context) throw new Error(`the chart has no group mark at scope [${scope.join(", ")}]`);
  }
  return context;
}

/** A signal's operator, or a dataset's runtime entry (`input`, `values`), in its scope. */
function entryOf(view, { namespace, name, scope = [] }) {
  const context = contextAt(view, scope);
  const entry = namespace === "signal" ? context.signals?.[name] : context.data?.[name];
  if (!entry) throw new Error(`the chart has no ${namespace === "signal" ? "signal" : "dataset"} '${name}' at scope [${scope.join(", ")}]`);
  return entry;
}

/** The dataflow operator holding a signal's value or a dataset's rows. */
function operatorOf(view, variable) {
  const entry = entryOf(view, variable);
  return variable.namespace === "signal" ? entry : entry.values;
}

/** The current value of a variable. */
export function valueOf(view, variable) {
  return operatorOf(view, variable).value;
}

/**
 * Calls `onChange(variable, value)` whenever one of `variables` changes in the
 * view. Returns a function that stops watching.
 */
export function watch(view, variables, onChange) {
  const handlers = variables.map((variable) => {
    const op = operatorOf(view, variable);
    const update = () => onChange(variable, op.value);
    view.on(op, null, update);
    return { op, update };
  });
  // view.on adds a target operator whose update is ours (as vega's own
  // addSignalListener does); stopping removes it.
  return () =>
    handlers.forEach(({ op, update }) => {
      const target = (op._targets || []).find((t) => t._update === update);
      if (target) op._targets.remove(target);
    });
}

/** Sets server values (signals and datasets, in their scopes) and re-renders. */
export async function setValues(view, changes) {
  for (const change of changes) {
    const entry = entryOf(view, change);
    if (change.namespace === "signal") {
      view.update(entry, change.value);
    } else {
      entry.modified = true;
      view.pulse(entry.input, changeset().remove(truthy).insert(change.value));
    }
  }
  await view.runAsync();
}
