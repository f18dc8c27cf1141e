"""The head probe on the bundled SmolLM2 against plain transformers forwards, the CLI end to end,
and the notebook."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from explorer import columns as C
from explorer.cli.main import main
from explorer.interventions import scale_heads
from explorer.probes.counterfactual import answer_tokens, capital_counterfactuals
from explorer.probes.heads import head_attribution, logit_diff_components, mean_attribution, top_heads
from explorer.probes.sweep import sweep_heads, sweep_summary
from tests.nbrun import run_notebook

pytestmark = pytest.mark.slow
RECORDS = capital_counterfactuals(4, seed=3)


@torch.no_grad()
def plain_logits(model, prompt: str) -> torch.Tensor:
    """Last-position logits of one plain, unpadded forward pass."""
    x = model.tokenizer(prompt, return_tensors="pt")
    return model.model(**x).logits[0, -1].double()


def test_terms_add_up_to_the_plain_logit_difference(smollm2):
    frame = head_attribution(smollm2, RECORDS, batch_size=4)  # one left-padded batch
    comps = logit_diff_components(smollm2, RECORDS, batch_size=4)
    t, f = answer_tokens(smollm2.tokenizer, RECORDS)
    p = smollm2.parts
    assert len(frame) == len(RECORDS) * p.n_layers * p.n_heads == len(RECORDS) * 30 * 9
    for i, r in enumerate(RECORDS):
        logits = plain_logits(smollm2, r.prompt)
        plain = float(logits[int(t[i])] - logits[int(f[i])])
        mine = frame[frame[C.PROMPT_ID] == r.id]
        assert mine[C.LOGIT_DIFF].iloc[0] == pytest.approx(plain, abs=1e-4)
        total = comps[comps[C.PROMPT_ID] == r.id][C.ATTRIBUTION].sum()
        assert total == pytest.approx(plain, abs=1e-4)
        heads = comps[(comps[C.PROMPT_ID] == r.id) & (comps[C.COMPONENT] == "heads")][C.ATTRIBUTION].sum()
        assert mine[C.ATTRIBUTION].sum() == pytest.approx(heads, abs=1e-4)


def test_sweep_equals_plain_scaled_forwards(smollm2):
    records = RECORDS[:3]
    head, factors = (23, 4), [-5.0, 0.0, 1.0, 5.0]
    frame = sweep_heads(smollm2, records, [head], factors)  # 12 rows, one pass
    t, f = answer_tokens(smollm2.tokenizer, records)
    for a in factors:
        with scale_heads(smollm2, {head: a}):
            plain = [torch.log_softmax(plain_logits(smollm2, r.prompt), -1) for r in records]
        rows = frame[frame[C.FACTOR] == a]
        for i in range(len(records)):
            assert rows[C.TARGET_LOGPROB].iloc[i] == pytest.approx(float(plain[i][int(t[i])]), abs=1e-4)
            assert rows[C.FOIL_LOGPROB].iloc[i] == pytest.approx(float(plain[i][int(f[i])]), abs=1e-4)
    summary = sweep_summary(frame)
    assert summary[C.N_PROMPTS].tolist() == [3] * 4
    assert summary[C.MEAN_LOGIT_DIFF].is_monotonic_decreasing  # the foil head: scaling it up helps the foil


def test_cli_end_to_end(smollm2, tmp_path, monkeypatch, capsys):
    import explorer.cli.commands.heads as cmd

    asked = []
    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: asked.append(name) or smollm2)  # tested apart
    data = tmp_path / "cf.jsonl"
    data.write_text("".join(json.dumps({"id": r.id, "prompt": r.prompt, "target": r.target, "foil": r.foil}) + "\n"
                            for r in RECORDS[:3]))
    out, summ = tmp_path / "attr.csv", tmp_path / "summary.json"
    code = main(["heads", "--data", str(data), "--model", "smollm2-135m", "--top", "3", "--alphas", "-5,0,1",
                 "--out", str(out), "--summary", str(summ)])
    assert code == 0 and asked == ["smollm2-135m"]
    rows = pd.read_csv(out)
    assert list(rows.columns) == C.HEAD_ATTRIBUTION_COLUMNS and len(rows) == 3 * 30 * 9
    s = json.loads(summ.read_text())
    expect = head_attribution(smollm2, RECORDS[:3])
    mean = mean_attribution(expect)
    assert s["n_prompts"] == 3 and s["alphas"] == [-5.0, 0.0, 1.0]
    assert s["base_target_rate"] == pytest.approx(float((expect.groupby(C.PROMPT_ID)[C.LOGIT_DIFF].first() > 0).mean()))
    for key, toward in (("top_target_heads", "target"), ("top_foil_heads", "foil")):
        expected = top_heads(mean, 3, toward=toward)
        assert [h[:2] for h in s[key]] == [h[:2] for h in expected]
        assert [h[2] for h in s[key]] == pytest.approx([h[2] for h in expected], abs=1e-6)
    for role, ranked in (("target_head", s["top_target_heads"]), ("foil_head", s["top_foil_heads"])):
        entry = s["sweep"][role]
        assert [entry["layer"], entry["head"]] == ranked[0][:2] and entry["factors"] == [-5.0, 0.0, 1.0]
        assert entry["target_rate"][2] == pytest.approx(s["base_target_rate"])  # factor 1 = unscaled
    assert "base target rate" in capsys.readouterr().out


def test_notebook_runs():
    nb = run_notebook("notebooks/heads.ipynb", timeout=300)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "strongest towards the foil" in text and "facts known without context" in text
