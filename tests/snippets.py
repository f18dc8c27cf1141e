"""Run "Show code" snippets in a fresh interpreter and compare the numbers they print with a view's."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = """
import contextlib, io, json, sys
codes, out = json.load(open(sys.argv[1])), {}
for key, code in codes.items():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, key + ".py", "exec"), {"__name__": "__main__"})  # each in its own namespace
    out[key] = json.loads(printed.getvalue().strip().splitlines()[-1])
print(json.dumps(out))
"""


def run_snippets(codes: dict[str, str], folder: Path, env: dict[str, str]) -> dict[str, object]:
    """The snippets in one fresh interpreter (to pay the imports once), each in its own namespace; the JSON
    each prints last."""
    (folder / "codes.json").write_text(json.dumps(codes))
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(folder / "codes.json")], cwd=folder,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"a snippet failed:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def close(a, b, path: str = "", tol: float = 1e-6) -> None:
    """Equal numbers (to ``tol``), recursively through dicts and lists; NaN equals NaN."""
    if isinstance(a, dict):
        assert set(map(str, a)) == set(map(str, b)), f"{path}: {sorted(a)} vs {sorted(b)}"
        bb = {str(k): v for k, v in b.items()}
        for k, v in a.items():
            close(v, bb[str(k)], f"{path}.{k}", tol)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: {a} vs {b}"
        for n, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{n}]", tol)
    elif isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a is None and b is None, f"{path}: {a} vs {b}"
        elif not (math.isnan(a) and math.isnan(b)):
            assert a == pytest.approx(b, abs=tol), f"{path}: {a} vs {b}"
    else:
        assert a == b, f"{path}: {a} vs {b}"
