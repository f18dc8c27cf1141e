"""The issue's command on the two bundled models: SmolLM2-135M and Gemma 3 270M on the same MMLU items
under all 24 orders; ``by_model`` equals each single-model command's summary, ``compare`` pairs them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main

ARGS = ["--data", "mmlu", "--limit", "6", "--orders", "all", "--n-boot", "200"]


def test_permutation_of_two_bundled_models_equals_their_single_runs(tmp_path):
    def run(tag: str, *models: str) -> dict:
        flags = [f for m in models for f in ("--model", m)]
        summary = tmp_path / f"{tag}.json"
        assert main(["permutation", *ARGS, *flags, "--out", str(tmp_path / f"{tag}.csv"), "--summary", str(summary)]) == 0
        return json.loads(summary.read_text())

    both = run("both", "smollm2", "gemma-3-270m")
    names = both["models"]
    assert names == ["smollm2", "gemma-3-270m"]  # the loaded models' names, in the order given
    assert both["by_model"][names[0]] == run("smollm2", "smollm2")
    assert both["by_model"][names[1]] == run("gemma", "gemma-3-270m")
    pair = both["compare"]["pairs"][0]
    assert pair["n_items"] == 6 and pair["n_orders"] == 24
    for metric in ("accuracy", "order_avg_accuracy", "a_bias"):
        value = both["by_model"][names[1]][metric] - both["by_model"][names[0]][metric]
        assert pair[metric]["value"] == pytest.approx(value, abs=1e-12)
        lo, hi = pair[metric]["ci95"]
        assert lo <= hi
    rows = pd.read_csv(tmp_path / "both.csv")
    assert rows.groupby(C.MODEL).size().tolist() == [6 * 24 * 4, 6 * 24 * 4]


def test_the_compare_notebook_pairs_the_two_bundled_models():
    from tests.nbrun import printed, run_notebook

    nb = run_notebook("notebooks/compare.ipynb", timeout=900)
    text = printed(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "gemma-3-270m minus smollm2 (8 items x 24 orders)" in text
    for metric in ("accuracy", "order_avg_accuracy", "a_bias", "rstd", "consistency"):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(metric + " "))
        lo, hi = (float(v) for v in line.split("[")[1].split("]")[0].split(","))
        assert lo <= hi and ("beyond noise" in line) == (lo > 0 or hi < 0), line
    assert "minus smollm2, ece" in text and "minus smollm2, brier" in text
    bars = [o for c in code for o in c.outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert bars and len(bars[0]["data"]["application/vnd.plotly.v1+json"]["data"]) == 2  # one bar trace per model
