"""A ``vegalake serve`` as the package's engine (``grpc://``): the CLI's server
started on loopback (a free port it picks and prints), the crossfilter over
Parquet of the interactions suite opened and brushed through it and compared
with vega.js's states, and its refusals as the package's exceptions."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
from rows import difference, expected_rows

import vegalake as vl

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "integration-tests" / "datasets"
INTERACTIONS = REPO / "integration-tests" / "interactions"
TOKEN = "python-suite-token-0123456789"


def _serve(directory: Path, *extra: str) -> Iterator[str]:
    """`vegalake serve` over the suite's datasets: its address."""
    binary = os.environ.get("VEGALAKE_BIN")
    if not binary:
        pytest.fail("VEGALAKE_BIN (the CLI, which serves) is not set: run through scripts/test.sh")
    tokens = directory / "tokens"
    tokens.write_text(TOKEN + "\n")
    args = [binary, "serve", "--bind", "127.0.0.1:0", "--token-file", str(tokens), "--data-dir", str(DATASETS), *extra]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on "), f"vegalake serve printed {line!r}"
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """A plain server: its grpc:// URL."""
    for address in _serve(tmp_path_factory.mktemp("serve")):
        yield "grpc://" + address


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A certificate authority of the test's own and a certificate for 127.0.0.1
    it signed, by openssl: (ca, cert, key)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca, ca_key, key, csr, cert, ext = (directory / n for n in ("ca.pem", "ca.key", "key.pem", "server.csr", "cert.pem", "server.ext"))
    ext.write_text("basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1\n")
    for args in (
        ["req", "-x509", *ec, "-days", "2", "-subj", "/CN=vegalake-python-test-ca", "-keyout", ca_key, "-out", ca],
        ["req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", csr],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert],
    ):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
    return ca, cert, key


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A server speaking TLS with a certificate of a private authority: its
    grpcs:// URL and the authority's PEM file."""
    directory = tmp_path_factory.mktemp("serve-tls")
    ca, cert, key = _certificates(directory)
    for address in _serve(directory, "--tls-cert", str(cert), "--tls-key", str(key)):
        yield "grpcs://" + address, ca


def test_a_served_crossfilter_over_parquet_brushes_as_vegajs_does(server):
    expected = json.loads((INTERACTIONS / "expected" / "crossfilter_parquet.json").read_text())
    updates = json.loads((INTERACTIONS / "crossfilter_parquet.updates.json").read_text())
    runtime = vl.Runtime(server, token=TOKEN)
    state = runtime.new_chart_state(expected["spec"])
    current = {d["name"]: d["values"] for d in state.get_client_spec()["data"] if isinstance(d.get("values"), list) and "transform" not in d}
    compared = 0
    for step, update in zip(expected["steps"], [None, *updates], strict=True):
        if update is not None:
            for value in state.update(update):
                if value["namespace"] == "data":
                    current[value["name"]] = value["value"]
        for name, rows in current.items():
            if name in step["datasets"]:
                columns = {k for row in rows for k in row}
                theirs = [{k: v for k, v in row.items() if k in columns} for row in step["datasets"][name]]
                assert difference(expected_rows(rows), expected_rows(theirs)) is None, f"{name} after {update}"
                compared += 1
    assert len(updates) >= 20 and compared > len(updates)
    state.close()
    with pytest.raises(vl.DataError, match="no open chart"):
        state.update(updates[0])


def test_altair_charts_run_on_the_server_once_enabled(server):
    try:
        vl.enable(engine=server, token=TOKEN)
        chart = alt.Chart(alt.UrlData("data/flights-2k.parquet")).mark_bar().encode(x="origin:N", y="count():Q")
        spec, warnings = vl.to_vega(chart)
        shipped = [d for d in spec["data"] if isinstance(d.get("values"), list) and d["values"]]
        assert shipped and sum(r["__count"] for d in shipped for r in d["values"] if "__count" in r) == 2000, spec["data"]
        assert not any("url" in d for d in spec["data"]), "the browser reads nothing: the server did"
    finally:
        vl.enable()


def test_what_a_server_cannot_do_is_said(server):
    with pytest.raises(vl.ForbiddenError):
        vl.Runtime(server, token="wrong-token-0123456789").pre_transform_spec({"data": [{"name": "t", "values": [{"a": 1}]}]})
    runtime = vl.Runtime(server, token=TOKEN)
    with pytest.raises(vl.DataError, match="in-memory table"):
        runtime.pre_transform_spec({"data": [{"name": "t", "url": "vegafusion+dataset://frame"}]}, inline_datasets={"frame": pd.DataFrame({"a": [1]})})
    with pytest.raises(vl.EngineError, match="not offered by a remote"):
        runtime.evaluate({"data": [{"name": "t", "values": [{"a": 1}]}]})
    with pytest.raises(vl.SpecError):
        runtime.pre_transform_spec({"data": [{"name": "t", "transform": [{"type": "no-such-transform"}]}]})
    with pytest.raises(vl.EngineError, match="cannot connect"):
        vl.Runtime("grpc://127.0.0.1:1", token=TOKEN)
    with pytest.raises(ValueError, match="server's own"):
        vl.Runtime(server, token=TOKEN, data_dir=".")


def test_a_tls_server_of_a_private_authority_is_trusted_when_told(tls_server, tmp_path):
    url, ca = tls_server
    try:
        vl.enable(engine=url, token=TOKEN, tls_ca=ca)
        chart = alt.Chart(alt.UrlData("data/flights-2k.parquet")).mark_bar().encode(x="origin:N", y="count():Q")
        spec, _ = vl.to_vega(chart)
        counted = sum(r["__count"] for d in spec["data"] for r in d.get("values") or [] if "__count" in r)
        assert counted == 2000, spec["data"]
    finally:
        vl.enable()
    # Without the authority, the certificate is not trusted: nothing is sent.
    with pytest.raises(vl.EngineError, match="cannot connect"):
        vl.Runtime(url, token=TOKEN)
    with pytest.raises(vl.EngineError, match="tls_ca: .*missing.pem"):
        vl.Runtime(url, token=TOKEN, tls_ca=tmp_path / "missing.pem")
    with pytest.raises(ValueError, match="grpcs://"):
        vl.Runtime("local", tls_ca=ca)
