"""Per-head direct logit attribution at the last position, every head from one forward pass.

For prompt b with answer tokens t (target) and f (foil), head h of layer l contributes

    attribution[b, l, h] = ( N_b( P_l( z[b, l, h] @ W_O[l, h] ) ) ) . (W_U[t] - W_U[f])

where z[b, l, h] [head_dim] is the head's output at the last position (its slice of the input of
the attention output projection), W_O[l, h] [head_dim, d_model] its slice of that projection,
P_l the post-attention norm with its scale frozen from the clean run (Gemma 2/3 only; the identity
elsewhere) and N_b the final norm with its scale frozen from the clean run (LayerNorm's centring
is linear, its bias is not a head's: it is a separate component). The terms of every head, plus
the embeddings, the MLP outputs, the output-projection biases and the final norm's bias, add up
to logit(t) - logit(f). Logits are read *before* Gemma's soft-capping (tanh is not linear).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from explorer import columns as C
from explorer.errors import need_items
from explorer.interventions.hooks import add_hook
from explorer.metrics.heads import mean_attribution, top_heads  # noqa: F401 - re-exported
from explorer.models.architecture import ModelParts, materialized
from explorer.models.handle import LoadedModel
from explorer.probes.batching import token_passes
from explorer.probes.counterfactual import Counterfactual, answer_tokens
from explorer.probes.models import across_models
from explorer.prompts.tokens import encode_prompt
from explorer.scoring.context import refuse_long
from explorer.scoring.forward import TOKEN_BUDGET
from explorer.scoring.kernels import fast_linears
from explorer.scoring.progress import CancelToken, ProgressFn, check_cancel


def record_names(records: Sequence[Counterfactual]) -> list[str]:
    """How errors name each record's prompt: ``the prompt of record 'r3'``."""
    return [f"the prompt of record {r.id!r}" for r in records]


