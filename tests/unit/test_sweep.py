"""Scaling sweep: one batched pass over factors equals separate scaled runs through the engine."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.interventions import scale_heads
from explorer.interventions.heads import InterventionError
from explorer.probes import sweep as sweep_module
from explorer.probes.counterfactual import answer_tokens
from explorer.probes.heads import head_attribution
from explorer.probes.sweep import sweep_heads, sweep_summary
from explorer.scoring import score_next_token
from tests.unit.test_head_attribution import RECORDS

FACTORS = [-2.0, 0.0, 1.0, 3.5]


def test_batched_factors_equal_separate_scaled_runs(tiny_any):
    heads = [(1, 2), (0, 0)]
    frame = sweep_heads(tiny_any, RECORDS, heads, FACTORS)
    assert list(frame.columns) == C.SWEEP_COLUMNS and len(frame) == len(RECORDS) * len(FACTORS)
    assert frame[C.FACTOR].tolist() == np.repeat(FACTORS, len(RECORDS)).tolist()
    t, f = answer_tokens(tiny_any.tokenizer, RECORDS)
    vocab = sorted(set(t.tolist()) | set(f.tolist()))
    for a in FACTORS:
        with scale_heads(tiny_any, {h: a for h in heads}):
            lp = score_next_token(tiny_any, [r.prompt for r in RECORDS], vocab, cache=None).logprobs
            engine = [(lp[i, vocab.index(t[i])], lp[i, vocab.index(f[i])]) for i in range(len(RECORDS))]
            attributed = head_attribution(tiny_any, RECORDS).groupby(C.PROMPT_ID, sort=False)[C.LOGIT_DIFF].first()
        mine = frame[frame[C.FACTOR] == a].set_index(C.PROMPT_ID)
        for i, r in enumerate(RECORDS):
            assert mine.loc[r.id, C.TARGET_LOGPROB] == pytest.approx(engine[i][0], abs=1e-4)
            assert mine.loc[r.id, C.FOIL_LOGPROB] == pytest.approx(engine[i][1], abs=1e-4)
            assert mine.loc[r.id, C.LOGIT_DIFF] == pytest.approx(attributed[r.id], abs=1e-4)
            assert mine.loc[r.id, C.TARGET_WINS] == (attributed[r.id] > 0)
    assert tiny_any.interventions == ()
    assert all(not tiny_any.parts.out_proj(l)._forward_pre_hooks for l in range(tiny_any.parts.n_layers))


def test_all_factors_in_one_pass_when_they_fit(tiny):
    calls = []
    handle = tiny.parts.base_model().register_forward_hook(lambda m, a, o: calls.append(a))
    try:
        sweep_heads(tiny, RECORDS, [(1, 1)], FACTORS, batch_size=64)
        assert len(calls) == 1
        calls.clear()
        sweep_heads(tiny, RECORDS, [(1, 1)], FACTORS, batch_size=8)  # 2 prompts x 4 factors per pass
        assert len(calls) == 2
    finally:
        handle.remove()


def test_passes_group_prompts_by_length_under_a_token_budget_and_rows_keep_data_order(tiny):
    """Prompts of very different lengths run shortest first in passes sized by tokens; the rows come
    back in data order with the numbers of one pass holding everything."""
    from explorer.probes.counterfactual import Counterfactual

    long = " ".join(["the capital of France is Paris ."] * 12)
    records = [Counterfactual("long", long + " Q : What is the capital of France ? A :", "Rome", "Paris"),
               *RECORDS, Counterfactual("longer", long + long + " A :", "Paris", "Rome")]
    passes = []
    handle = tiny.parts.base_model().register_forward_hook(lambda m, a, kw, o: passes.append(kw["input_ids"].shape),
                                                          with_kwargs=True)
    try:
        split = sweep_heads(tiny, records, [(1, 1)], FACTORS, token_budget=400)
    finally:
        handle.remove()
    together = sweep_heads(tiny, records, [(1, 1)], FACTORS, token_budget=10**6)
    assert len(passes) > 2 and passes[0][1] < passes[-1][1]  # short prompts first, the longest last
    assert all(rows * width <= 400 or rows == len(FACTORS) for rows, width in passes)
    assert split[C.PROMPT_ID].tolist() == [r.id for r in records] * len(FACTORS)
    pd.testing.assert_frame_equal(split, together, atol=1e-5)


def test_summary_by_hand():
    frame = pd.DataFrame({C.HEADS: "L0H0", C.PROMPT_ID: ["a", "b", "c"] * 2, C.FACTOR: [1.0] * 3 + [0.0] * 3,
                          C.LOGIT_DIFF: [1.0, -2.0, 0.5, -1.0, -1.0, 4.0]})
    frame[C.TARGET_WINS] = frame[C.LOGIT_DIFF] > 0
    out = sweep_summary(frame)
    assert out[C.FACTOR].tolist() == [1.0, 0.0]  # the caller's factor order
    assert out[C.TARGET_RATE].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert out[C.MEAN_LOGIT_DIFF].tolist() == pytest.approx([-0.5 / 3, 2 / 3])
    assert out[C.N_PROMPTS].tolist() == [3, 3]


def test_errors(tiny):
    with pytest.raises(ValueError, match="no factors"):
        sweep_heads(tiny, RECORDS, [(0, 0)], [])
    with pytest.raises(InterventionError, match="layer 9 out of range"):
        sweep_heads(tiny, RECORDS, [(9, 0)], [1.0])


def test_doctests():
    assert doctest.testmod(sweep_module).failed == 0
