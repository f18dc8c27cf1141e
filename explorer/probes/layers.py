"""PMA layer by layer: where in the network the next-token mass moves onto the valid choices.

Each layer's residual stream at the prompt's last position is read through the final
normalisation and the unembedding (the "logit lens"). One forward pass per batch gives every layer
(hooks keep each block's input and the final-normed state at the last position only). Layer 0 is the embeddings; layer l the output of
block l. Hugging Face's last hidden state is already final-normalised, so it goes straight to the
unembedding and the last layer equals the model's own next-token distribution.

Every format reads each target's first token in context (a one-token label, or a choice's first
token), so the last layer's PMA is the probe's ``pma_first``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack

import numpy as np
import pandas as pd
import torch

from explorer import columns as C
from explorer.errors import need_items
from explorer.interventions.hooks import add_hook
from explorer.items.item import Item
from explorer.models.handle import LoadedModel
from explorer.probes.batching import token_passes
from explorer.probes.choices import item_names
from explorer.probes.metadata import per_row, with_metadata
from explorer.prompts.build import build_prompts
from explorer.prompts.format import PromptFormat, get_format
from explorer.prompts.tokens import encode_prompt
from explorer.scoring.context import refuse_long
from explorer.scoring.forward import TOKEN_BUDGET
from explorer.scoring.kernels import fast_linears
from explorer.scoring.logprobs import log_probs
from explorer.scoring.progress import ProgressFn, check_cancel
from explorer.scoring.targets import target_tokens


def valid_token_ids(model: LoadedModel, item: Item, prompt: str, fmt: PromptFormat) -> list[int]:
    """The tokens that count as a valid answer at the next position: each target's first token in context."""
    return [toks[0] for toks in target_tokens(model.tokenizer, prompt, fmt.targets(item))]


def layer_pma(
    model: LoadedModel,
    items: Sequence[Item],
    fmt: str | PromptFormat = "letters",
    *,
    shots: int = 0,
    pool: Sequence[Item] = (),
    seed: int = 0,
    format_name: str | None = None,
    batch_size: int = 8,
    token_budget: int = TOKEN_BUDGET // 2,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
) -> pd.DataFrame:
    """One row per item x layer (:data:`explorer.columns.LAYER_PMA_COLUMNS`, then the items' metadata), in the
    items' order. A pass holds at most ``batch_size`` prompts and ``token_budget`` padded tokens: every
    layer's states of every position are kept during a pass. A prompt past the model's limit is refused
    before any pass."""
    name = format_name or (fmt if isinstance(fmt, str) else fmt.style)
    fmt = get_format(fmt)
    items = need_items(items, "layer_pma")
    prompts = build_prompts(items, fmt, shots=shots, pool=pool, seed=seed, tokenizer=model.tokenizer)
    refuse_long(model, prompts, item_names(items))
    valid = [valid_token_ids(model, it, p, fmt) for it, p in zip(items, prompts)]
    per_item: dict[int, list[dict]] = {}
    if progress is not None:
        progress(0, len(items))
    lengths = [len(encode_prompt(model.tokenizer, p)) for p in prompts]
    for chunk in token_passes(lengths, max_rows=batch_size, token_budget=token_budget):
        check_cancel(cancel)
        probs = layer_choice_probs(model, [prompts[i] for i in chunk], [valid[i] for i in chunk])  # [batch][L+1, k]
        for i, p in zip(chunk, probs):
            item, rows = items[i], per_item.setdefault(i, [])
            for layer, lp in enumerate(p):
                pred = int(np.argmax(lp))
                rows.append({
                    C.ITEM_ID: item.id, C.FORMAT: name, C.SHOTS: shots, C.SEED: seed, C.LAYER: layer,
                    C.PMA: float(lp.sum()), C.P_GOLD: float(lp[item.answer]) if item.answer is not None else np.nan,
                    C.PRED: pred, C.CORRECT: pd.NA if item.answer is None else pred == item.answer,
                    C.CHOICE_PROBS: lp.tolist(), C.INTERVENTION: "|".join(model.interventions),
                })
        if progress is not None:
            progress(len(per_item), len(items))
    rows = [row for i in range(len(items)) for row in per_item.get(i, [])]
    frame = pd.DataFrame(rows, columns=C.LAYER_PMA_COLUMNS)
    frame[C.CORRECT] = frame[C.CORRECT].astype("boolean")
    return with_metadata(frame, per_row(items, [model.parts.n_layers + 1] * len(items)))


@torch.inference_mode()
def layer_choice_probs(model: LoadedModel, prompts: Sequence[str],
                       token_ids: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """For each prompt, p(token_ids[i][j] | layer l's residual at the last position): [n_layers + 1, k_i].

    Prompts are right-padded, so every row's last real token sees exactly its own prompt at its
    own positions (causal attention never looks at the padding after it).
    """
    parts, device = model.parts, model.device
    encoded = [encode_prompt(model.tokenizer, p) for p in prompts]
    model.check_precision(encoded)  # once, for a reduced-precision model on CPU
    lengths = [len(e) for e in encoded]
    input_ids = torch.zeros(len(encoded), max(lengths), dtype=torch.long)
    mask = torch.zeros_like(input_ids)
    for row, ids in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
    last = torch.tensor(lengths) - 1
    rows = torch.arange(len(encoded))
    # The residual entering each block and the final-normed state, at each prompt's last token only (what
    # output_hidden_states returns, without keeping every position of every layer during the pass).
    kept: dict[int, torch.Tensor] = {}

    def keep(index: int) -> Callable:
        def hook(module, args, *rest):  # pre-hook (module, args, kwargs) of a block, or hook (module, args, out)
            h = (args[0] if args else rest[0]["hidden_states"]) if index < parts.n_layers else rest[-1]
            h = h[0] if isinstance(h, tuple) else h
            kept[index] = h[rows.to(h.device), last.to(h.device)].clone()  # [batch, d_model], a copy
        return hook

    with ExitStack() as stack:
        for layer, block in enumerate(parts.layers()):
            add_hook(stack, model, block, keep(layer), pre=True, with_kwargs=True)
        add_hook(stack, model, parts.final_norm(), keep(parts.n_layers))
        stack.enter_context(fast_linears())
        model.model(input_ids=input_ids.to(device), attention_mask=mask.to(device), logits_to_keep=1,
                    use_cache=False)  # no keys and values of every layer kept for a pass that never continues
    norm = parts.final_norm()
    picked: list[list[torch.Tensor]] = [[] for _ in encoded]
    for layer in range(parts.n_layers + 1):  # under a device_map each layer's states stay on its device
        resid = kept.pop(layer)
        normed = resid if layer == parts.n_layers else norm(resid)
        logprobs = log_probs(parts.logits(normed))  # [batch, vocab], one layer's at a time
        for i, ids in enumerate(token_ids):  # only the tokens read: not [batch, n_layers + 1, vocab] at once
            picked[i].append(logprobs[i, list(ids)].cpu())
    return [torch.stack(p).exp().double().numpy() for p in picked]
