"""Self-contained HTML for a client spec: vega and vega-embed (pinned npm builds
shipped in the wheel) inlined, so the page renders offline, in Jupyter, in
Databricks' ``displayHTML`` and in a file opened from disk."""

from __future__ import annotations

import html
import json
import uuid
import warnings
from importlib import resources

# Databricks' displayHTML refuses output over 10 MB; warn well before.
DISPLAY_LIMIT_BYTES = 10_000_000
WARN_BYTES = 8_000_000

_SCRIPTS = ("vega.min.js", "vega-embed.min.js")


def _script(name: str) -> str:
    try:
        text = resources.files("vegalake").joinpath("static", name).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise RuntimeError(f"vegalake: {name} is missing from the package (build it with scripts/python.sh)") from e
    # A script's text may not close its own element.
    return text.replace("</script", "<\\/script")


def page(client_spec: dict, spec_warnings: list[dict] | None = None) -> str:
    """One HTML fragment that renders ``client_spec`` with vega-embed."""
    div = f"vegalake-{uuid.uuid4().hex}"
    spec = json.dumps(client_spec).replace("</", "<\\/")
    # What the reader should know (interactions that need the kernel) shows under
    # the chart; the rest stays in comments for whoever reads the source.
    notes = "".join(
        f'<div style="font:12px sans-serif;color:#666">vegalake: {html.escape(w["message"])}</div>'
        if w["type"] == "interactions_need_kernel"
        else f"<!-- vegalake: {html.escape(w['message'])} -->"
        for w in spec_warnings or []
    )
    # Each build runs with AMD and CommonJS hidden, so it sets its global (vega,
    # vegaEmbed) even where a page has require.js (the classic notebook).
    scripts = "".join(f"<script>(function(define,module,exports){{{_script(n)}\n}}).call(window);</script>" for n in _SCRIPTS)
    text = (
        f'<div id="{div}"></div>{notes}{scripts}'
        f"<script>(function(){{var el=document.getElementById('{div}');"
        f"vegaEmbed(el,{spec},{{mode:'vega',actions:false}}).catch(function(e){{"
        f"el.textContent='vegalake: the chart could not be rendered: '+e;}});}})();</script>"
    )
    size = len(text.encode("utf-8"))
    if size > WARN_BYTES:
        warnings.warn(
            f"vegalake: the chart's HTML is {size / 1e6:.1f} MB; Databricks refuses output over {DISPLAY_LIMIT_BYTES / 1e6:.0f} MB "
            "(aggregate the chart, or lower vl.enable(row_limit=...))",
            stacklevel=3,
        )
    return text
