"""``lm-explorer demo`` serves its pages beside its own copy of the model: the server it starts (here a stand-in
for Voila, a process that does what a page's kernel does) reaches the demo's model host, loads the bundled
model through it without importing torch, and gets the frame a plain in-process call gives."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from explorer import columns as C
from explorer.cli.commands import demo
from explorer.cli.main import build_parser
from explorer.items.builtin import builtin_items
from explorer.probes import score_choices

ROOT = Path(__file__).resolve().parents[2]
PAGE = r"""
import json, sys
from explorer.items.builtin import builtin_items
from explorer.serve.calls import run
from explorer.serve.remote import host_loader
model = host_loader()("smollm2")
frame = run(model, "score_choices", builtin_items("capitals", n=3), "letters")
print(json.dumps({"prob": frame["prob"].tolist(), "torch": "torch" in sys.modules, "name": model.name}))
"""


def test_the_demo_serves_pages_beside_its_own_model(smollm2, monkeypatch, capfd):
    monkeypatch.setattr(demo, "voila_command", lambda *a, **k: [sys.executable, "-c", PAGE])
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    args = build_parser().parse_args(["demo", "--items", "2", "--port", "0"])
    assert demo.run(args) == 0
    page = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    expected = score_choices(smollm2, builtin_items("capitals", n=3), "letters")
    assert not page["torch"] and page["name"] == smollm2.name
    pd.testing.assert_series_equal(pd.Series(page["prob"], name=C.PROB), expected[C.PROB], rtol=1e-6, atol=1e-9)
