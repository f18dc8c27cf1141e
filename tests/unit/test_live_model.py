"""The cache key follows the live model: in-place weight edits, foreign hooks, the tokenizer."""

from __future__ import annotations

import threading
import warnings
from contextlib import ExitStack

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer

from explorer.interventions import add_hook
from explorer.models.handle import LoadedModel
from explorer.scoring import ResultCache, score_next_token
from explorer.scoring.engine import UncachedWarning
from tests.tiny import tiny_model, tiny_tokenizer

PROMPTS = ["Question : What is the capital of France ?\nAnswer :", "What is the capital of Spain ?"]


def _plain(model):
    return score_next_token(model, PROMPTS, [5, 6, 7], cache=None).logprobs


@pytest.mark.parametrize("edit", [
    lambda w: w.mul_(0.5),  # an in-place op on the parameter
    lambda w: w.data.mul_(0.5),  # through .data: version counters do not see it
    lambda w: w.data[3, :].zero_(),  # one row through .data
    lambda w: w.data[:, 5].zero_(),  # one column through .data
])
def test_in_place_weight_edit_changes_the_key_and_the_cached_numbers(tiny, edit):
    cache = ResultCache(None)
    clean_key = tiny.state_key()
    before = score_next_token(tiny, PROMPTS, [5, 6, 7], cache=cache).logprobs
    with torch.no_grad():
        edit(tiny.parts.out_proj(1).weight)
    assert tiny.state_key() != clean_key and "|edited:" in tiny.state_key()
    after = score_next_token(tiny, PROMPTS, [5, 6, 7], cache=cache).logprobs
    np.testing.assert_array_equal(after, _plain(tiny))  # the edited model's numbers, not the cached clean ones
    assert not np.allclose(before, after)


def test_load_state_dict_and_restoring_weights(tiny):
    clean_key = tiny.state_key()
    saved = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    with torch.no_grad():
        tiny.parts.out_proj(0).weight.mul_(2)
    edited = tiny.state_key()
    tiny.model.load_state_dict(saved)  # values restored, but through in-place copies
    assert tiny.state_key() not in (clean_key, edited)  # conservative: a new state, never the wrong one
    tiny.weights_loaded()
    assert tiny.state_key() == clean_key


def test_unchanged_model_keeps_its_key_and_the_disk_cache(tiny, tmp_path):
    key = tiny.state_key()
    score_next_token(tiny, PROMPTS, [5], cache=ResultCache(tmp_path / "r.sqlite"))
    assert tiny.state_key() == key
    fresh = ResultCache(tmp_path / "r.sqlite")
    score_next_token(tiny, PROMPTS, [5], cache=fresh)
    assert fresh.hits == len(PROMPTS)


def test_foreign_hook_bypasses_the_cache_with_one_notice(tiny):
    cache = ResultCache(None)
    clean = score_next_token(tiny, PROMPTS, [5, 6], cache=cache).logprobs
    handle = tiny.parts.final_norm().register_forward_hook(lambda m, a, out: out * 0.5)
    try:
        with pytest.warns(UncachedWarning, match="final_norm|model.norm"):
            hooked = score_next_token(tiny, PROMPTS, [5, 6], cache=cache).logprobs
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # said once per model, not on every call
            again = score_next_token(tiny, PROMPTS, [5, 6], cache=cache).logprobs
        assert tiny.foreign_hooks() == ["model.norm"]
    finally:
        handle.remove()
    assert not np.allclose(clean, hooked)
    np.testing.assert_array_equal(hooked, again)
    hits = cache.hits
    score_next_token(tiny, PROMPTS, [5, 6], cache=cache)  # hook gone: the clean results are served again
    assert cache.hits == hits + len(PROMPTS)


def test_project_hooks_and_transformers_recorders_are_not_foreign(tiny):
    tiny.model(torch.tensor([[1, 2, 3]]), output_hidden_states=True)  # transformers installs read-only recorders
    assert tiny.foreign_hooks() == []
    with ExitStack() as stack:
        add_hook(stack, tiny, tiny.parts.final_norm(), lambda m, a, out: None)
        assert tiny.foreign_hooks() == [] and tiny.own_hook_ids
    assert not tiny.own_hook_ids and tiny.foreign_hooks() == []


def test_project_hooks_act_on_their_own_thread_only(tiny):
    seen = []
    with ExitStack() as stack:
        add_hook(stack, tiny, tiny.parts.final_norm(), lambda m, a, out: seen.append(threading.get_ident()))
        t = threading.Thread(target=lambda: tiny.model(torch.tensor([[1, 2, 3]])))
        t.start()
        t.join()
        assert seen == []
        tiny.model(torch.tensor([[1, 2, 3]]))
    assert seen == [threading.get_ident()]


def _tokenizer_copy(bos: str = "<bos>"):
    """A tokenizer equal to the tiny one but sharing no state with it (the tiny one is cached)."""
    tok = tiny_tokenizer()
    return type(tok)(tokenizer_object=Tokenizer.from_str(tok.backend_tokenizer.to_str()), bos_token=bos,
                     eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")


def test_fingerprint_covers_the_tokenizer():
    model = tiny_model("llama").model
    same = [LoadedModel(model=model, tokenizer=_tokenizer_copy(), name="x", source="config", fingerprint="w")
            for _ in range(2)]
    other = LoadedModel(model=model, tokenizer=_tokenizer_copy(bos="<eos>"), name="x", source="config",
                        fingerprint="w")
    assert same[0].fingerprint == same[1].fingerprint != other.fingerprint
    key = same[0].state_key()
    same[1].tokenizer.add_tokens(["Lisbon"])  # a token added after loading changes the live key
    assert same[1].fingerprint == same[0].fingerprint and same[1].state_key() != key


def test_capture_records_only_its_own_threads_passes(tiny):
    from explorer.probes.heads import capture

    prompts = ["What is the capital of France ?", "The capital of Spain is"]
    solo = capture(tiny, prompts, blocks=True)
    paused, other_done, results = threading.Event(), threading.Event(), {}
    owner = []

    def pause(module, args):  # A stops inside its pass, after layer 0 was captured
        if threading.get_ident() == owner[0]:
            paused.set()
            other_done.wait(10)

    def run_a():
        owner.append(threading.get_ident())
        results["a"] = capture(tiny, prompts, blocks=True)

    handle = tiny.parts.layers()[1].register_forward_pre_hook(pause)
    try:
        a = threading.Thread(target=run_a)
        a.start()
        assert paused.wait(10)
        with torch.no_grad():  # another thread's pass, with other prompts, while A's hooks are attached
            tiny.model(torch.tensor([[1, 7, 9, 11, 13, 15, 17]]))
        other_done.set()
        a.join(10)
    finally:
        handle.remove()
    for field in ("z", "attn_out", "resid", "final", "layer_in", "layer_out"):
        torch.testing.assert_close(getattr(results["a"], field), getattr(solo, field), rtol=0, atol=0)
