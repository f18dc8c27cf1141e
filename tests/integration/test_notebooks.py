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


WAIT_FOR_STATIC = """
import time
app.views["attentiveness"].runner.wait(600)
deadline = time.monotonic() + 300
while "data:image/png" not in app.static.rendered and time.monotonic() < deadline:
    time.sleep(0.5)
time.sleep(2)  # the update reaches the notebook while this cell runs
"""


def test_dashboard_notebook_runs_and_leaves_static_figures():
    """The dashboard renders; its figures are saved in the output as images once drawn (readers without a
    kernel see them), through the display update the static copy sends."""
    nb = run_notebook("notebooks/explorer.ipynb", timeout=600, append=(WAIT_FOR_STATIC,))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    first = code[0].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in first)
    static = [o["data"]["text/html"] for o in first if "lmx-static" in o.get("data", {}).get("text/html", "")]
    assert static and "<h4>Attentiveness</h4>" in static[0] and static[0].count("data:image/png;base64,") >= 4
