"""Packed, budgeted evaluation of a prefix tree: exact against one prompt at a time on every tiny
architecture, whatever the packing, with items of very different lengths (longer than tiny Gemma's
sliding window of 16); the plan computes each tree token about once and frees keys and values."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from explorer.errors import UnsupportedArchitectureError
from explorer.items import Item
from explorer.prompts import DEFAULT_FORMAT
from explorer.prompts.tokens import encode_prompt
from explorer.scoring import score_continuations
from explorer.scoring.forward import forward_tree
from explorer.scoring.masks import tree_masks
from explorer.scoring.plan import chunks, count_tokens, pack_rows, schedule
from explorer.scoring.segments import plan_segments, subtree_sizes, waves
from explorer.scoring.trie import build_tree
from tests.tiny import tiny_model

FACT = "The capital of France is Paris . "


def mixed_prompts() -> list[str]:
    """Items whose questions run from 7 to about 100 tokens, each under several orders of its choices."""
    out = []
    for n, (q, choices) in enumerate([("What is the capital of Spain ?", ("Madrid", "Rome", "Paris")),
                                      ("What is the capital of Italy ?", ("Rome", "Berlin", "Madrid")),
                                      ("What is the capital of Germany ?", ("Berlin", "Paris", "Rome"))]):
        item = Item(id=str(n), question=FACT * (4 * n * n) + q, choices=choices, answer=0)
        out += [DEFAULT_FORMAT.build(item.permuted(o)) for o in itertools.permutations(range(3))]
    return out + ["What is", FACT * 9 + "The capital of Italy is"]


PACKINGS = [  # (segment_tokens, token_budget, batch_size): one node per row; small packs; whole trees
    (0, 64, 32), (24, 96, 3), (4096, 1 << 16, 32)]


def plain_logprobs(model, ids: list[int], positions: list[int]) -> torch.Tensor:
    with torch.no_grad():
        logits = model.model(torch.tensor([ids])).logits[0].float()
    return torch.log_softmax(logits, -1)[positions]


@pytest.mark.parametrize("packing", PACKINGS, ids=["nodes", "small", "whole"])
def test_mixed_lengths_equal_plain_forward_every_arch(tiny_any, packing):
    segment_tokens, token_budget, batch_size = packing
    seqs = [encode_prompt(tiny_any.tokenizer, p) for p in mixed_prompts()]
    assert max(map(len, seqs)) > 90 and min(map(len, seqs)) < 10  # well past the sliding window of 16
    positions = [[len(s) - 1] for s in seqs[:-1]] + [list(range(3, len(seqs[-1]), 7))]  # and reads mid-prompt
    got = dict(forward_tree(tiny_any, seqs, positions, batch_size=batch_size, token_budget=token_budget,
                            segment_tokens=segment_tokens))
    assert sorted(got) == list(range(len(seqs)))
    for r, (ids, pos) in enumerate(zip(seqs, positions)):
        np.testing.assert_allclose(got[r], plain_logprobs(tiny_any, ids, pos), atol=1e-5, err_msg=f"prompt {r}")


def test_mixed_length_continuations_with_eager_attention():
    model = tiny_model("gemma3_text")
    model.model.set_attn_implementation("eager")  # an additive float mask instead of a boolean one
    contexts = [FACT * k + "The capital of Spain is" for k in (0, 3, 9)]
    conts = [[" Madrid", " Madrid . The capital of Italy is Rome"], [" Rome"], [" Paris", " Berlin ."]]
    got = score_continuations(model, contexts, conts, token_budget=48, cache=None)
    tok = model.tokenizer
    for ctx, cs, row in zip(contexts, conts, got):
        for c, lp in zip(cs, row):
            n_ctx, full = len(tok(ctx).input_ids), tok(ctx + c).input_ids
            expect = plain_logprobs(model, full, list(range(n_ctx - 1, len(full) - 1)))
            np.testing.assert_allclose(lp, expect[torch.arange(len(lp)), full[n_ctx:]], atol=1e-5)


def test_attention_without_prepared_masks_is_refused():
    config = SimpleNamespace(_attn_implementation="flash_attention_2")
    with pytest.raises(UnsupportedArchitectureError, match="attn_implementation='sdpa'"):
        tree_masks(config, past_len=torch.zeros(1, dtype=torch.long), ends=torch.ones(1, 1, dtype=torch.long),
                   positions=torch.zeros(1, 1, dtype=torch.long), dtype=torch.float32, device=torch.device("cpu"))


def _tree(seqs):
    return build_tree(seqs, [[len(s) - 1] for s in seqs])


def test_segments_cover_the_tree_and_follow_their_past():
    seqs = [[1, 2, 3, 4, 5], [1, 2, 3, 6], [1, 2, 7, 8, 9, 10], [1, 2, 7, 8, 11], [12, 13]]
    for max_tokens in (0, 3, 5, 100):
        tops = _tree(seqs)
        plan = schedule(tops, batch_size=2, token_budget=8, segment_tokens=max_tokens)
        seen, kept = [], set()
        for batch in plan:
            assert len(batch) <= 2
            for row in batch:
                assert row.size <= max_tokens or len(row.segments) == 1
                for seg in row.segments:
                    assert seg.past == row.past and all(p in kept for p in seg.past)  # continued rows ran before
                    seen += seg.nodes
            kept.update(seg.nodes[-1] for row in batch for seg in row.segments if seg.children)
        assert sorted(map(id, seen)) == sorted(map(id, subtree_sizes(tops)))  # each node exactly once
    whole = plan_segments(_tree(seqs), max_tokens=100)
    assert [len(s.nodes) for s in whole] == [7, 1]  # [1 2]->{[3]->{[4 5],[6]}, [7 8]->{[9 10],[11]}}; [12 13]
    assert whole[0].ends == [11, 6, 5, 6, 11, 10, 11]
    rows = pack_rows(whole, max_tokens=100)
    assert len(rows) == 1 and rows[0].starts == [0, 11] and rows[0].size == 13  # two trees side by side


def test_a_short_shared_prefix_is_repeated_rather_than_run_alone():
    seqs = [[1, *range(10 * c, 10 * c + 60)] for c in range(1, 5)]  # "Question:" then four long prompts
    (wave,) = list(waves(plan_segments(_tree(seqs), max_tokens=64)))  # one wave: no pass for [1] alone
    assert [[len(n.tokens) for n in s.nodes] for s in wave] == [[1, 60]] * 4 and [s.ends for s in wave] == [[61, 61]] * 4
    assert count_tokens(seqs, batch_size=32, token_budget=1024, segment_tokens=64, chunk_tokens=1 << 20).computed == 244


def test_budgeted_batches_keep_padding_small_on_very_different_lengths():
    rng = np.random.default_rng(0)
    seqs = []
    for item in range(40):  # questions of 5 to 600 tokens, 24 orders of 4 short choices each
        q = [1000 + item] + rng.integers(2000, 3000, int(rng.integers(5, 600))).tolist()
        choices = [rng.integers(100, 200, int(rng.integers(2, 12))).tolist() for _ in range(4)]
        seqs += [q + [c for j in o for c in [50 + j, *choices[j]]] + [99] for o in itertools.permutations(range(4))]
    for segment_tokens in (0, 512):
        counts = count_tokens(seqs, batch_size=32, token_budget=4096, segment_tokens=segment_tokens,
                              chunk_tokens=1 << 20)
        assert counts.tree < 0.45 * counts.flat
        assert counts.tree <= counts.computed <= 1.1 * counts.tree, counts
    for batch in schedule(_tree(seqs), batch_size=32, token_budget=4096, segment_tokens=512):
        if len(batch) > 1:
            assert len(batch) * (max(r.past_len for r in batch) + max(r.size for r in batch)) <= 4096


def test_chunks_bound_tree_tokens():
    seqs = sorted([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 6], [7, 8, 9, 10, 11, 12], [7, 8, 9, 13]])
    spans = list(chunks(seqs, 6))
    assert [seqs[s] for s in spans] == [seqs[:3], seqs[3:4], seqs[4:]]  # 6 tree tokens, 6 (one sequence), 4
    assert [seqs[s] for s in chunks(seqs, 100)] == [seqs]


def test_keys_and_values_are_dropped_once_their_subtree_is_done(tiny):
    seqs = [encode_prompt(tiny.tokenizer, p) for p in mixed_prompts()]
    stats = []
    list(forward_tree(tiny, seqs, [[len(s) - 1] for s in seqs], segment_tokens=24, token_budget=96,
                      on_batch=stats.append))
    assert stats[-1].held == 0 and max(s.held for s in stats) > 0
    plan = schedule(_tree(seqs), batch_size=32, token_budget=96, segment_tokens=24)
    continued = sum(seg.size for batch in plan for row in batch for seg in row.segments if seg.children)
    assert max(s.held for s in stats) <= continued  # only what later passes continue, never a finished subtree
