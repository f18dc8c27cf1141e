"""Every notebook in notebooks/ is executed by the suite: the dashboard here, each probe's by its
own integration test (which also checks what it shows)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.nbrun import ROOT, run_notebook

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_executed_by_a_test():
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    executed = set(re.findall(r'run_notebook\("notebooks/([\w-]+\.ipynb)"', sources))
    assert set(NOTEBOOKS) <= executed, f"notebooks no test executes: {sorted(set(NOTEBOOKS) - executed)}"
    assert {"explorer.ipynb", "permutation.ipynb", "attentiveness.ipynb", "heads.ipynb",
            "calibration.ipynb", "chain.ipynb", "benchmarks.ipynb"} <= set(NOTEBOOKS)


def test_dashboard_notebook_runs():
    nb = run_notebook("notebooks/explorer.ipynb", timeout=300)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in code for o in c.outputs)
