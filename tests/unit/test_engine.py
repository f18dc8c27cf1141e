"""The scoring engine against a plain one-prompt-at-a-time forward, on every tiny architecture;
plus prefix sharing, caching, cancellation and progress."""

from __future__ import annotations

import itertools
from contextlib import ExitStack
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from explorer.errors import Cancelled
from explorer.interventions import add_hook
from explorer.items import Item
from explorer.prompts import DEFAULT_FORMAT, label_token_ids
from explorer.scoring import ResultCache, score_continuations, score_next_token
from explorer.scoring.trie import build_tree
from tests.tiny import tiny_model

ITEM = Item(id="fr", question="What is the capital of France?", choices=("Paris", "Berlin", "Rome", "Madrid"),
            answer=0)
PROMPTS = [DEFAULT_FORMAT.build(ITEM.permuted(o)) for o in itertools.permutations(range(4))][:9] + [
    "What is", "What is the capital of Spain?", "What is the capital of Spain?",  # a prefix and a duplicate
    "The capital of Germany is Berlin . Q : What is the capital of Germany ?\nA :"]


def plain_next(model, prompts, ids):
    out = []
    with torch.no_grad():
        for p in prompts:
            x = torch.tensor([model.tokenizer(p).input_ids])
            out.append(torch.log_softmax(model.model(x).logits[0, -1].float(), -1)[ids].numpy())
    return np.array(out)


def test_trie_shares_prefixes_and_locates_positions():
    seqs = [[1, 2, 3, 4], [1, 2, 5], [1, 2, 3, 4], [1, 2]]
    tops = build_tree(seqs, [[3], [2], [1, 3], [1]])
    assert len(tops) == 1 and tops[0].tokens == [1, 2]
    lv = [tops, [c for n in tops for c in n.children.values()]]  # the nodes by depth
    assert [sorted(n.tokens for n in level) for level in lv] == [[[1, 2]], [[3, 4], [5]]]
    reads = {r: (n.start, off) for level in lv for n in level for r, _, off in n.reads}
    assert reads[1] == (2, 0) and reads[3] == (0, 1)
    with pytest.raises(IndexError):
        build_tree([[1, 2]], [[2]])


@pytest.mark.parametrize("batch_size", [1, 3, 32])
def test_next_token_equals_plain_forward_every_arch(tiny_any, batch_size):
    ids = label_token_ids(tiny_any.tokenizer, [" A", " B", " C", " D"])
    got = score_next_token(tiny_any, PROMPTS, ids, top_k=5, batch_size=batch_size, cache=None)
    np.testing.assert_allclose(got.logprobs, plain_next(tiny_any, PROMPTS, ids), atol=1e-5)
    assert got.top_ids.shape == (len(PROMPTS), 5)
    assert np.all(np.diff(got.top_logprobs, axis=1) <= 0)  # best first


def test_top_k_matches_plain_argmax(tiny):
    got = score_next_token(tiny, PROMPTS, [5], top_k=1, cache=None)
    with torch.no_grad():
        greedy = [int(tiny.model(torch.tensor([tiny.tokenizer(p).input_ids])).logits[0, -1].argmax()) for p in PROMPTS]
    assert got.top_ids[:, 0].tolist() == greedy


def test_continuations_equal_plain_forward_every_arch(tiny_any):
    contexts = ["The capital of France is", "Question: What is the capital of Spain?\nAnswer:"]
    conts = [[" Paris", " Paris is the capital", " Rome"], [" Madrid", " Madrid ."]]
    got = score_continuations(tiny_any, contexts, conts, batch_size=2, cache=None)
    tok = tiny_any.tokenizer
    with torch.no_grad():
        for ctx, cs, row in zip(contexts, conts, got):
            for c, lp in zip(cs, row):
                n_ctx, full = len(tok(ctx).input_ids), tok(ctx + c).input_ids
                logp = torch.log_softmax(tiny_any.model(torch.tensor([full])).logits[0].float(), -1)
                expect = [logp[i - 1, full[i]].item() for i in range(n_ctx, len(full))]
                np.testing.assert_allclose(lp, expect, atol=1e-5)


def _count_forwards(model):
    """Count forward passes with a hook lm-explorer owns (a foreign hook would bypass the cache)."""
    calls, stack = [], ExitStack()
    add_hook(stack, model, model.parts.base_model(), lambda *a: calls.append(1))
    return calls, SimpleNamespace(remove=stack.close)


def test_cache_memory_and_disk_and_intervention_key(tiny, tmp_path):
    cache = ResultCache(tmp_path / "r.sqlite")
    first = score_next_token(tiny, PROMPTS, [5, 6], cache=cache)
    calls, handle = _count_forwards(tiny)
    try:
        again = score_next_token(tiny, PROMPTS, [5, 6], cache=cache)
        assert calls == []  # nothing scored twice
        fresh = ResultCache(tmp_path / "r.sqlite")  # a new process: from disk
        from_disk = score_next_token(tiny, PROMPTS, [5, 6], cache=fresh)
        assert calls == [] and fresh.hits == len(set(PROMPTS))
        with tiny.intervention("scale L0H1x0"):
            score_next_token(tiny, PROMPTS[:2], [5, 6], cache=cache)
        assert calls  # an intervention is a different state: recomputed
    finally:
        handle.remove()
    np.testing.assert_array_equal(first.logprobs, again.logprobs)
    np.testing.assert_array_equal(first.logprobs, from_disk.logprobs)


def test_other_weights_other_fingerprint():
    assert tiny_model("llama", seed=0).fingerprint != tiny_model("llama", seed=1).fingerprint
    assert tiny_model("llama", seed=0).fingerprint == tiny_model("llama", seed=0).fingerprint


def test_cancel_keeps_finished_results(tiny, tmp_path):
    cache = ResultCache(None)
    seen = []

    def cancel():
        return len(seen) >= 1

    with pytest.raises(Cancelled):
        score_next_token(tiny, PROMPTS, [5], batch_size=1, token_budget=32, cache=cache, cancel=cancel,
                         progress=lambda d, t: seen.append(d) if d else None)
    kept = len(cache)
    assert 0 < kept < len(set(PROMPTS))
    calls, handle = _count_forwards(tiny)
    try:
        score_next_token(tiny, PROMPTS, [5], batch_size=1, cache=cache)
    finally:
        handle.remove()
    assert len(cache) == len(set(PROMPTS)) and calls


def test_progress_reaches_total_and_results_are_deterministic(tiny):
    seen = []
    a = score_next_token(tiny, PROMPTS, [5, 7], cache=None, progress=lambda d, t: seen.append((d, t)))
    b = score_next_token(tiny, list(reversed(PROMPTS)), [5, 7], cache=None)
    assert seen[0][0] == 0 and seen[-1] == (len(set(PROMPTS)), len(set(PROMPTS)))
    np.testing.assert_array_equal(a.logprobs, b.logprobs[::-1])  # caller's order, bit-identical


def test_empty_input(tiny):
    got = score_next_token(tiny, [], [5, 6], cache=None)
    assert got.logprobs.shape == (0, 2)
    assert score_continuations(tiny, [], [], cache=None) == []


def test_interventions_are_per_thread(tiny):
    import threading

    seen = {}
    entered, release = threading.Event(), threading.Event()

    def other():
        with tiny.intervention("scale L0H0x0"):
            seen["inside"] = tiny.state_key()
            entered.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    entered.wait(10)
    try:
        assert tiny.state_key() == tiny.fingerprint  # this thread's work stays clean and keyed as clean
        assert seen["inside"].endswith("|scale L0H0x0")
    finally:
        release.set()
        t.join()