def encode_batch(model: LoadedModel, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-padded (input_ids, attention_mask, position_ids) [n, T]: the last column is every
    prompt's last real token, and positions count real tokens only (as in an unpadded run)."""
    encoded = [encode_prompt(model.tokenizer, p) for p in prompts]
    model.check_precision(encoded)  # once, for a reduced-precision model on CPU
    width = max(len(e) for e in encoded)
    pad = model.tokenizer.pad_token_id if model.tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(encoded), width), pad, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, e in enumerate(encoded):
        ids[row, width - len(e):] = torch.tensor(e)
        mask[row, width - len(e):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids, mask, positions


@dataclass
class Capture:
    """Last-position activations of one batch (B prompts, L layers, H heads of d dims, D model dims)."""

    z: torch.Tensor  # [B, L, H*d] input of each out_proj
    attn_out: torch.Tensor  # [B, L, D] output of each out_proj (with its bias)
    post_scale: torch.Tensor | None  # [B, L, 1] frozen post-attention norm divisor (Gemma), else None
    resid: torch.Tensor  # [B, D] final residual, before the final norm
    final: torch.Tensor  # [B, D] the model's own final-normalised hidden state
    layer_in: torch.Tensor | None  # [B, L, D] residual entering each block (decomposition only)
    layer_out: torch.Tensor | None  # [B, L, D] residual leaving each block (decomposition only)


@torch.inference_mode()
def capture(model: LoadedModel, prompts: Sequence[str], *, blocks: bool = False) -> Capture:
    """One forward pass of ``prompts`` (left-padded), keeping only last-position activations."""
    parts = model.parts
    ids, mask, positions = encode_batch(model, prompts)
    seen: dict[str, dict[int, torch.Tensor]] = {k: {} for k in ("z", "o", "post", "in", "out", "resid")}

    device = model.device  # under a device_map, captures from every device meet on the input device

    def last(t: torch.Tensor) -> torch.Tensor:  # [B, T, X] -> [B, X] (left padding: -1 is real)
        # a copy, never a view: a view of the last column would keep each layer's whole [B, T, X] alive
        return t[:, -1].detach().to(device=device, dtype=torch.float32, copy=True)

    def store(kind: str, layer: int, *, arg: bool = False, norm: nn.Module | None = None) -> Callable:
        def hook(module, args, *rest):  # forward pre-hook (module, args[, kwargs]) or hook (module, args, out)
            if arg:
                x = args[0] if args else rest[0]["hidden_states"]
            else:
                x = rest[-1][0] if isinstance(rest[-1], tuple) else rest[-1]
            seen[kind][layer] = last(x) if norm is None else _rms(norm, last(x))
        return hook  # returns None: the hook observes, never replaces

    with ExitStack() as stack:
        def keep(module: nn.Module, hook: Callable, *, pre: bool = False) -> None:  # this thread's passes only
            add_hook(stack, model, module, hook, pre=pre, with_kwargs=pre)

        for l in range(parts.n_layers):
            keep(parts.out_proj(l), store("z", l, arg=True), pre=True)
            keep(parts.out_proj(l), store("o", l))
            norm = parts.post_attention_norm(l)
            if norm is not None:
                keep(norm, store("post", l, arg=True, norm=norm), pre=True)
            if blocks:
                keep(parts.layers()[l], store("in", l, arg=True), pre=True)
                keep(parts.layers()[l], store("out", l))
        keep(parts.final_norm(), store("resid", 0, arg=True), pre=True)
        stack.enter_context(fast_linears())
        out = parts.base_model()(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                                 position_ids=positions.to(model.device), use_cache=False)  # no keys, values kept
    stacked = lambda k: torch.stack([seen[k][l] for l in range(parts.n_layers)], 1)  # noqa: E731
    return Capture(z=stacked("z"), attn_out=stacked("o"), post_scale=stacked("post") if seen["post"] else None,
                   resid=seen["resid"][0], final=last(out.last_hidden_state),
                   layer_in=stacked("in") if blocks else None, layer_out=stacked("out") if blocks else None)


def _rms(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    eps = getattr(norm, "eps", None) or getattr(norm, "variance_epsilon", None) or 1e-6
    return torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def _post_gamma(parts: ModelParts, layer: int, device: torch.device) -> torch.Tensor:
    w = materialized(parts.post_attention_norm(layer)).float().to(device)
    return 1.0 + w  # Gemma's RMSNorm scales by (1 + weight)


@dataclass
class Attribution:
    """Per-head terms [B, L, H] and the quantities they are checked against."""

    heads: torch.Tensor  # [B, L, H]
    logit_diff: torch.Tensor  # [B] logit(t) - logit(f) from the model's own final hidden state, pre-softcap
    direction: torch.Tensor  # [B, D] W_U[t] - W_U[f]
    scale: torch.Tensor  # [B, 1] frozen final-norm divisor
    cap: Capture


@torch.no_grad()
def attribute(model: LoadedModel, prompts: Sequence[str], targets: np.ndarray, foils: np.ndarray,
              *, blocks: bool = False) -> Attribution:
    """Per-head direct logit attribution for one batch (one forward pass)."""
    parts = model.parts
    cap = capture(model, prompts, blocks=blocks)
    device = cap.final.device
    w_u = parts.unembedding().detach()
    t, f = torch.as_tensor(targets, device=w_u.device), torch.as_tensor(foils, device=w_u.device)
    direction = (w_u[t] - w_u[f]).float().to(device)  # [B, D]
    scale = parts.norm_scale(cap.resid)  # [B, 1]
    b, h, d = len(prompts), parts.n_heads, parts.head_dim
    heads = torch.empty(b, parts.n_layers, h, device=cap.z.device)
    for l in range(parts.n_layers):
        w_o = parts.out_proj_weight_by_head(l).detach().float().to(device)  # [H, d, D]
        contrib = torch.einsum("bhk,hkD->bhD", cap.z[:, l].reshape(b, h, d), w_o)  # [B, H, D]: z_h @ W_O[h]
        if cap.post_scale is not None:
            contrib = contrib / cap.post_scale[:, l, None] * _post_gamma(parts, l, device)
        normed = parts.apply_frozen_norm(contrib, scale[:, None], center=False)  # [B, H, D]
        heads[:, l] = (normed * direction[:, None]).sum(-1)
    logit_diff = (cap.final * direction).sum(-1)
    return Attribution(heads.cpu(), logit_diff.cpu(), direction, scale, cap)


@across_models
def head_attribution(model: LoadedModel, records: Sequence[Counterfactual], *, batch_size: int = 16,
                     token_budget: int = TOKEN_BUDGET, progress: ProgressFn | None = None,
                     cancel: CancelToken | None = None) -> pd.DataFrame:
    """Tidy frame (``HEAD_ATTRIBUTION_COLUMNS``): one row per prompt x layer x head, in the records' order.
    Given a list of models, each model's rows (its own layers x heads: the maps may differ in shape) with a
    ``model`` column first (:func:`~explorer.probes.models.across_models`).

    ``attribution`` sums, over heads, with the other components (:func:`logit_diff_components`)
    to ``logit_diff`` (pre-softcap). Positive: the head pushes towards the target. A pass holds at most
    ``batch_size`` prompts and ``token_budget`` padded tokens (prompts of similar length together). A prompt
    past the model's limit is refused before any pass (:func:`explorer.scoring.context.refuse_long`).
    """
    records = need_items(records, "head_attribution", kind="prompts")
    refuse_long(model, [r.prompt for r in records], record_names(records))
    targets, foils = answer_tokens(model.tokenizer, records)
    parts = model.parts
    lengths = [len(encode_prompt(model.tokenizer, r.prompt)) for r in records]
    frames: dict[int, pd.DataFrame] = {}
    layer, head = np.meshgrid(np.arange(parts.n_layers), np.arange(parts.n_heads), indexing="ij")
    for chunk in token_passes(lengths, max_rows=batch_size, token_budget=token_budget):
        check_cancel(cancel)
        att = attribute(model, [records[i].prompt for i in chunk], targets[chunk], foils[chunk])
        for row, i in enumerate(chunk):
            r = records[i]
            frames[i] = pd.DataFrame({
                C.PROMPT_ID: r.id, C.LAYER: layer.ravel(), C.HEAD: head.ravel(),
                C.ATTRIBUTION: att.heads[row].numpy().ravel().astype(np.float64),
                C.LOGIT_DIFF: float(att.logit_diff[row]), C.TARGET: r.target, C.FOIL: r.foil,
                C.INTERVENTION: "|".join(model.interventions)})
        if progress is not None:
            progress(len(frames), len(records))
    if not frames:
        return pd.DataFrame(columns=C.HEAD_ATTRIBUTION_COLUMNS)
    return pd.concat([frames[i] for i in range(len(records))], ignore_index=True)[C.HEAD_ATTRIBUTION_COLUMNS]


@torch.no_grad()
def logit_diff_components(model: LoadedModel, records: Sequence[Counterfactual], *,
                          batch_size: int = 16) -> pd.DataFrame:
    """Every direct contribution to the logit difference (``COMPONENT_COLUMNS``), per prompt.

    Components: ``embeddings`` (the residual entering block 0), per layer ``heads`` (sum of the
    per-head terms), ``attn_bias`` (the output projection's bias) and ``mlp`` (the rest of the
    block's write: residual out - residual in - attention write), and ``norm_bias`` (LayerNorm's
    beta). Their sum equals ``logit_diff`` up to float error; that identity is what the tests check.
    """
    parts = model.parts
    records = need_items(records, "logit_diff_components", kind="prompts")
    refuse_long(model, [r.prompt for r in records], record_names(records))
    targets, foils = answer_tokens(model.tokenizer, records)
    rows = []
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        att = attribute(model, [r.prompt for r in batch], targets[start : start + len(batch)],
                        foils[start : start + len(batch)], blocks=True)
        cap = att.cap
        to_logit = lambda x: (parts.apply_frozen_norm(x, att.scale, center=False) * att.direction).sum(-1)  # noqa: E731
        per_prompt: list[list[tuple[str, int | None, torch.Tensor]]] = [[] for _ in batch]
        terms = [("embeddings", None, to_logit(cap.layer_in[:, 0]))]
        for l in range(parts.n_layers):
            bias = parts.out_proj_bias(l)
            attn_write = cap.attn_out[:, l]
            bias_write = (torch.zeros_like(attn_write) if bias is None
                          else bias.detach().float().to(attn_write.device).expand_as(attn_write))
            if cap.post_scale is not None:
                gamma = _post_gamma(parts, l, attn_write.device)
                attn_write = attn_write / cap.post_scale[:, l] * gamma
                bias_write = bias_write / cap.post_scale[:, l] * gamma
            mlp_write = cap.layer_out[:, l] - cap.layer_in[:, l] - attn_write
            terms += [("heads", l, att.heads[:, l].sum(-1)), ("attn_bias", l, to_logit(bias_write)),
                      ("mlp", l, to_logit(mlp_write))]
        beta = materialized(parts.final_norm(), "bias")
        norm_bias = ((beta.detach().float().to(att.direction.device) * att.direction).sum(-1) if beta is not None
                     else att.direction[:, 0] * 0)
        terms.append(("norm_bias", None, norm_bias))
        for name, layer, values in terms:
            for i, r in enumerate(batch):
                per_prompt[i].append((name, layer, values[i]))
        for i, r in enumerate(batch):
            rows += [{C.PROMPT_ID: r.id, C.COMPONENT: n, C.LAYER: l, C.ATTRIBUTION: float(v)}
                     for n, l, v in per_prompt[i]]
    frame = pd.DataFrame(rows, columns=C.COMPONENT_COLUMNS)
    frame[C.LAYER] = frame[C.LAYER].astype("Int64")
    return frame
