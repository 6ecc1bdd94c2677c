"""The Jupyter widget: a chart whose interactions the kernel answers.

``ChartWidget(chart)`` opens the chart's server state (:class:`ChartState`) in the
kernel and shows its client spec with vegalake's browser client (``client/``,
bundled in the wheel; nothing is fetched at run time). The client sends what the
user changes (a brush, a slider) as comm messages; the kernel answers with the
datasets and signals that changed, datasets as Arrow IPC buffers.

The widget renders from its spec alone: nothing waits for the browser (its time
zone, its size) before the first picture, so it also initialises in headless
runs.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

import anywidget
import pyarrow as pa
import traitlets

from . import _altair, _html
from ._runtime import Runtime
from ._vegalake import DataError, VegalakeError, rows_to_arrow_ipc

log = logging.getLogger("vegalake")

Key = tuple[str, str, tuple[int, ...]]


def _key(change: dict) -> Key:
    return (change["namespace"], change["name"], tuple(change.get("scope") or ()))


def _bundle() -> str:
    try:
        return resources.files("vegalake").joinpath("static", "vegalake-widget.js").read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise RuntimeError("vegalake: the widget's bundle is missing from the package (build it with scripts/python.sh)") from e


class ChartWidget(anywidget.AnyWidget):
    """An Altair chart (or a Vega-Lite or Vega spec) as a live Jupyter widget.

    Interactions run in the kernel on vegalake's runtime: a brush over a 100M-row
    table moves like one over 1,000 rows, and only what the marks need crosses
    to the browser.

    Parameters
    ----------
    chart:
        An Altair chart, or a Vega-Lite or Vega spec (dict).
    runtime:
        The runtime that answers (default: the one ``vl.enable`` made).
    debounce_ms:
        The browser's quiet time before it sends a change (a brush drag fires
        one per mouse move).
    embed_options:
        vega-embed's options (``{"renderer": "svg"}``...).

    Attributes
    ----------
    params:
        The chart's top-level parameters (sliders, selections...) as the browser
        last set them, by name; observable (``widget.observe(f, "params")``).
    selections:
        The selection parameters among them: each one's value (for an interval,
        the brushed range per field; empty when nothing is selected).
    error:
        The last error an update raised ("" when none); the browser shows it too.
    """

    _esm = traitlets.Unicode().tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)
    plan = traitlets.Dict().tag(sync=True)
    debounce_ms = traitlets.Int(30).tag(sync=True)
    embed_options = traitlets.Dict().tag(sync=True)
    params = traitlets.Dict()
    selections = traitlets.Dict()
    error = traitlets.Unicode("")

    def __init__(
        self,
        chart: Any,
        *,
        runtime: Runtime | None = None,
        debounce_ms: int = 30,
        embed_options: dict | None = None,
        **kwargs: Any,
    ) -> None:
        vegalite = _altair.vegalite_of(chart)
        vega = _altair._vega_of_vegalite(vegalite)
        self._vega = vega
        self._state = (runtime or _altair.runtime()).open_chart(vega, local_tz=_altair.settings.local_tz, interactivity="server")
        spec = self._state.get_client_spec()
        _altair._check_row_limit(_altair._shipped_rows(spec))
        comm = self._state.get_comm_plan()
        self._to_server = {_key(v) for v in comm["client_to_server"]}
        # The chart's parameters that are top-level signals, with their first values.
        initial = {s["name"]: s.get("value") for s in spec.get("signals", []) or []}
        params = [p for p in _params(vegalite) if p["name"] in initial]
        self._selection_names = {p["name"] for p in params if "select" in p}
        # The parameters the kernel reports, beyond what the server reads.
        watched = [
            {"namespace": "signal", "name": name, "scope": []} for name in sorted({p["name"] for p in params}) if ("signal", name, ()) not in self._to_server
        ]
        # The server's datasets by (name, scope), as the client spec carries them at first.
        sent = {_key(v) for v in comm["server_to_client"]}
        self._rows = {where: rows for where, rows in _altair._shipped_values(spec).items() if ("data", *where) in sent}
        plan = {**comm, "client_to_server": comm["client_to_server"] + watched}
        super().__init__(_esm=_bundle(), spec=spec, plan=plan, debounce_ms=debounce_ms, embed_options=embed_options or {}, **kwargs)
        self.params = {p["name"]: initial[p["name"]] for p in params}
        self.selections = {name: value for name, value in self.params.items() if name in self._selection_names}
        self.on_msg(self._on_message)

    @property
    def state(self) -> Any:
        """The chart's server state (:class:`vegalake.ChartState`)."""
        return self._state

    def update(self, changes: list[dict]) -> list[dict]:
        """Applies client changes (``[{"namespace", "name", "scope", "value"}]``)
        as the browser would send them; returns the server values that changed.
        Parameters update ``params`` and ``selections``."""
        self._observe([c for c in changes if c["namespace"] == "signal" and c["name"] in self.params and not c.get("scope")])
        to_server = [c for c in changes if _key(c) in self._to_server]
        changed = self._state.update(to_server) if to_server else []
        _altair._check_row_limit({c["name"]: len(c["value"]) for c in changed if c["namespace"] == "data" and isinstance(c["value"], list)})
        for change in changed:
            if change["namespace"] == "data":
                self._rows[_key(change)[1:]] = change["value"]
        return changed

    def transformed_data(self) -> dict[str, pa.Table]:
        """The datasets the server computes for the browser, by name, in the
        current state (after the last update). A dataset whose columns mix types
        Arrow cannot hold raises :class:`vegalake.DataError` naming it."""
        out = {}
        for (name, _), rows in self._rows.items():
            table = _arrow_or_none(rows or [])
            if table is None:
                raise DataError(f"dataset '{name}': its columns mix types Arrow cannot hold (its rows as JSON: widget.state)")
            out[name] = table
        return out

    def _observe(self, changes: list[dict]) -> None:
        if not changes:
            return
        params = dict(self.params)
        for change in changes:
            params[change["name"]] = change["value"]
        self.params = params
        self.selections = {name: value for name, value in params.items() if name in self._selection_names}

    def _on_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        if not isinstance(content, dict) or content.get("type") != "update":
            return
        seq = content.get("seq")
        try:
            changed = self.update(content.get("changes") or [])
            message, buffers = encode(seq, changed)
            self.error = ""
        except Exception as e:  # noqa: BLE001 - the browser waits for an answer to every update
            # The browser shows it; the kernel keeps serving the next update.
            self.error = str(e) if isinstance(e, VegalakeError) else f"{type(e).__name__}: {e}"
            log.warning("vegalake widget: update %s failed: %s", seq, self.error, exc_info=not isinstance(e, VegalakeError))
            message, buffers = {"type": "error", "seq": seq, "message": self.error}, []
        self.send(message, buffers)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        shown = super()._repr_mimebundle_(**kwargs)
        # ipywidgets returns (data, metadata) or data alone, by version.
        data = shown[0] if isinstance(shown, tuple) else shown
        if data is None:
            return shown
        # Where no widget manager runs (nbconvert, Databricks-style HTML output),
        # frontends show this instead: the pre-transformed page the HTML renderer
        # gives, interactive in the browser alone when that ships few rows, else
        # the chart as it stands with a note of the interactions that need the
        # kernel.
        data["text/html"] = _html.page(*_altair._pre_transform(self._vega, preserve_interactivity=True))
        return shown


