"""``vl.batch``: one chart per store of the batch tests' rows (integration-tests/
batch), from an Altair chart over a frame and from a Delta table, each chart's
data equal to what vega.js computes from that store's rows alone
(``harness/batch-expect.mjs``), drawn, and written to a Delta table."""

from __future__ import annotations

import io
import json
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

import vegalake as vl

BATCH = Path(__file__).resolve().parents[2] / "integration-tests" / "batch"


def stores() -> pd.DataFrame:
    frame = pd.DataFrame(json.loads((BATCH / "rows.json").read_text()))
    frame["date"] = pd.to_datetime(frame["date"], unit="ms", utc=True)
    return frame


def histogram(data) -> alt.Chart:
    # The histogram template (templates/histogram.vl.json) as an Altair chart.
    return alt.Chart(data).mark_bar().encode(alt.X("value:Q", bin=alt.Bin(maxbins=10)), alt.Y("count():Q"))


def inlined(spec: dict) -> list[dict]:
    return next(d["values"] for d in spec["data"] if isinstance(d.get("values"), list))


def rows_as_set(rows: list[dict], columns: list[str]) -> list[str]:
    return sorted(json.dumps([r.get(c) for c in columns]) for r in rows)


def test_batch_over_a_frame_equals_vegajs_per_store(tmp_path):
    manifest = vl.batch(histogram(stores()), by="store", where="datum.store < 's030'", formats=["vega", "png"], out=tmp_path)
    assert list(manifest["store"]) == [f"s{i:03d}" for i in range(30)]
    assert set(manifest["status"]) == {"ok"}
    expected = json.loads((BATCH / "expected" / "histogram.json").read_text())["charts"]
    counts = stores().groupby("store").size()
    for _, chart in manifest.iterrows():
        assert chart["source_rows"] == counts[chart["store"]]
        spec = json.loads((tmp_path / f"{chart['id']}.vg.json").read_text())
        ours = inlined(spec)
        columns = sorted(ours[0]) if ours else []
        assert rows_as_set(ours, columns) == rows_as_set(expected[chart["id"]]["source_0"], columns), chart["id"]
        assert (tmp_path / f"{chart['id']}.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "index.html").read_text().count("<img") == 30


def test_batch_from_a_delta_table_into_a_delta_table(tmp_path):
    from deltalake import DeltaTable, write_deltalake
    from PIL import Image

    source = tmp_path / "stores"
    write_deltalake(str(source), stores().query("store < 's012'"))
    table = tmp_path / "charts"
    manifest = vl.batch(histogram(vl.delta(source)), by="store", formats=["vega", "png", "pdf"], table=str(table))
    assert len(manifest) == 12 and set(manifest["status"]) == {"ok"}
    rows = DeltaTable(str(table)).to_pyarrow_table().to_pylist()
    assert sorted(r["store"] for r in rows) == sorted(manifest["store"])
    for r in rows:
        assert r["status"] == "ok" and r["error"] is None
        assert Image.open(io.BytesIO(r["png"])).size[0] > 100
        assert r["pdf"].startswith(b"%PDF-")
        assert json.loads(r["spec"])["$schema"].startswith("https://vega.github.io/schema/vega/")


def test_batch_errors_are_typed(tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        vl.batch(histogram(stores()), by="store", formats=["gif"], out=tmp_path)
    with pytest.raises(vl.SpecError, match="where should the charts go"):
        vl.batch(histogram(stores()), by="store")
    impute = alt.Chart(stores()).mark_line().encode(x="date:T", y=alt.Y("value:Q", impute=alt.ImputeParams(value=0)), color="category:N")
    with pytest.raises(vl.SpecError, match=r"cannot run per key: it imputes"):
        vl.batch(impute, by="store", out=tmp_path)
