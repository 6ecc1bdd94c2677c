"""Client spec sizes of the Altair suite: vegalake's against VegaFusion's.

    python spec_sizes.py

For each chart of python/tests/suite.py, the pre-transformed Vega spec each
system's transformer produces (`vl.to_vega` and Altair's `vegafusion`
transformer with `to_dict(format="vega")`), as compact JSON bytes. Prints the
totals, how many charts each ships less for, and the charts where vegalake's spec
is larger.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> int:
    import altair as alt
    from suite import CHARTS

    import vegalake as vl

    sizes: dict[str, tuple[int | None, int | None]] = {}
    for name, build in sorted(CHARTS.items()):
        ours = theirs = None
        try:
            ours = len(json.dumps(vl.to_vega(build())[0], separators=(",", ":")))
        except Exception as e:  # a failure is reported, the rest go on
            print(f"{name}: vegalake failed: {e}", file=sys.stderr)
        try:
            with alt.data_transformers.enable("vegafusion"):
                theirs = len(json.dumps(build().to_dict(format="vega"), separators=(",", ":")))
        except Exception as e:
            print(f"{name}: VegaFusion failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}", file=sys.stderr)
        sizes[name] = (ours, theirs)
    both = {n: s for n, s in sizes.items() if None not in s}
    smaller = sum(1 for o, t in both.values() if o < t)
    larger = {n: s for n, s in both.items() if s[0] > s[1]}
    print(f"{len(sizes)} charts, {len(both)} that both systems pre-transform")
    print(f"total bytes: vegalake {sum(o for o, _ in both.values()):,}, VegaFusion {sum(t for _, t in both.values()):,}")
    print(f"vegalake smaller on {smaller}, equal on {len(both) - smaller - len(larger)}, larger on {len(larger)}")
    for n, (o, t) in sorted(larger.items()):
        print(f"  larger: {n}: {o:,} vs {t:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
