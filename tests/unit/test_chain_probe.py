"""The chain probe on tiny models: its quantities are the choice frame's, conditions, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from explorer import columns as C
from explorer.cli.main import main
from explorer.errors import ItemError
from explorer.items import Item, save_jsonl
from explorer.metrics.chain_summary import summarize_chain
from explorer.probes.chain import Condition, chain_conditions, chain_probe
from explorer.probes.choices import score_choices
from explorer.prompts.demos import split_pool
from tests.tiny import tiny_items as items
from tests.tiny import tiny_model


def test_quantities_are_the_choice_frames(tiny):
    frame = chain_probe(tiny, items(), chain_conditions(formats=["letters", "cloze"]), cache=None)
    assert list(frame.columns) == C.CHAIN_COLUMNS and len(frame) == 16
    assert frame[C.CONDITION].tolist() == ["letters"] * 8 + ["cloze"] * 8
    for fmt in ("letters", "cloze"):
        choices = score_choices(tiny, items(), fmt, cache=None)
        gold = choices[choices[C.IS_GOLD].astype(bool)].set_index(C.ITEM_ID)
        rows = frame[frame[C.CONDITION] == fmt].set_index(C.ITEM_ID)
        np.testing.assert_allclose(rows[C.LOGP_VOCAB_GOLD], gold.loc[rows.index, C.LOGPROB], rtol=0, atol=1e-12)
        np.testing.assert_allclose(rows[C.P_VOCAB_GOLD], gold.loc[rows.index, C.PROB], atol=1e-12)
        np.testing.assert_allclose(rows[C.P_CHOICES_GOLD], gold.loc[rows.index, C.PROB_NORM], atol=1e-12)
        pred = choices[choices[C.IS_PRED]].set_index(C.ITEM_ID)
        assert (rows[C.CORRECT] == pred.loc[rows.index, C.IS_GOLD].astype(bool)).all()
        wrong = choices[~choices[C.IS_GOLD].astype(bool)].groupby(C.ITEM_ID)
        np.testing.assert_allclose(rows[C.P_VOCAB_WRONG], wrong[C.PROB].sum().loc[rows.index], atol=1e-12)
        np.testing.assert_allclose(rows[C.P_VOCAB_WRONG_MAX], wrong[C.PROB].max().loc[rows.index], atol=1e-12)
        onehot = choices[C.IS_GOLD].astype(float)
        brier = ((choices[C.PROB_NORM] - onehot) ** 2).groupby(choices[C.ITEM_ID]).sum()
        np.testing.assert_allclose(rows[C.BRIER], brier.loc[rows.index], atol=1e-12)
        assert rows[C.PROMPT].tolist() == choices.drop_duplicates(C.ITEM_ID)[C.PROMPT].tolist()


def test_shots_use_the_pool_and_interventions_leave_no_trace(tiny):
    pool, scored = split_pool(items(10), 3, seed=0)
    before = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    conds = chain_conditions(shots=[0, 1], interventions={"none": {}, "L1H0x0": {(1, 0): 0.0}})
    frame = chain_probe(tiny, scored, conds, pool=pool, cache=None)
    assert [c.name for c in conds] == ["0-shot · none", "0-shot · L1H0x0", "1-shot · none", "1-shot · L1H0x0"]
    by = frame.groupby(C.CONDITION, sort=False)
    assert by.size().tolist() == [7] * 4 and set(frame[C.ITEM_ID]) == {i.id for i in scored}
    one_shot = frame[frame[C.CONDITION] == "1-shot · none"]
    assert all(p.count("Question:") == 2 for p in one_shot[C.PROMPT])  # a demonstration, then the item
    scaled = frame[frame[C.CONDITION] == "0-shot · L1H0x0"]
    assert (scaled[C.INTERVENTION] == "scale L1H0x0.0").all()
    base = frame[frame[C.CONDITION] == "0-shot · none"]
    assert not np.allclose(scaled[C.LOGP_VOCAB_GOLD], base[C.LOGP_VOCAB_GOLD])
    assert all(torch.equal(before[k], v) for k, v in tiny.model.state_dict().items())
    again = chain_probe(tiny, scored, [Condition("again")], cache=None)  # hooks are gone afterwards
    np.testing.assert_allclose(again[C.LOGP_VOCAB_GOLD], base[C.LOGP_VOCAB_GOLD], atol=1e-6)


def test_two_models_and_their_names(tiny):
    other = tiny_model("qwen2")
    frame = chain_probe({"llama": tiny, "qwen": other}, items(4))
    assert frame[C.CONDITION].unique().tolist() == ["llama", "qwen"]
    assert frame[C.MODEL].unique().tolist() == ["llama", "qwen"]
    s = summarize_chain(frame)
    assert set(s["correlations"]) == {"llama vs qwen"} and s["conditions"]["qwen"]["n_items"] == 4
    listed = chain_probe([tiny, other], items(4))
    assert listed[C.CONDITION].unique().tolist() == ["tiny-llama", "tiny-qwen2"]
    single = chain_probe(tiny, items(4))
    assert single[C.CONDITION].unique().tolist() == ["letters · 0-shot"] and single[C.MODEL].iloc[0] == "tiny-llama"


def test_bad_conditions_and_items_are_refused(tiny):
    with pytest.raises(ValueError, match="share a name"):
        chain_probe([tiny, tiny_model("llama", seed=2)], items(2))
    with pytest.raises(ValueError, match="condition names repeat"):
        chain_probe(tiny, items(2), [Condition("x"), Condition("x", fmt="cloze")])
    with pytest.raises(KeyError, match="'gemma'"):
        chain_probe(tiny, items(2), [Condition("x", model="gemma")])
    no_gold = [Item(id="nog", question="What is the capital of France?", choices=("Paris", "Rome"))]
    with pytest.raises(ItemError, match="'nog'.*answer"):
        chain_probe(tiny, no_gold)


def test_progress_counts_items_over_conditions(tiny):
    seen = []
    chain_probe(tiny, items(4), chain_conditions(formats=["letters", "cloze"]), cache=None,
                progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (8, 8) and all(t == 8 for _, t in seen) and seen == sorted(seen)


@pytest.fixture
def cli(tiny, monkeypatch, tmp_path):
    import explorer.cli.commands.chain as cmd

    models = {"tiny-a": tiny, "tiny-b": tiny_model("llama", seed=1)}
    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: models[name or "tiny-a"])
    return save_jsonl(items(12), tmp_path / "items.jsonl"), tmp_path / "rows.csv", tmp_path / "summary.json"


def test_cli_shots(cli, tiny, capsys):
    data, out, summ = cli
    assert main(["chain", "--data", str(data), "--shots", "0,1", "--pool-size", "4", "--out", str(out),
                 "--summary", str(summ)]) == 0
    rows, s = pd.read_csv(out), json.loads(summ.read_text())
    assert list(rows.columns) == C.CHAIN_COLUMNS and len(rows) == 2 * 8
    assert set(s["conditions"]) == {"0-shot", "1-shot"} and s["_meta"]["demonstrations"]["n_pool"] == 4
    for cond in s["conditions"].values():
        assert {"logp_vocab_gold", "p_vocab_gold", "p_choices_gold", "accuracy", "brier", "n_items"} <= set(cond)
    pair = s["correlations"]["0-shot vs 1-shot"]
    assert set(pair["spearman"]) == set(C.CHAIN_LINKS) and 0 <= pair["same_sign_share"] <= 1
    zero = rows[rows[C.CONDITION] == "0-shot"]
    assert s["conditions"]["0-shot"]["accuracy"] == pytest.approx(zero[C.CORRECT].mean())
    assert s["conditions"]["0-shot"]["brier"] == pytest.approx(zero[C.BRIER].mean())
    assert "0-shot vs 1-shot (8 items), Spearman by link" in capsys.readouterr().out


def test_cli_single_condition_keys_at_top_level(cli):
    data, out, summ = cli
    assert main(["chain", "--data", str(data), "--format", "cloze", "--out", str(out), "--summary", str(summ)]) == 0
    s = json.loads(summ.read_text())
    assert s["n_items"] == 12 and s["accuracy"] == s["conditions"]["tiny-llama · cloze · 0-shot"]["accuracy"]


def test_cli_models_formats_and_heads(cli):
    data, out, summ = cli
    assert main(["chain", "--data", str(data), "--models", "tiny-a,tiny-b", "--format", "letters,cloze",
                 "--heads", "L1H0x0,L0H2x2.5", "--out", str(out), "--summary", str(summ)]) == 0
    s = json.loads(summ.read_text())
    assert len(s["conditions"]) == 8 and len(s["correlations"]) == 28
    name = "tiny-b · cloze · scaled L1H0x0,L0H2x2.5"
    assert s["_meta"]["condition_settings"][name]["heads"] == {"L1H0": 0.0, "L0H2": 2.5}


@pytest.mark.parametrize("argv, message", [(["--heads", "12:3=0"], "write LAYERhHEADxFACTOR"),
                                           (["--models", "a,a"], "distinct model names"),
                                           (["--shots", "0,x"], "comma-separated list of integers")])
def test_cli_bad_arguments(cli, capsys, argv, message):
    data, out, summ = cli
    with pytest.raises(SystemExit):
        main(["chain", "--data", str(data), *argv, "--out", str(out), "--summary", str(summ)])
    assert message in capsys.readouterr().err


def test_doctests():
    import doctest

    from explorer.probes import conditions as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
