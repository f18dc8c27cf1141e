"""The permutation probe on the bundled SmolLM2 against a plain transformers forward, the CLI end to
end, and the notebook."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from explorer import columns as C
from explorer.cli.main import main
from explorer.items import capitals, save_jsonl
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.items.orders import parse_order
from explorer.probes.permutation import permutation_probe
from tests.nbrun import run_notebook

pytestmark = pytest.mark.slow
LABELS = [" A", " B", " C", " D"]


def plain_label_logprobs(model, prompt: str) -> np.ndarray:
    """log p(" A".." D" | prompt) from one plain forward pass over the whole prompt."""
    ids = [model.tokenizer(lab, add_special_tokens=False).input_ids[0] for lab in LABELS]
    with torch.no_grad():
        x = model.tokenizer(prompt, return_tensors="pt")
        return torch.log_softmax(model.model(**x).logits[0, -1].float(), -1)[ids].numpy().astype(np.float64)


def test_probe_equals_plain_forward(smollm2):
    items = capitals(2, seed=7)
    frame = permutation_probe(smollm2, items, orders="cyclic", cache=None)
    assert len(frame) == 2 * 4 * 4
    for (item_id, order), g in frame.groupby([C.ITEM_ID, C.ORDER], sort=False):
        item = next(i for i in items if i.id == item_id)
        shown = item.permuted(parse_order(order))
        prompt = g[C.PROMPT].iloc[0]
        lines = "\n".join(f"{lab}. {c}" for lab, c in zip("ABCD", shown.choices))
        assert prompt == f"Question: {item.question}\n{lines}\nAnswer:"
        lp = plain_label_logprobs(smollm2, prompt)
        np.testing.assert_allclose(g[C.PROB], np.exp(lp), atol=1e-4)
        np.testing.assert_allclose(g[C.PROB_NORM], np.exp(lp) / np.exp(lp).sum(), atol=1e-4)
        np.testing.assert_allclose(g[C.LOGPROB], lp, atol=1e-3)
        assert g[C.IS_PRED].to_numpy().argmax() == lp.argmax()
        assert g[C.CHOICE].tolist() == list(shown.choices)
    # SmolLM2 puts most of the label mass on " A": the bias the probe is for
    summary = summarize_permutation(frame, n_boot=0)
    assert summary["a_bias"] > 0.3 and summary["position_share"][0] > 0.9


def test_cli_end_to_end(smollm2, tmp_path, monkeypatch, capsys):
    import explorer.cli.commands.permutation as cmd

    asked = []
    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: asked.append(name) or smollm2)  # tested apart
    items = capitals(3, seed=4)
    data = save_jsonl(items, tmp_path / "items.jsonl")
    out, summ = tmp_path / "rows.csv", tmp_path / "summary.json"
    code = main(["permutation", "--data", str(data), "--orders", "cyclic", "--labels", "ABCD", "--out", str(out),
                 "--summary", str(summ), "--n-boot", "50", "--model", "smollm2-135m"])
    assert code == 0 and asked == ["smollm2-135m"]
    rows = pd.read_csv(out)
    assert list(rows.columns) == [*C.PERMUTATION_COLUMNS, "country", "dataset"] and len(rows) == 3 * 4 * 4
    summary = json.loads(summ.read_text())
    for key in ("accuracy", "a_bias", "position_share", "mean_prob_by_position", "rstd", "order_avg_accuracy",
                "pride_accuracy", "consistency", "entropy_norm", "chi2_p", "n_items", "n_orders"):
        assert key in summary
    assert summary["n_items"] == 3 and summary["n_orders"] == 4 and len(summary["position_share"]) == 4
    frame = permutation_probe(smollm2, items, orders="cyclic")  # same numbers as the probe (from the cache)
    expect = summarize_permutation(frame, n_boot=0)
    assert summary["a_bias"] == pytest.approx(expect["a_bias"]) and summary["accuracy"] == expect["accuracy"]
    printed = capsys.readouterr().out
    assert "A-bias" in printed and "position  mean p" in printed and "3 items x 4 orders" in printed


def test_cli_bad_orders(smollm2, tmp_path, monkeypatch, capsys):
    import explorer.cli.commands.permutation as cmd

    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: smollm2)
    data = save_jsonl(capitals(2), tmp_path / "items.jsonl")
    code = main(["permutation", "--data", str(data), "--orders", "30", "--out", str(tmp_path / "r.csv"),
                 "--summary", str(tmp_path / "s.json")])
    assert code == 2 and "only 24" in capsys.readouterr().err


def test_notebook_runs():
    nb = run_notebook("notebooks/permutation.ipynb", timeout=300)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "A-bias" in text
