"""Benchmarks on the bundled SmolLM2: the order probe on a 3-, 4- and 5-choice mix through the CLI against a
plain transformers forward, and the benchmarks notebook on a local copy of MMLU in the hub's layout."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from explorer import columns as C
from explorer.cli.main import main
from explorer.items import load_items, mmlu
from tests.nbrun import run_notebook

pytestmark = pytest.mark.slow


def plain_label_logprobs(model, prompt: str, k: int) -> np.ndarray:
    """log p(" A".. | prompt) for k labels from one plain forward pass over the whole prompt."""
    ids = [model.tokenizer(" " + lab, add_special_tokens=False).input_ids[0] for lab in "ABCDE"[:k]]
    with torch.no_grad():
        x = model.tokenizer(prompt, return_tensors="pt")
        return torch.log_softmax(model.model(**x).logits[0, -1].float(), -1)[ids].numpy().astype(np.float64)


def test_cli_on_a_3_4_5_choice_mix(smollm2, hub, tmp_path, monkeypatch):
    import explorer.cli.commands.permutation as cmd

    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: smollm2)
    out, summ = tmp_path / "rows.csv", tmp_path / "summary.json"
    assert main(["permutation", "--data", str(hub["arc"]), "--config", "ARC-Challenge", "--split", "test",
                 "--orders", "all", "--out", str(out), "--summary", str(summ), "--n-boot", "100"]) == 0
    rows, s = pd.read_csv(out), json.loads(summ.read_text())
    assert {k: v["n_orders"] for k, v in s["by_k"].items()} == {"3": 6, "4": 24, "5": 120}
    assert s["n_prompts"] == 2 * 6 + 3 * 24 + 1 * 120 and s["k"] is None
    pred = rows[rows[C.IS_PRED]]
    assert s["accuracy"] == pytest.approx(pred[C.IS_GOLD].astype(float).mean())
    for k, per_k in s["by_k"].items():
        sub = pred[pred[C.K] == int(k)]
        assert per_k["accuracy"] == pytest.approx(sub[C.IS_GOLD].astype(float).mean())
        share = np.bincount(sub[C.POSITION], minlength=int(k)) / len(sub)
        assert per_k["position_share"] == pytest.approx(share.tolist())
    lo, hi = s["ci95"]["accuracy"]
    assert lo <= s["accuracy"] <= hi
    item = next(i for i in load_items(hub["arc"], config="ARC-Challenge") if i.k == 5)
    for _, g in rows[rows[C.ITEM_ID] == item.id].groupby(C.ORDER_ID):  # every order of the 5-choice item
        if g[C.ORDER_ID].iloc[0] % 40:
            continue
        lp = plain_label_logprobs(smollm2, g[C.PROMPT].iloc[0], 5)
        np.testing.assert_allclose(g[C.PROB], np.exp(lp), atol=1e-4)
        assert g[C.PROMPT].iloc[0].splitlines()[-2].startswith("E. ")


def test_notebook_runs_on_a_local_hub_copy(hub, monkeypatch):
    monkeypatch.setenv("LM_EXPLORER_BENCHMARK", str(hub["mmlu"]))
    monkeypatch.setenv("LM_EXPLORER_BENCHMARK_CONFIG", "all")
    nb = run_notebook("notebooks/benchmarks.ipynb", timeout=600)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    text = "".join(o.get("text", "") for c in code for o in c.outputs)
    assert "mmlu · config all · split test · 285 items · k = 4 · 3 invalid skipped" in text
    assert "20 items x 4 orders; metadata columns: ['subject', 'dataset']" in text
    assert "5 questions x 24 orders = 120 prompts" in text
    table = "".join(o.get("data", {}).get("text/plain", "") for o in code[1].outputs)
    for subject in ("abstract_algebra", "high_school_geography", "marketing", "us_foreign_policy"):
        assert subject in table
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in code[-1].outputs)
    assert len(mmlu(subjects=["marketing"])) == 5  # the notebook's subjects have five questions each
