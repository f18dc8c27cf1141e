"""Prompts past what a model reads: refused before anything is scored, naming the item, its token count
and the limit; ``truncate="left"`` cuts the start instead, and equals a plain run on the cut tokens.

A tiny model with 64 positions; its tokenizer reports no limit at all (as SmolLM2's does): the
config is the truth.
"""

from __future__ import annotations

import warnings
from contextlib import ExitStack

import numpy as np
import pytest
import torch

from explorer.cli.main import main
from explorer.interventions.hooks import add_hook
from explorer.items import Item, save_jsonl
from explorer.probes import attentiveness, chain_conditions, chain_probe, head_attribution, layer_pma, score_choices
from explorer.probes.counterfactual import Counterfactual
from explorer.probes.permutation import permutation_probe
from explorer.probes.sweep import sweep_heads
from explorer.prompts import DEFAULT_FORMAT
from explorer.prompts.tokens import encode_prompt
from explorer.scoring import ResultCache, score_continuations, score_next_token
from explorer.scoring.context import ContextLengthError, TruncationWarning, position_limit
from tests.tiny import tiny_items, tiny_model

LONG_QUESTION = " ".join(["What is the capital of France ?"] * 40)  # 280 tokens


@pytest.fixture(scope="module")
def short():
    """A tiny Llama that reads 64 positions."""
    return tiny_model("llama", max_position_embeddings=64)


def _long_item() -> Item:
    return Item("long", LONG_QUESTION, ("Paris", "Rome", "Berlin", "Madrid"), answer=0)


def _forwards(model):
    calls, stack = [], ExitStack()
    add_hook(stack, model, model.parts.base_model(), lambda *a: calls.append(1))
    return calls, stack


def _plain_next(model, ids):
    with torch.no_grad():
        return torch.log_softmax(model.model(torch.tensor([ids])).logits[0, -1].float(), -1).numpy()


def test_the_limit_is_the_configs_not_the_tokenizers(short):
    assert short.tokenizer.model_max_length > 10**20  # the tokenizer says nothing useful
    limit = position_limit(short)
    assert limit.tokens == 64 and limit.source == "config.max_position_embeddings = 64"
    assert position_limit(tiny_model("gpt2")).tokens == 256  # n_positions, through the config's attribute map


def test_a_window_on_every_layer_bounds_the_reach_and_a_full_layer_lifts_it():
    every = tiny_model("gemma3_text", layer_types=["sliding_attention", "sliding_attention"])
    limit = position_limit(every)
    assert limit.tokens == 2 * 15 + 1
    assert "every one of its 2 layers attends through a sliding window of 16" in limit.source
    assert position_limit(tiny_model("gemma3_text")).tokens == 4096  # one full-attention layer sees every token
    prompt = " ".join(["Paris"] * 40)
    with pytest.raises(ContextLengthError, match="is 40 tokens, past the 31 this model reads"):
        score_next_token(every, [prompt], [5], cache=None)


def test_score_choices_refuses_a_long_item_before_scoring_anything(short):
    items = [*tiny_items(3), _long_item()]
    cache = ResultCache(None)
    calls, hooks = _forwards(short)
    with hooks, pytest.raises(ContextLengthError) as e:
        score_choices(short, items, cache=cache)
    n = len(encode_prompt(short.tokenizer, DEFAULT_FORMAT.build(items[-1])))
    assert str(e.value).startswith(f"the prompt of item 'long' is {n} tokens, past the 64 this model reads "
                                   "(config.max_position_embeddings = 64). Fix: shorten it")
    assert "truncate='left'" in str(e.value) and n > 280
    assert calls == [] and len(cache) == 0  # nothing was scored


def test_every_probe_refuses_before_its_first_pass(short):
    items = tiny_items(2)
    pool = [Item(f"d{i}", LONG_QUESTION, ("Paris", "Rome"), answer=0) for i in range(2)]
    calls, hooks = _forwards(short)
    with hooks:
        for run in [lambda: permutation_probe(short, [*items, _long_item()], cache=None),
                    lambda: attentiveness(short, items, ["letters"], shots=[0, 1], pool=pool, cache=None),
                    lambda: chain_probe(short, items, chain_conditions(shots=[0, 1]), pool=pool, cache=None),
                    lambda: layer_pma(short, [_long_item()])]:
            with pytest.raises(ContextLengthError, match=r"the prompt of item '(long|q0)' is \d+ tokens, past the 64"):
                run()
        record = Counterfactual("r1", LONG_QUESTION + " The capital of France is", " Rome", " Paris")
        with pytest.raises(ContextLengthError, match=r"the prompt of record 'r1' is \d+ tokens, past the 64"):
            head_attribution(short, [record])
        with pytest.raises(ContextLengthError, match=r"the prompt of record 'r1' is \d+ tokens"):
            sweep_heads(short, [record], [(0, 1)], [0.0, 1.0])
    assert calls == []  # the 0-shot condition of attentiveness and chain was not scored first


