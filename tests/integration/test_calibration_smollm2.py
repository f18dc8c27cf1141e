"""Calibration on the bundled SmolLM2: confidences against a plain transformers computation, the CLI
end to end, and the notebook executed."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from explorer import columns as C
from explorer.cli.main import main
from explorer.items import capitals, save_jsonl
from explorer.probes.calibration import item_confidence
from explorer.probes.choices import score_choices
from tests.nbrun import run_notebook

pytestmark = pytest.mark.slow
ITEMS = capitals(3, seed=5)


def plain_logprobs(model, text: str) -> torch.Tensor:
    ids = torch.tensor([model.tokenizer(text)["input_ids"]])
    with torch.no_grad():
        return torch.log_softmax(model.model(ids).logits[0].double(), -1)


def plain_letters(model, item) -> np.ndarray:
    lines = "\n".join(f"{lab}. {c}" for lab, c in zip("ABCD", item.choices))
    lp = plain_logprobs(model, f"Question: {item.question}\n{lines}\nAnswer:")[-1]
    ids = [model.tokenizer(f" {lab}", add_special_tokens=False)["input_ids"][0] for lab in "ABCD"]
    return lp[ids].numpy()


def plain_cloze(model, item) -> np.ndarray:
    context = f"Question: {item.question}\nAnswer:"
    n_ctx = len(model.tokenizer(context)["input_ids"])
    scores = []
    for choice in item.choices:
        full = model.tokenizer(context + " " + choice)["input_ids"]
        assert full[:n_ctx] == model.tokenizer(context)["input_ids"]
        lp = plain_logprobs(model, context + " " + choice)
        scores.append(sum(float(lp[t - 1, full[t]]) for t in range(n_ctx, len(full))))
    return np.array(scores)


@pytest.mark.parametrize("fmt, plain, n", [("letters", plain_letters, 3), ("cloze", plain_cloze, 2)])
def test_confidence_equals_plain_transformers(smollm2, fmt, plain, n):
    items = item_confidence(score_choices(smollm2, ITEMS[:n], fmt, cache=None))
    assert len(items) == n
    for item, (_, row) in zip(ITEMS[:n], items.iterrows()):
        scores = plain(smollm2, item)
        probs = np.exp(scores - np.logaddexp.reduce(scores))
        assert row[C.CONFIDENCE] == pytest.approx(probs.max(), abs=1e-4)
        assert row[C.CORRECT] == (int(np.argmax(scores)) == item.answer)
        np.testing.assert_allclose(row[C.CHOICE_PROBS], probs, atol=1e-4)


def test_cli_end_to_end(tmp_path, smollm2):
    data = save_jsonl(capitals(8, seed=1), tmp_path / "items.jsonl")
    bins, summary = tmp_path / "bins.csv", tmp_path / "summary.json"
    argv = ["calibration", "--data", str(data), "--format", "letters", "--bins", "5", "--folds", "4",
            "--out", str(bins), "--summary", str(summary)]
    assert main(argv) == 0
    s = json.loads(summary.read_text())
    metrics = {"accuracy", "ece", "mce", "brier", "brier_top", "balance", "selective_auc"}
    assert metrics | {"n_items"} <= set(s) and metrics | {"temperature"} <= set(s["temperature_scaled"])
    assert s["n_items"] == 8 and s["temperature_scaled"]["temperature"] > 0
    frame = item_confidence(score_choices(smollm2, capitals(8, seed=1), "letters"))
    assert s["accuracy"] == pytest.approx(frame[C.CORRECT].mean())
    assert s["temperature_scaled"]["accuracy"] == s["accuracy"]
    table = pd.read_csv(bins)
    raw = table[table[C.CONDITION] == "raw"]
    assert raw[C.COUNT].sum() == 8 and set(table[C.CONDITION]) == {"raw", "temperature_scaled", "platt_scaled"}
    assert s["ece"] == pytest.approx((raw[C.COUNT] / 8 * raw[C.GAP].abs()).sum())


def test_notebook_runs():
    run_notebook("notebooks/calibration.ipynb", timeout=300)