def encode(seq: Any, changed: list[dict]) -> tuple[dict, list[bytes]]:
    """An update's answer as a comm message: datasets as Arrow IPC buffers in the
    service's encoding (typed columns; missing fields marked, so they stay
    missing, as vega.js has them; nested and mixed values as JSON text), which
    the browser client reads back into the same rows."""
    out: list[dict] = []
    buffers: list[bytes] = []
    for change in changed:
        entry = {k: change[k] for k in ("namespace", "name", "scope")}
        ipc = _ipc(change["value"]) if change["namespace"] == "data" else None
        if ipc is None:
            entry["value"] = change["value"]
        else:
            entry["arrow"] = len(buffers)
            buffers.append(ipc)
        out.append(entry)
    return {"type": "update", "seq": seq, "changes": out}, buffers


def _ipc(rows: Any) -> bytes | None:
    return rows_to_arrow_ipc(json.dumps(rows)) if isinstance(rows, list) else None


def _arrow_or_none(rows: Any) -> pa.Table | None:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return None
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def _params(vegalite: dict) -> list[dict]:
    """Every parameter of a Vega-Lite spec, in its views too."""
    found: list[dict] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.extend(p for p in node.get("params", []) or [] if isinstance(p, dict) and "name" in p)
            for key in ("layer", "hconcat", "vconcat", "concat", "spec"):
                walk(node.get(key))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(vegalite)
    return found


def widget_renderer(spec: dict, **metadata: Any) -> Any:
    """Altair's ``vegalake-widget`` renderer: each chart as a :class:`ChartWidget`."""
    return ChartWidget(spec)._repr_mimebundle_()


__all__ = ["ChartWidget", "encode", "widget_renderer"]
