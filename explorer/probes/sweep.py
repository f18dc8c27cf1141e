"""Scaling sweep: how the target-vs-foil contest moves as chosen heads are scaled.

For heads S and factor a, every head in S has its output multiplied by a (see
:func:`explorer.interventions.scale_heads`); per prompt we read, at the last position,

    logit_diff = logit(target) - logit(foil)          (first tokens, before Gemma's soft-capping)
    target_wins = logit_diff > 0
    target_rate(a) = mean over prompts of target_wins

Several factors run in ONE forward pass: the batch holds the prompts once per factor, and the
hook scales row i by that row's factor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from explorer import columns as C
from explorer.interventions.heads import Head, scale_heads_per_row, validate_heads
from explorer.metrics.heads import sweep_summary  # noqa: F401 - re-exported
from explorer.models.handle import LoadedModel
from explorer.probes.batching import token_passes
from explorer.probes.counterfactual import Counterfactual, answer_tokens
from explorer.errors import need_items
from explorer.probes.heads import encode_batch, record_names
from explorer.prompts.tokens import encode_prompt
from explorer.scoring.context import refuse_long
from explorer.scoring.forward import TOKEN_BUDGET
from explorer.scoring.kernels import fast_linears
from explorer.scoring.logprobs import log_probs
from explorer.scoring.progress import CancelToken, ProgressFn, check_cancel


def heads_label(heads: Sequence[Head]) -> str:
    """``[(12, 3), (20, 1)]`` -> ``"L12H3,L20H1"``.

    >>> heads_label([(12, 3), (20, 1)])
    'L12H3,L20H1'
    """
    return ",".join(f"L{l}H{h}" for l, h in heads)


@torch.inference_mode()
def _run(model: LoadedModel, prompts: Sequence[str], heads: list[Head], factors: Sequence[float],
         targets: np.ndarray, foils: np.ndarray) -> dict[str, np.ndarray]:
    """One forward pass of prompts x factors (factor-major rows); per-row answer scores [F * n]."""
    parts = model.parts
    ids, mask, positions = encode_batch(model, prompts)
    reps = len(factors)
    row_factors = torch.tensor(factors, dtype=torch.float32).repeat_interleave(len(prompts))  # [F * n]
    scaled = scale_heads_per_row(model, heads, row_factors, description=f"sweep {heads_label(heads)} per row")
    with scaled, fast_linears():
        out = parts.base_model()(input_ids=ids.repeat(reps, 1).to(model.device),
                                 attention_mask=mask.repeat(reps, 1).to(model.device),
                                 position_ids=positions.repeat(reps, 1).to(model.device),
                                 use_cache=False)  # a pass that never continues keeps no keys and values
    final = out.last_hidden_state[:, -1]  # [F * n, D], left padding: the last real token
    logprobs = log_probs(parts.logits(final))  # what the model outputs (soft-capped)
    w_u = parts.unembedding()
    t = torch.as_tensor(np.tile(targets, reps), device=w_u.device)
    f = torch.as_tensor(np.tile(foils, reps), device=w_u.device)
    direction = (w_u[t] - w_u[f]).float().to(final.device)
    raw_diff = (direction * final.float()).sum(-1)  # pre-softcap logit difference
    t, f = t.to(logprobs.device), f.to(logprobs.device)
    rows = torch.arange(len(t), device=logprobs.device)
    return {C.TARGET_LOGPROB: logprobs[rows, t].cpu().numpy(), C.FOIL_LOGPROB: logprobs[rows, f].cpu().numpy(),
            C.LOGIT_DIFF: raw_diff.cpu().numpy()}


def sweep_heads(model: LoadedModel, records: Sequence[Counterfactual], heads: Sequence[Head],
                factors: Sequence[float], *, batch_size: int = 64, token_budget: int = TOKEN_BUDGET,
                progress: ProgressFn | None = None, cancel: CancelToken | Callable[[], bool] | None = None
                ) -> pd.DataFrame:
    """Per prompt x factor scores (``SWEEP_COLUMNS``) with ``heads`` scaled by each factor.

    Each pass holds every factor for as many prompts as fit in ``batch_size`` rows (prompts x factors)
    and ``token_budget`` padded tokens (at least one prompt); prompts of similar length go together
    (shortest first), so long benchmark prompts do not pad short ones. Rows come back in data order.
    """
    heads = validate_heads(model, list(heads))
    factors = [float(a) for a in factors]
    if not factors:
        raise ValueError("no factors to sweep; pass e.g. [0, 1, 2]")
    records = need_items(records, "sweep_heads", kind="prompts")
    refuse_long(model, [r.prompt for r in records], record_names(records))
    targets, foils = answer_tokens(model.tokenizer, records)
    label = heads_label(heads)
    lengths = [len(encode_prompt(model.tokenizer, r.prompt)) for r in records]
    frames, done = [], 0
    for chunk in token_passes(lengths, max_rows=batch_size, token_budget=token_budget, copies=len(factors)):
        check_cancel(cancel)
        scores = _run(model, [records[i].prompt for i in chunk], heads, factors, targets[chunk], foils[chunk])
        frames.append(pd.DataFrame({
            "_n": np.tile(chunk, len(factors)), C.PROMPT_ID: [records[i].id for i in chunk] * len(factors),
            C.HEADS: label, C.FACTOR: np.repeat(factors, len(chunk)), **scores,
            C.TARGET: [records[i].target for i in chunk] * len(factors),
            C.FOIL: [records[i].foil for i in chunk] * len(factors)}))
        done += len(chunk)
        if progress is not None:
            progress(done, len(records))
    if not frames:
        return pd.DataFrame(columns=C.SWEEP_COLUMNS)
    frame = pd.concat(frames, ignore_index=True)
    frame[C.TARGET_WINS] = frame[C.LOGIT_DIFF] > 0
    order = {a: i for i, a in enumerate(factors)}
    frame = frame.assign(_f=frame[C.FACTOR].map(order)).sort_values(["_f", "_n"], kind="stable", ignore_index=True)
    return frame[C.SWEEP_COLUMNS]
