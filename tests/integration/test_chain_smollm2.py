"""The chain probe, smooth ECE and circular accuracy on the bundled SmolLM2: every chain quantity against
a plain transformers computation, circular accuracy in cloze against plain accuracy, smECE against
relplot, the chain CLI end to end, and the notebook with what it says."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import relplot
import torch

from explorer import columns as C
from explorer.cli.main import main
from explorer.items import arithmetic, capitals, save_jsonl
from explorer.metrics.permutation import accuracy, circular_accuracy
from explorer.probes.calibration import item_confidence
from explorer.probes.chain import chain_conditions, chain_probe
from explorer.probes.choices import score_choices
from explorer.probes.permutation import permutation_probe
from explorer.prompts.demos import split_pool
from tests.integration.test_calibration_smollm2 import plain_cloze
from tests.nbrun import run_notebook

pytestmark = pytest.mark.slow
LABELS = [" A", " B", " C", " D"]


def plain_logprobs(model, text: str, scale: tuple[int, int, float] | None = None) -> torch.Tensor:
    """log_softmax of every position's logits from one plain forward pass; ``scale`` = (layer, head,
    factor) multiplies that query head's slice of the attention output projection's input."""
    ids = torch.tensor([model.tokenizer(text)["input_ids"]])
    handle = None
    if scale is not None:
        layer, head, factor = scale
        o_proj = model.model.model.layers[layer].self_attn.o_proj
        d = model.model.config.hidden_size // model.model.config.num_attention_heads

        def hook(_module, args):
            x = args[0].clone()
            x[..., head * d : (head + 1) * d] *= factor
            return (x,)

        handle = o_proj.register_forward_pre_hook(hook)
    try:
        with torch.no_grad():
            return torch.log_softmax(model.model(ids).logits[0].double(), -1)
    finally:
        if handle is not None:
            handle.remove()


def plain_letters(model, prompt: str, k: int, scale=None) -> np.ndarray:
    ids = [model.tokenizer(lab, add_special_tokens=False)["input_ids"][0] for lab in LABELS[:k]]
    return plain_logprobs(model, prompt, scale)[-1][ids].numpy()


def lettered(item) -> str:
    lines = "\n".join(f"{lab}. {c}" for lab, c in zip("ABCD", item.choices))
    return f"Question: {item.question}\n{lines}\nAnswer:"


def assert_chain(row: pd.Series, scores: np.ndarray, gold: int) -> None:
    """Every quantity of the row against numpy on the plain scores (log p per choice)."""
    p = np.exp(scores)
    norm = p / p.sum()
    wrong = np.delete(np.arange(len(p)), gold)
    assert row[C.LOGP_VOCAB_GOLD] == pytest.approx(scores[gold], abs=1e-4)
    assert row[C.P_VOCAB_GOLD] == pytest.approx(p[gold], abs=1e-4)
    assert row[C.P_CHOICES_GOLD] == pytest.approx(norm[gold], abs=1e-4)
    assert row[C.P_VOCAB_WRONG] == pytest.approx(p[wrong].sum(), abs=1e-4)
    assert row[C.P_VOCAB_WRONG_MAX] == pytest.approx(p[wrong].max(), abs=1e-4)
    assert row[C.P_CHOICES_WRONG_MAX] == pytest.approx(norm[wrong].max(), abs=1e-4)
    assert bool(row[C.CORRECT]) == (int(np.argmax(scores)) == gold)
    onehot = np.eye(len(p))[gold]
    assert row[C.BRIER] == pytest.approx(float(np.sum((norm - onehot) ** 2)), abs=1e-4)
    np.testing.assert_allclose(row[C.CHOICE_PROBS], p, atol=1e-4)


def test_every_quantity_equals_plain_transformers(smollm2):
    pool, items = split_pool(capitals(6, seed=11), 2, seed=0)
    conds = chain_conditions(formats=["letters", "cloze"], shots=[0, 1],
                             interventions={"none": {}, "L20H1x0": {(20, 1): 0.0}})
    keep = {"letters · 0-shot · none", "letters · 0-shot · L20H1x0", "letters · 1-shot · none",
            "cloze · 0-shot · none"}
    frame = chain_probe(smollm2, items[:3], [c for c in conds if c.name in keep], pool=pool, cache=None)
    assert len(frame) == 4 * 3
    for item in items[:3]:
        rows = frame[frame[C.ITEM_ID] == item.id].set_index(C.CONDITION)
        assert rows.loc["letters · 0-shot · none", C.PROMPT] == lettered(item)
        assert_chain(rows.loc["letters · 0-shot · none"], plain_letters(smollm2, lettered(item), 4), item.answer)
        assert_chain(rows.loc["letters · 0-shot · L20H1x0"], plain_letters(smollm2, lettered(item), 4, (20, 1, 0.0)),
                     item.answer)
        shot = rows.loc["letters · 1-shot · none", C.PROMPT]
        demo = next(d for d in pool if shot.startswith(lettered(d)))  # one solved demonstration, then the item
        assert shot == f"{lettered(demo)} {'ABCD'[demo.answer]}\n\n{lettered(item)}"
        assert_chain(rows.loc["letters · 1-shot · none"], plain_letters(smollm2, shot, 4), item.answer)
        assert_chain(rows.loc["cloze · 0-shot · none"], plain_cloze(smollm2, item), item.answer)


def test_cloze_circular_accuracy_equals_plain_accuracy(smollm2):
    items = capitals(4, seed=2) + arithmetic(6, seed=1)  # capitals it knows, sums it often gets wrong
    cloze = permutation_probe(smollm2, items, orders="cyclic", fmt="cloze")  # the prompt shows no order
    plain = score_choices(smollm2, items, "cloze")
    plain_accuracy = plain[plain[C.IS_PRED]][C.IS_GOLD].astype(bool).mean()
    assert 0 < plain_accuracy < 1 and circular_accuracy(cloze) == pytest.approx(plain_accuracy)
    letters = permutation_probe(smollm2, items, orders="cyclic")  # here order matters: SmolLM2 answers "A"
    assert circular_accuracy(letters) < accuracy(letters)


def test_smece_equals_relplot_on_the_models_confidences(smollm2, tmp_path, monkeypatch):
    import explorer.cli.commands.calibration as cmd

    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: smollm2)
    items = capitals(10, seed=1)
    summary = tmp_path / "s.json"
    assert main(["calibration", "--data", str(save_jsonl(items, tmp_path / "i.jsonl")), "--format", "cloze",
                 "--n-boot", "50", "--folds", "3", "--out", str(tmp_path / "b.csv"), "--summary", str(summary)]) == 0
    s = json.loads(summary.read_text())
    preds = item_confidence(score_choices(smollm2, items, "cloze"))
    expect = relplot.smECE(preds[C.CONFIDENCE].to_numpy(float), preds[C.CORRECT].to_numpy(float))
    assert s["smece"] == pytest.approx(expect, abs=1e-12) and s["smece_low"] <= s["smece"] <= s["smece_high"]


def test_cli_end_to_end(smollm2, tmp_path, monkeypatch, capsys):
    import explorer.cli.commands.chain as cmd

    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: smollm2)
    items = capitals(6, seed=3)
    out, summ = tmp_path / "rows.parquet", tmp_path / "summary.json"
    assert main(["chain", "--data", str(save_jsonl(items, tmp_path / "i.jsonl")), "--format", "letters,cloze",
                 "--out", str(out), "--summary", str(summ)]) == 0
    s = json.loads(summ.read_text())
    rows = pd.read_parquet(out)
    assert list(rows.columns) == C.CHAIN_COLUMNS and len(rows) == 12
    for fmt in ("letters", "cloze"):
        choices = score_choices(smollm2, items, fmt)
        acc = choices[choices[C.IS_PRED]][C.IS_GOLD].astype(bool).mean()
        assert s["conditions"][fmt]["accuracy"] == pytest.approx(acc) and s["conditions"][fmt]["n_items"] == 6
    assert set(s["correlations"]["letters vs cloze"]["spearman"]) == set(C.CHAIN_LINKS)
    assert "letters vs cloze (6 items)" in capsys.readouterr().out


def test_notebook_runs_and_says_what_the_numbers_show():
    nb = run_notebook("notebooks/chain.ipynb", timeout=600)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in code for o in c.outputs)
    printed = "".join(o.get("text", "") for c in code for o in c.outputs if o.get("name") == "stdout")
    lines = {line.split("  ")[0].strip(): line for line in printed.splitlines() if "accuracy" in line}
    value = lambda name, key: float(lines[name].split(key)[1].split()[0])  # noqa: E731
    # the claims of the notebook's last cell, on its own numbers
    for model in ("SmolLM2", "Gemma 3"):
        assert value(f"{model} · cloze", "accuracy") >= 0.8 and value(f"{model} · letters", "accuracy") <= 0.5
    assert value("Gemma 3 · letters", "p_vocab(gold)") > 2 * value("SmolLM2 · letters", "p_vocab(gold)")
    assert value("Gemma 3 · letters", "wrong choices") > 2 * value("SmolLM2 · letters", "wrong choices")
    assert value("Gemma 3 · letters", "p_choices(gold)") < 0.4
    assert value("SmolLM2 · cloze", "p_vocab(gold)") < 0.01 < 0.9 < value("SmolLM2 · cloze", "p_choices(gold)")
