"""Batched evaluation of a prefix tree: each tree token runs once, on top of its ancestors' keys and values.

The tree is cut into packed segments (:mod:`explorer.scoring.plan`); the segments of one wave run
in batches sized by a token budget. A row holds a segment's ancestors' keys and values,
left-padded, then its own tokens, right-padded, under a tree-shaped mask
(:mod:`explorer.scoring.masks`) and with position ids continuing each node's own prefix, so every
token sees exactly what a one-prompt-at-a-time run shows it. Keys and values are kept only for the
rows that later segments continue, and dropped as soon as those have run. Only the hidden
states at requested positions go through the unembedding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from explorer.models.handle import LoadedModel
from explorer.scoring.kernels import fast_linears
from explorer.scoring.logprobs import log_probs
from explorer.scoring.masks import tree_masks
from explorer.scoring.plan import Row, padded, schedule
from explorer.scoring.segments import Segment
from explorer.scoring.trie import Node, build_tree

# A node's own keys and values: one tensor per run of consecutive layers on one device (a single
# tensor unless a device_map spreads the layers): each [layers in run, 2 (k, v), kv_heads, tokens, head_dim]
KV = list[torch.Tensor]

TOKEN_BUDGET = 8192  # default padded tokens (past + own) per forward pass
# Default longest row of packed segments. A dense tree mask computes every query-key pair of a row,
# so shorter rows waste less attention; 256 measured fastest (benchmarks/RESULTS.md, issue 16).
SEGMENT_TOKENS = 256


@dataclass(frozen=True)
class BatchStats:
    """One forward pass: ``rows``, padded ``tokens`` computed (rows x longest segment), padded
    ``past`` slots read, and ``held``: tokens whose keys and values are kept for later passes."""

    rows: int
    tokens: int
    past: int
    held: int


def forward_tree(
    model: LoadedModel,
    sequences: Sequence[Sequence[int]],
    positions: Sequence[Sequence[int]],
    *,
    batch_size: int = 32,
    token_budget: int = TOKEN_BUDGET,
    segment_tokens: int = SEGMENT_TOKENS,
    on_batch: Callable[[BatchStats], None] | None = None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """Yield ``(request, logprobs)`` with ``logprobs`` [len(positions[request]), vocab] (float32,
    log-softmax) as soon as every position of a request has been computed.

    A forward pass holds at most ``batch_size`` rows and, where rows are short enough,
    ``token_budget`` padded tokens (past and own); subtrees of up to ``segment_tokens`` tokens are
    packed into one row. ``on_batch`` gets the :class:`BatchStats` of each forward pass (for
    progress, cancellation and accounting).
    """
    tops = build_tree(sequences, positions)
    pending = {r: len(p) for r, p in enumerate(positions)}
    gathered: dict[int, list[torch.Tensor | None]] = {r: [None] * len(p) for r, p in enumerate(positions)}
    for r in [r for r, n in pending.items() if n == 0]:
        del pending[r]
        yield r, torch.empty(0, model.model.get_output_embeddings().weight.shape[0])
    plan = schedule(tops, batch_size=batch_size, token_budget=token_budget, segment_tokens=segment_tokens)
    users: dict[Node, int] = {}  # how many segments not yet run continue each kept row
    for row in (row for batch in plan for row in batch):
        for node in row.past:
            users[node] = users.get(node, 0) + len(row.segments)
    kv: dict[Node, KV] = {}
    for batch in plan:
        done = _run_batch(model, batch, kv)
        for row in batch:
            for node in row.past:  # these segments no longer need what they continued
                users[node] -= len(row.segments)
                if users[node] == 0:
                    del kv[node], users[node]
        for r, slot, lp in done:
            gathered[r][slot] = lp
            pending[r] -= 1
            if pending[r] == 0:
                del pending[r]
                yield r, torch.stack(gathered.pop(r))  # type: ignore[arg-type]
        if on_batch is not None:
            tokens, past = padded(batch)
            on_batch(BatchStats(rows=len(batch), tokens=tokens, past=past,
                                held=sum(t[0].shape[3] for t in kv.values())))


@torch.inference_mode()
def _run_batch(model: LoadedModel, batch: list[Row], kv: dict[Node, KV]) -> list[tuple[int, int, torch.Tensor]]:
    """Run one batch of rows; keep the keys and values of segments that others continue; return the reads."""
    parts, device = model.parts, model.device  # device: where input ids go (the embedding's)
    n = len(batch)
    past_len = torch.tensor([r.past_len for r in batch])
    p_max, t_max = int(past_len.max()), max(r.size for r in batch)

    input_ids = torch.zeros(n, t_max, dtype=torch.long)
    position_ids = torch.zeros(n, t_max, dtype=torch.long)
    ends = torch.arange(1, t_max + 1).repeat(n, 1)  # padding sees only itself
    for row, seg, start in _segments(batch):
        for node, at, end in zip(seg.nodes, seg.offsets, seg.ends):
            k, at = len(node.tokens), start + at
            input_ids[row, at : at + k] = torch.tensor(node.tokens)
            position_ids[row, at : at + k] = torch.arange(node.start, node.start + k)
            ends[row, at : at + k] = start + end
    dtype = next(model.model.parameters()).dtype
    mask = tree_masks(model.model.config, past_len=past_len, ends=ends, positions=position_ids, dtype=dtype,
                      device=device)

    past = _padded_past(batch, kv, p_max) if p_max else None  # per layer [2, n, kv_heads, p_max, head_dim]
    cache = DynamicCache(ddp_cache_data=[(layer[0], layer[1]) for layer in past] if past is not None else None)
    with fast_linears():
        out = parts.base_model()(input_ids=input_ids.to(device), attention_mask=mask,
                                 position_ids=position_ids.to(device), cache=cache, use_cache=True)
    hidden = out.last_hidden_state  # [n, t_max, d_model], already final-normalised
    del past

    runs = _device_runs(cache.layers)
    for row, seg, start in _segments(batch):  # a segment that others continue keeps its keys and values
        if seg.children:
            a, b = p_max + start, p_max + start + seg.size
            kv[seg.nodes[-1]] = [torch.stack([torch.stack([layer.keys[row, :, a:b], layer.values[row, :, a:b]])
                                              for layer in run]) for run in runs]
    del cache, runs

    rows, offsets, owners = [], [], []
    for row, seg, start in _segments(batch):
        for node, at in zip(seg.nodes, seg.offsets):
            for r, slot, offset in node.reads:
                rows.append(row)
                offsets.append(start + at + offset)
                owners.append((r, slot))
    if not rows:
        return []
    at = hidden.device  # the last block's device under a device_map
    picked = hidden[torch.tensor(rows, device=at), torch.tensor(offsets, device=at)]  # [m, d_model]
    with fast_linears():
        logprobs = log_probs(parts.logits(picked)).cpu()
    return [(r, slot, logprobs[j]) for j, (r, slot) in enumerate(owners)]


def _segments(batch: list[Row]) -> Iterator[tuple[int, Segment, int]]:
    """(row index, segment, where it starts in the row) for every segment of a batch."""
    for i, row in enumerate(batch):
        for seg, start in zip(row.segments, row.starts):
            yield i, seg, start


def _device_runs(layers: Sequence) -> list[list]:
    """Consecutive cache layers grouped by the device their keys live on (one group on one device)."""
    runs: list[list] = []
    for layer in layers:
        if runs and runs[-1][0].keys.device == layer.keys.device:
            runs[-1].append(layer)
        else:
            runs.append([layer])
    return runs


def _padded_past(batch: list[Row], kv: dict[Node, KV], p_max: int) -> list[torch.Tensor]:
    """The keys/values each row continues, concatenated and left-padded to ``p_max``, one tensor per
    layer on that layer's device: [2, rows, kv_heads, p_max, head_dim]."""
    out = []
    for run, ref in enumerate(next(iter(kv.values()))):
        n_layers, _, heads, _, dim = ref.shape
        past = ref.new_zeros(n_layers, 2, len(batch), heads, p_max, dim)
        for row, r in enumerate(batch):
            at = p_max - r.past_len
            for anc in r.past:
                part = kv[anc][run]
                past[:, :, row, :, at : at + part.shape[3]] = part
                at += part.shape[3]
        out.extend(past.unbind(0))
    return out
