"""Writes the Altair suite's expected data with vega.js.

    python python/tests/author.py [NAME ...]

For each chart of ``suite.py``: Altair's default transformer inlines its data,
vegalake's embedded vega-lite compiles it to Vega, and the project's
Node harness (``integration-tests/harness/expect.mjs``, the official vega runtime)
evaluates it. The data of each view (in Altair's ``transformed_data`` order) is
written to ``expected/NAME.json`` with the hash of the Vega spec it came from, so
the tests see when a chart, Altair or the compiler drifts. Run it after changing
the suite, with the Altair version scripts/test.sh pins first (needs
Node and the harness's ``npm ci``), review, commit.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import altair as alt
from altair.utils._transformed_data import get_datasets_for_view_names, get_facet_mapping, name_views

HERE = Path(__file__).resolve().parent
HARNESS = HERE.parents[1] / "integration-tests" / "harness"
sys.path.insert(0, str(HERE))

from suite import CHARTS, INTERACTIONS, LAKE_CHARTS, LAKE_VARIANTS, LOCAL_TZ, flights_rows  # noqa: E402


def inline_vega(chart) -> dict:
    """The chart's Vega spec with its data inline, as Altair's default transformer
    and vegalake's compiler make it."""
    from vegalake._altair import _vega_of_vegalite

    with alt.data_transformers.enable("default", max_rows=None):
        return _vega_of_vegalite(chart.to_dict(format="vega-lite"))


def named_views(chart) -> tuple[object, list[str]]:
    """A copy of the chart with its views named as ``transformed_data`` names them
    (names made from object ids: they differ between runs), and the names."""
    if isinstance(chart, alt.Chart) and chart.mark is alt.Undefined:
        chart = chart.mark_point()
    chart = chart.copy(deep=True)
    return chart, name_views(chart, 0)


def spec_hash(chart) -> str:
    """The hash of a chart's inline Vega spec: what its expectation came from."""
    return hashlib.sha256(json.dumps(inline_vega(chart), sort_keys=True).encode()).hexdigest()


def builders() -> dict:
    """Every chart by expected-file name: the suite's, and each lake chart once per
    variant of the lake's rows (as a pandas frame here)."""
    out = {name: fn for name, fn in CHARTS.items()}
    for name in INTERACTIONS:
        out[f"{name}@interaction"] = CHARTS[name]
    for name, fn in LAKE_CHARTS.items():
        for variant in LAKE_VARIANTS:
            out[f"{name}@{variant}"] = lambda fn=fn, variant=variant: fn(flights_rows(variant))
    return out


def expected(name: str) -> dict:
    chart = builders()[name]()
    named, names = named_views(chart)
    vega = inline_vega(named)
    mapping = get_datasets_for_view_names(vega, names, get_facet_mapping(vega))
    state = INTERACTIONS.get(name.removesuffix("@interaction"), {}) if name.endswith("@interaction") else {}
    vega.setdefault("usermeta", {})["vegalake"] = {**state, "timezone": LOCAL_TZ.get(name, "UTC")}
    with tempfile.NamedTemporaryFile("w", suffix=".vg.json") as f:
        json.dump(vega, f)
        f.flush()
        run = subprocess.run(["node", str(HARNESS / "expect.mjs"), f.name], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{name}: vega.js failed: {run.stderr.strip().splitlines()[-1:]}")
    datasets = json.loads(run.stdout)["datasets"]
    views = []
    for view in names:
        dataset, scope = mapping[view]
        if scope or dataset not in datasets:
            raise RuntimeError(f"{name}: view {view} reads {dataset} in scope {scope}, which vega.js does not print")
        views.append(datasets[dataset])
    return {"altair": alt.__version__, "vega_spec_sha256": spec_hash(chart), "views": views, **({"state": state} if state else {})}


def main(names: list[str]) -> int:
    out = HERE / "expected"
    out.mkdir(exist_ok=True)
    failed = []
    names = names or sorted(builders())
    for name in names:
        try:
            (out / f"{name}.json").write_text(json.dumps(expected(name), sort_keys=True) + "\n")
        except Exception as e:  # one chart's failure is reported, the rest go on
            failed.append(f"{name}: {e}")
    print(f"wrote {len(names) - len(failed)} expected files")
    for f in failed:
        print(f, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
