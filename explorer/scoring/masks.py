"""Attention masks for a batch of packed segments: tree-shaped, left-padded past, sliding windows.

Row b holds ``p_max`` past slots (left-padded) and ``t_max`` segment tokens (right-padded). A
segment token at row offset q sees every real past slot and the segment tokens j with
``j <= q < end[j]`` (``end[j]``: where the subtree of j's node ends in the row): its own node up
to itself and its ancestors in the segment, never a sibling branch. Layers with a sliding window
further see only keys less than ``window`` positions back, measured in true positions, so a
packed row masks exactly as a one-prompt-at-a-time run. Masks are passed to the model as
prepared 4D masks (transformers uses them as they are), one per kind of layer.
"""

from __future__ import annotations

import torch

from explorer.errors import UnsupportedArchitectureError

# Attention implementations that take a prepared 4D mask: a boolean one, or an additive float one.
_BOOL_MASK, _FLOAT_MASK = {"sdpa"}, {"eager"}


def layer_windows(config) -> dict[str, int | None]:
    """The kinds of attention layer in a model and their sliding windows (None: full causal).

    Models with ``layer_types`` (Gemma 2/3, Qwen 2/3) name each kind; others use one kind, sliding
    where the config sets ``sliding_window`` (Mistral) and full otherwise.
    """
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    types = getattr(config, "layer_types", None)
    window = getattr(config, "sliding_window", None)
    if types is None:
        return {"": window if getattr(config, "use_sliding_window", True) else None}
    out: dict[str, int | None] = {}
    for kind in set(types):
        if kind == "full_attention":
            out[kind] = None
        elif kind == "sliding_attention":
            out[kind] = window
        else:
            raise UnsupportedArchitectureError(f"the scoring engine has no mask for {kind!r} layers; it handles "
                                               "full and sliding-window attention")
    return out


def tree_masks(config, *, past_len: torch.Tensor, ends: torch.Tensor, positions: torch.Tensor,
               dtype: torch.dtype, device: torch.device) -> torch.Tensor | dict[str, torch.Tensor]:
    """The mask (or a mask per layer kind) for rows with ``past_len`` [n] real past slots, segment
    subtree ends ``ends`` [n, t_max] and true positions ``positions`` [n, t_max] of the segment tokens."""
    impl = getattr(config, "_attn_implementation", "sdpa")
    if impl not in _BOOL_MASK | _FLOAT_MASK:
        raise UnsupportedArchitectureError(
            f"the scoring engine packs prompts with tree-shaped masks, which the {impl!r} attention implementation "
            "does not take; load the model with attn_implementation='sdpa' (or 'eager')")
    n, t_max = ends.shape
    p_max = int(past_len.max()) if n else 0
    idx = torch.arange(t_max)
    seen = (idx[None, None, :] <= idx[None, :, None]) & (idx[None, :, None] < ends[:, None, :])  # [n, q, j]
    cols = torch.arange(p_max)
    pad = p_max - past_len  # [n]
    past_real = cols[None, :] >= pad[:, None]  # [n, p_max]
    allowed = torch.cat([past_real[:, None, :].expand(n, t_max, p_max), seen], dim=-1)
    key_pos = torch.cat([cols[None, :] - pad[:, None], positions], dim=-1)  # [n, p_max + t_max]
    distance = positions[:, :, None] - key_pos[:, None, :]

    def finish(window: int | None) -> torch.Tensor:
        mask = allowed if window is None else allowed & (distance < window)
        mask = mask[:, None].to(device)
        if impl in _BOOL_MASK:
            return mask
        return torch.zeros(mask.shape, dtype=dtype, device=device).masked_fill_(~mask, torch.finfo(dtype).min)

    windows = layer_windows(config)
    if "" in windows:
        return finish(windows[""])
    return {kind: finish(window) for kind, window in windows.items()}
