"""Execute a notebook headless, as the suite does for every notebook in ``notebooks/``."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(path: str | Path, *, timeout: int = 600, append: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """Run every cell (in the notebook's folder, on the test environment's kernel), then the ``append``
    cells (a test's own, not saved in the notebook); raise on error."""
    path = ROOT / path if not Path(path).is_absolute() else Path(path)
    nb = nbformat.read(path, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(code) for code in append]
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def printed(nb: nbformat.NotebookNode) -> str:
    """What an executed notebook's code cells wrote, joined; fails if any cell ended in an error."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    return "".join(o.get("text", "") for c in code for o in c.outputs)
