"""A ``vegalake serve`` as the runtime's engine (``engine="grpc://HOST:PORT"``).

The server evaluates whole charts over the data it may read (its data roots and
catalog), so only specs and values cross the wire. It stands in for the
extension's local runtime behind :class:`vegalake.Runtime`: the methods a server
offers (the client spec, chart sessions) go to it; the others raise
:class:`EngineError` saying so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn

from ._vegalake import DataError, EngineError
from ._vegalake import RemoteRuntime as _RemoteRuntime

REMOTE_SCHEMES = ("grpc://", "grpcs://")


def is_remote(engine: str) -> bool:
    return engine.startswith(REMOTE_SCHEMES)


class RemoteEngine:
    """The local runtime's interface, answered by a server."""

    def __init__(self, url: str, token: str | None, tls_ca: str | os.PathLike | None = None) -> None:
        self.engine = url
        self._server = _RemoteRuntime(url, token, _read_pem(tls_ca))

    def info(self) -> dict:
        return json.loads(self._server.info())

    def pre_transform_spec(self, spec: str, options: str, tables: dict[str, Any]) -> tuple[str, str]:
        _no_frames(tables)
        client, warnings = self._server.pre_transform_spec(spec, _timezone(options))
        return client, json.dumps([{"kind": "server", "message": w} for w in warnings])

    def open_chart(self, spec: str, options: str, tables: dict[str, Any]) -> RemoteChart:
        _no_frames(tables)
        return RemoteChart(self._server.open_chart(spec, _timezone(options)))

    def pre_transform_datasets(self, *args: Any) -> NoReturn:
        _not_offered("pre_transform_datasets")

    def evaluate(self, *args: Any) -> NoReturn:
        _not_offered("evaluate (and transformed_data)")

    def source_schema(self, *args: Any) -> NoReturn:
        _not_offered("a table's schema (give Altair the field types: x='delay:Q')")

    def cache_stats(self) -> NoReturn:
        _not_offered("cache_stats")


class RemoteChart:
    """A chart held by the server, with the local chart state's methods."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def update(self, changes: str) -> str:
        return self._inner.update(changes)

    def client_spec(self) -> str:
        return self._inner.client_spec()

    def comm_plan(self) -> str:
        return self._inner.comm_plan()

    def warnings(self) -> str:
        return json.dumps([{"kind": "server", "message": w} for w in self._inner.warnings()])

    def server_spec(self) -> NoReturn:
        _not_offered("the server spec")

    def datasets(self) -> NoReturn:
        _not_offered("dataset placements")

    def scans(self) -> NoReturn:
        _not_offered("scan metrics")

    def close(self) -> None:
        self._inner.close()


def _timezone(options: str) -> str:
    return json.loads(options).get("timezone") or "UTC"


def _no_frames(tables: dict[str, Any]) -> None:
    if tables:
        names = ", ".join(sorted(tables))
        raise DataError(
            f"in-memory table(s) {names}: a remote server reads only its own data roots and catalog; "
            "write the frame where the server reads (Parquet, Delta) or use a local engine"
        )


def _not_offered(what: str) -> NoReturn:
    raise EngineError(f"{what}: not offered by a remote vegalake server (grpc://); use a local, ballista:// or spark:// engine")


def _read_pem(path: str | os.PathLike | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise EngineError(f"tls_ca: {os.fspath(path)}: {e.strerror}") from e