def test_the_engine_names_the_prompt_by_position(short):
    prompts = ["What is the capital of France ?", LONG_QUESTION]
    with pytest.raises(ContextLengthError, match=r"^prompt 1 \('What is the capital of France \? What is '\.\.\.\) is "
                                                 r"280 tokens, past the 64"):
        score_next_token(short, prompts, [5], cache=None)
    with pytest.raises(ContextLengthError, match=r"^prompt 0 .* is 66 tokens with 6 scored after it, past the 64"):
        score_continuations(short, [" ".join(["Paris"] * 60)], [[" Rome"] * 1 + [" Paris Rome Paris Rome Paris Rome"]],
                            cache=None)


def test_left_truncation_keeps_bos_and_the_end_and_equals_a_plain_run_on_the_cut_tokens(short):
    prompt = "<bos>" + LONG_QUESTION + " Answer:"
    whole = encode_prompt(short.tokenizer, prompt)
    assert whole[0] == short.tokenizer.bos_token_id and len(whole) > 64
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = score_next_token(short, [prompt, "What is the capital of Spain ?"], [5, 6], top_k=3, truncate="left",
                               cache=None)
    told = [str(w.message) for w in seen if issubclass(w.category, TruncationWarning)]
    assert len(told) == 1 and f"1 prompt(s) were cut from the left to the 64 tokens" in told[0]
    assert f"{len(whole)} tokens, {len(whole) - 64} cut from its start" in told[0]
    cut = [whole[0], *whole[len(whole) - 63:]]
    np.testing.assert_allclose(got.logprobs[0], _plain_next(short, cut)[[5, 6]], atol=1e-5)
    short_ids = encode_prompt(short.tokenizer, "What is the capital of Spain ?")
    np.testing.assert_allclose(got.logprobs[1], _plain_next(short, short_ids)[[5, 6]], atol=1e-5)


def test_left_truncation_keeps_a_continuation_whole(short):
    context, cont = LONG_QUESTION, " Paris Rome Berlin"
    with pytest.warns(TruncationWarning, match="1 prompt"):
        got = score_continuations(short, [context], [[cont]], truncate="left", cache=None)[0][0]
    ctx = encode_prompt(short.tokenizer, context)
    whole = encode_prompt(short.tokenizer, context + cont)
    ids = whole[len(whole) - 64:]
    with torch.no_grad():
        lp = torch.log_softmax(short.model(torch.tensor([ids])).logits[0].float(), -1)
    n = len(whole) - len(ctx)
    expected = [lp[64 - n - 1 + j, whole[len(ctx) + j]].item() for j in range(n)]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_truncated_choices_name_the_item_and_a_target_too_long_to_fit_is_still_refused(short):
    items = [*tiny_items(2), _long_item()]
    with pytest.warns(TruncationWarning, match=r"most: the prompt of item 'long'"):
        frame = score_choices(short, items, truncate="left", cache=None)
    np.testing.assert_allclose(frame[frame.item_id != "long"].logprob,
                               score_choices(short, items[:2], cache=None).logprob, atol=1e-6)
    long = Item("huge", "What is the capital ?", ("Paris " * 70, "Rome"), answer=1)
    with pytest.raises(ContextLengthError, match="item 'huge' is .*, and cutting its start cannot make it fit"):
        score_choices(short, [long], "string", truncate="left", cache=None)
    with pytest.raises(ValueError, match="truncate must be None .* or 'left', not 'right'"):
        score_choices(short, items, truncate="right", cache=None)


def test_a_truncated_result_is_never_served_for_the_whole_prompt(short):
    cache = ResultCache(None)
    with pytest.warns(TruncationWarning):
        score_choices(short, [_long_item()], truncate="left", cache=cache)
    with pytest.raises(ContextLengthError):
        score_choices(short, [_long_item()], cache=cache)


def test_the_cli_refuses_a_long_item_in_one_line(short, tmp_path, capsys):
    short.model.save_pretrained(tmp_path / "model")
    short.tokenizer.save_pretrained(tmp_path / "model")
    data = save_jsonl([*tiny_items(2), _long_item()], tmp_path / "items.jsonl")
    code = main(["score", "--data", str(data), "--model", str(tmp_path / "model"), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and err.startswith("lm-explorer score: error: the prompt of item 'long' is ")
    assert "past the 64 this model reads" in err and not (tmp_path / "s.csv").exists()
