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

/** The dataflow operator holding a signal's value or a dataset's rows. */
function operatorOf(view, { namespace, name, scope = [] }) {
  const context = contextAt(view, scope);
  const op = namespace === "signal" ? context.signals?.[name] : context.data?.[name]?.values;
  if (!op) throw new Error(`the chart has no ${namespace === "signal" ? "signal" : "dataset"} '${name}' at scope [${scope.join(", ")}]`);
  return op;
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
    const context = contextAt(view, change.scope);
    if (change.namespace === "signal") {
      const op = context.signals?.[change.name];
      if (!op) throw new Error(`the chart has no signal '${change.name}' at scope [${change.scope.join(", ")}]`);
      view.update(op, change.value);
    } else {
      const dataset = context.data?.[change.name];
      if (!dataset) throw new Error(`the chart has no dataset '${change.name}' at scope [${change.scope.join(", ")}]`);
      dataset.modified = true;
      view.pulse(dataset.input, changeset().remove(truthy).insert(change.value));
    }
  }
  await view.runAsync();
}
