"""Batched evaluation of a prefix tree: each tree token runs once, on top of its ancestors' keys and values.

The tree is cut into packed segments (:mod:`explorer.scoring.plan`); the segments of one wave run
in batches sized by a token budget. A row holds a segment's ancestors' keys and values,
left-padded, then its own tokens, right-padded, under a tree-shaped mask
(:mod:`explorer.scoring.masks`) and with position ids continuing each node's own prefix, so every
token sees exactly what a one-prompt-at-a-time run shows it. Keys and values are kept only for
nodes that later segments continue from, and dropped as soon as those have run. Only the hidden
states at requested positions go through the unembedding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from explorer.models.handle import LoadedModel
from explorer.scoring.masks import tree_masks
from explorer.scoring.plan import Segment, schedule
from explorer.scoring.trie import Node, build_tree

# A node's own keys and values, all layers in one tensor: [layers, 2 (k, v), kv_heads, tokens, head_dim]
KV = torch.Tensor

TOKEN_BUDGET = 4096  # default padded tokens (past + own) per forward pass
SEGMENT_TOKENS = 512  # default largest subtree packed into one row


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
        yield r, torch.empty(0, model.parts.unembedding().shape[0])
    plan = schedule(tops, batch_size=batch_size, token_budget=token_budget, segment_tokens=segment_tokens)
    users: dict[Node, int] = {}  # how many segments not yet run continue from each node
    for seg in (seg for batch in plan for seg in batch):
        for node in seg.past:
            users[node] = users.get(node, 0) + 1
    kv: dict[Node, KV] = {}
    for batch in plan:
        done = _run_batch(model, batch, kv, users)
        for seg in batch:
            for node in seg.past:  # this segment no longer needs its ancestors' keys and values
                users[node] -= 1
                if users[node] == 0:
                    del kv[node], users[node]
        for r, slot, lp in done:
            gathered[r][slot] = lp
            pending[r] -= 1
            if pending[r] == 0:
                del pending[r]
                yield r, torch.stack(gathered.pop(r))  # type: ignore[arg-type]
        if on_batch is not None:
            on_batch(BatchStats(rows=len(batch), tokens=len(batch) * max(s.size for s in batch),
                                past=len(batch) * max(s.past_len for s in batch),
                                held=sum(t.shape[3] for t in kv.values())))


@torch.inference_mode()
def _run_batch(model: LoadedModel, batch: list[Segment], kv: dict[Node, KV],
               keep: dict[Node, int]) -> list[tuple[int, int, torch.Tensor]]:
    """Run one batch of segments; store the keys and values of nodes in ``keep``; return the reads."""
    parts, device = model.parts, model.device
    n = len(batch)
    past_len = torch.tensor([s.past_len for s in batch])
    p_max, t_max = int(past_len.max()), max(s.size for s in batch)

    input_ids = torch.zeros(n, t_max, dtype=torch.long)
    position_ids = torch.zeros(n, t_max, dtype=torch.long)
    ends = torch.arange(1, t_max + 1).repeat(n, 1)  # padding sees only itself
    for row, seg in enumerate(batch):
        for node, at, end in zip(seg.nodes, seg.offsets, seg.ends):
            k = len(node.tokens)
            input_ids[row, at : at + k] = torch.tensor(node.tokens)
            position_ids[row, at : at + k] = torch.arange(node.start, node.start + k)
            ends[row, at : at + k] = end
    dtype = next(model.model.parameters()).dtype
    mask = tree_masks(model.model.config, past_len=past_len, ends=ends, positions=position_ids, dtype=dtype,
                      device=device)

    past = _padded_past(batch, kv, p_max, device) if p_max else None  # [layers, 2, n, kv_heads, p_max, head_dim]
    cache = DynamicCache(ddp_cache_data=[(layer[0], layer[1]) for layer in past] if past is not None else None)
    out = parts.base_model()(input_ids=input_ids.to(device), attention_mask=mask,
                             position_ids=position_ids.to(device), cache=cache, use_cache=True)
    hidden = out.last_hidden_state  # [n, t_max, d_model], already final-normalised
    del past

    stored = [(row, node, at) for row, seg in enumerate(batch) for node, at in zip(seg.nodes, seg.offsets)
              if node in keep]
    for row, node, at in stored:  # keep each continued node's own keys/values for later segments
        a, b = p_max + at, p_max + at + len(node.tokens)
        kv[node] = torch.stack([torch.stack([layer.keys[row, :, a:b], layer.values[row, :, a:b]])
                                for layer in cache.layers])
    del cache

    rows, offsets, owners = [], [], []
    for row, seg in enumerate(batch):
        for node, at in zip(seg.nodes, seg.offsets):
            for r, slot, offset in node.reads:
                rows.append(row)
                offsets.append(at + offset)
                owners.append((r, slot))
    if not rows:
        return []
    picked = hidden[torch.tensor(rows, device=device), torch.tensor(offsets, device=device)]  # [m, d_model]
    logprobs = torch.log_softmax(parts.logits(picked), dim=-1).cpu()
    return [(r, slot, logprobs[j]) for j, (r, slot) in enumerate(owners)]


def _padded_past(batch: list[Segment], kv: dict[Node, KV], p_max: int, device: torch.device) -> torch.Tensor:
    """Ancestors' keys/values of each row, concatenated and left-padded to ``p_max``:
    [layers, 2, rows, kv_heads, p_max, head_dim]."""
    ref = next(iter(kv.values()))
    n_layers, _, heads, _, dim = ref.shape
    past = ref.new_zeros(n_layers, 2, len(batch), heads, p_max, dim, device=device)
    for row, seg in enumerate(batch):
        at = p_max - seg.past_len
        for anc in seg.past:
            part = kv[anc]
            past[:, :, row, :, at : at + part.shape[3]] = part
            at += part.shape[3]
    return past
