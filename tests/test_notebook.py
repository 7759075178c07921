"""examples/coat_quickstart.ipynb runs from top to bottom (issue 17: so it cannot rot).

Executed with HECKREC_NOTEBOOK_FAST=1 (4 profile points instead of 12), about 15 s.
"""

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "coat_quickstart.ipynb"


def test_quickstart_notebook_runs(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("HECKREC_NOTEBOOK_FAST", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.outputs)
    # what the notebook shows: the default holding an unidentified rho, the slice fit's summary, the
    # classic rho beside it, the profile interval and its plot
    for piece in ("rho_free_ = -0.560", "BivariateProbitMF (matrix-factorisation",
                  "HeckmanProbit rho =", "profile interval ["):
        assert piece in text
    assert any(out.get("output_type") == "display_data" for cell in nb.cells
               if cell.cell_type == "code" for out in cell.outputs)
    assert os.environ["HECKREC_NOTEBOOK_FAST"] == "1"
