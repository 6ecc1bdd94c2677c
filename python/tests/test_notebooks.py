"""The example notebooks (notebooks/) run green on a real Jupyter kernel (nbclient,
ipykernel): every cell executes, their assert cells hold, and no output is an
error."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_errors(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    # The kernel inherits the environment: VEGALAKE_BIN (the CLI for the cluster
    # notebook) and VEGALAKE_NOTEBOOK_ROWS (the crossfilter's table size) pass through.
    client = NotebookClient(notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    displayed = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert displayed, f"{path.name} displayed no chart"
    assert os.environ.get("VEGALAKE_BIN") or "ballista" not in path.name
