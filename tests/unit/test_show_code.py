"""Every view's "Show code", run in a fresh Python process, gives the numbers the view shows: with
non-default controls in every view, an edited item, and an intervention applied from the Heads tab."""

from __future__ import annotations

import html
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_dashboard import HEADS, saved_tiny, settle
from widgets.dashboard import Dashboard
from widgets.registry import VIEWS

ROOT = Path(__file__).resolve().parents[2]


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


def run_snippets(codes: dict[str, str], folder: Path) -> dict[str, object]:
    """The snippets in a fresh interpreter (one, to pay the imports once), each in its own namespace and
    with a fresh result cache; the JSON each prints last."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LM_EXPLORER_RESULTS": str(folder / "fresh.sqlite")}
    (folder / "codes.json").write_text(json.dumps(codes))
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(folder / "codes.json")], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"a snippet failed:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def close(a, b, path="") -> None:
    """Equal numbers (1e-6), recursively through dicts and lists; NaN equals NaN."""
    if isinstance(a, dict):
        assert set(map(str, a)) == set(map(str, b)), f"{path}: {sorted(a)} vs {sorted(b)}"
        bb = {str(k): v for k, v in b.items()}
        for k, v in a.items():
            close(v, bb[str(k)], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: {a} vs {b}"
        for n, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{n}]")
    elif isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a is None and b is None, f"{path}: {a} vs {b}"
        elif not (math.isnan(a) and math.isnan(b)):
            assert a == pytest.approx(b, abs=1e-6), f"{path}: {a} vs {b}"
    else:
        assert a == b, f"{path}: {a} vs {b}"


def test_every_views_code_reproduces_its_numbers_in_a_fresh_process(tmp_path):
    d = Dashboard(start=False, dataset="mmlu", n_items=6, model=str(saved_tiny(tmp_path / "tiny")))
    d.load()
    d.runner.wait(60)
    d.data.item.value = d.data.items[1].id  # an edit the code must replay
    d.data.question.value = "What is the capital of Italy?"
    assert len({i.metadata["subject"] for i in d.data.items}) == 2  # two groups for "group by"
    d.data.apply.click()
    heads = settle(d, "heads")  # the intervention, set in the Heads tab: L1H0 x 0, applied to the other views
    heads.select_head(1, 0)
    heads.runner.wait(120)
    heads.slider.value = 0.0
    heads.apply.value = True
    heads.runner.wait(120)
    assert d.state.applied() == HEADS
    controls = {
        "attentiveness": dict(format="string", group="subject", metric="accuracy"),
        "permutation": dict(orders="all", labels="1234", template="Q: … A:", group="subject",
                            metric="consistency"),
        "heads": dict(slider=2.0),
        "calibration": dict(bins=4, strategy="quantile", recalibration="temperature", source="prob",
                            group="answer", metric="brier"),
        "chain": dict(comparison="letters vs string"),
    }
    shown, codes = {}, {}
    for v in sorted(VIEWS, key=lambda v: v.key == "heads"):  # heads last: its slider moves the applied scaling
        w = settle(d, v.key)
        for name, value in controls[v.key].items():
            getattr(w, name).value = value
            w.runner.wait(120)
        if v.key == "heads":
            w.select_head(0, 2)
            w.runner.wait(120)
        assert w.up_to_date() and w.condition == "fresh", (v.key, w.note.value)
        shown[v.key], codes[v.key] = w.shown_numbers(), w.code()
        assert json.loads(html.unescape(w.numbers_tag.value.split("data-numbers='")[1].split("'")[0])) is not None
    for key in ("attentiveness", "permutation", "calibration", "chain"):
        assert "with scale_heads(model, {(1, 0): 0.0}):" in codes[key], codes[key]
    assert "items[1] = explorer.Item(" in codes["permutation"] and "'1234'" in codes["permutation"]
    ran = run_snippets(codes, tmp_path)
    for key in codes:
        close(shown[key], ran[key], key)
