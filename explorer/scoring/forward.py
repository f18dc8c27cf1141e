"""Batched evaluation of a prefix tree: each node's tokens run once, on top of its ancestors' cache.

Nodes of one depth run together: their ancestors' keys and values are left-padded into one
past, their own tokens right-padded, and position ids continue each row's own prefix, so every
row sees exactly what a one-prompt-at-a-time run would. Only the hidden states at requested
positions go through the unembedding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from transformers import DynamicCache

from explorer.models.handle import LoadedModel
from explorer.scoring.trie import Node, build_tree, levels

# A node's own keys and values: one tensor per run of consecutive layers on one device (a single
# tensor unless a device_map spreads the layers): each [layers in run, 2 (k, v), kv_heads, tokens, head_dim]
KV = list[torch.Tensor]


def forward_tree(
    model: LoadedModel,
    sequences: Sequence[Sequence[int]],
    positions: Sequence[Sequence[int]],
    *,
    batch_size: int = 32,
    on_batch: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """Yield ``(request, logprobs)`` with ``logprobs`` [len(positions[request]), vocab] (float32,
    log-softmax) as soon as every position of a request has been computed.

    ``on_batch(n_rows)`` is called after each forward pass (for progress and cancellation).
    """
    tops = build_tree(sequences, positions)
    pending = {r: len(p) for r, p in enumerate(positions)}
    gathered: dict[int, list[torch.Tensor | None]] = {r: [None] * len(p) for r, p in enumerate(positions)}
    for r in [r for r, n in pending.items() if n == 0]:
        del pending[r]
        yield r, torch.empty(0, model.model.get_output_embeddings().weight.shape[0])
    kv: dict[Node, KV] = {}  # each node's own keys/values, kept while its subtree runs (callers chunk)
    for level in levels(tops):
        level = sorted(level, key=lambda n: (len(n.tokens), n.start))
        for i in range(0, len(level), batch_size):
            batch = level[i : i + batch_size]
            for r, slot, lp in _run_batch(model, batch, kv):
                gathered[r][slot] = lp
                pending[r] -= 1
                if pending[r] == 0:
                    del pending[r]
                    yield r, torch.stack(gathered.pop(r))  # type: ignore[arg-type]
            if on_batch is not None:
                on_batch(len(batch))


def _path(node: Node) -> list[Node]:
    out = []
    while node.parent is not None:
        node = node.parent
        out.append(node)
    return out[::-1]


@torch.inference_mode()
def _run_batch(model: LoadedModel, batch: list[Node], kv: dict[Node, KV]) -> list[tuple[int, int, torch.Tensor]]:
    parts, device = model.parts, model.device  # device: where input ids go (the embedding's)
    n = len(batch)
    past_len = [b.start for b in batch]
    new_len = [len(b.tokens) for b in batch]
    p_max, t_max = max(past_len), max(new_len)

    input_ids = torch.zeros(n, t_max, dtype=torch.long)
    mask = torch.zeros(n, p_max + t_max, dtype=torch.long)
    for row, node in enumerate(batch):
        input_ids[row, : new_len[row]] = torch.tensor(node.tokens)
        mask[row, p_max - past_len[row] : p_max + new_len[row]] = 1
    position_ids = torch.tensor(past_len).unsqueeze(1) + torch.arange(t_max).unsqueeze(0)

    past = _padded_past(batch, kv, p_max) if p_max else None  # per layer [2, n, kv_heads, p_max, head_dim]
    cache = DynamicCache(ddp_cache_data=[(layer[0], layer[1]) for layer in past] if past is not None else None)
    out = parts.base_model()(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                             position_ids=position_ids.to(device), cache=cache, use_cache=True)
    hidden = out.last_hidden_state  # [n, t_max, d_model], already final-normalised

    parents = [row for row, node in enumerate(batch) if node.children]
    if parents:  # keep each inner node's own keys/values for its children
        own = [torch.stack([torch.stack([layer.keys[:, :, p_max:], layer.values[:, :, p_max:]]) for layer in run])
               for run in _device_runs(cache.layers)]  # each [layers in run, 2, n, kv_heads, t_max, head_dim]
        for row in parents:
            kv[batch[row]] = [o[:, :, row, :, : new_len[row]].clone() for o in own]

    rows, offsets, owners = [], [], []
    for row, node in enumerate(batch):
        for r, slot, offset in node.reads:
            rows.append(row)
            offsets.append(offset)
            owners.append((r, slot))
    if not rows:
        return []
    at = hidden.device  # the last block's device under a device_map
    picked = hidden[torch.tensor(rows, device=at), torch.tensor(offsets, device=at)]  # [m, d_model]
    logprobs = torch.log_softmax(parts.logits(picked), dim=-1).cpu()
    return [(r, slot, logprobs[j]) for j, (r, slot) in enumerate(owners)]


def _device_runs(layers: Sequence) -> list[list]:
    """Consecutive cache layers grouped by the device their keys live on (one group on one device)."""
    runs: list[list] = []
    for layer in layers:
        if runs and runs[-1][0].keys.device == layer.keys.device:
            runs[-1].append(layer)
        else:
            runs.append([layer])
    return runs


def _padded_past(batch: list[Node], kv: dict[Node, KV], p_max: int) -> list[torch.Tensor]:
    """Ancestors' keys/values of each row, concatenated and left-padded to ``p_max``, one tensor per
    layer on that layer's device: [2, rows, kv_heads, p_max, head_dim]."""
    out = []
    for run, ref in enumerate(next(iter(kv.values()))):
        n_layers, _, heads, _, dim = ref.shape
        past = ref.new_zeros(n_layers, 2, len(batch), heads, p_max, dim)
        for row, node in enumerate(batch):
            at = p_max - node.start
            for anc in _path(node):
                seg = kv[anc][run]
                past[:, :, row, :, at : at + seg.shape[3]] = seg
                at += seg.shape[3]
        out.extend(past.unbind(0))
    return out
