"""Score every choice of every item under one prompt format: the base frame of all MC probes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import need_items
from explorer.items.item import Item
from explorer.models.handle import LoadedModel
from explorer.probes.models import across_models
from explorer.probes.metadata import per_row, with_metadata
from explorer.prompts.build import build_prompts
from explorer.prompts.format import PromptFormat, get_format
from explorer.scoring.engine import DEFAULT
from explorer.scoring.progress import ProgressFn
from explorer.scoring.targets import score_targets


@across_models
def score_choices(
    model: LoadedModel | Sequence[LoadedModel],
    items: Sequence[Item],
    fmt: str | PromptFormat = "letters",
    *,
    shots: int = 0,
    pool: Sequence[Item] = (),
    seed: int = 0,
    format_name: str | None = None,
    batch_size: int = 32,
    cache=DEFAULT,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    truncate: str | None = None,
) -> pd.DataFrame:
    """One row per item x choice position (columns: :data:`explorer.columns.CHOICE_COLUMNS`, then the
    items' metadata columns). A prompt past the model's limit is refused before anything is scored,
    naming its item (``truncate="left"`` cuts its start instead: :mod:`explorer.scoring.context`).

    Every format scores its targets (labels " A", or choice texts " Paris") tokenised in context
    (:func:`explorer.scoring.targets.score_targets`): a one-token target is read at the next
    position, a longer one is scored as a continuation (its tokens' log-probabilities summed).
    ``prob_norm`` renormalises over the item's choices; ``is_pred`` marks the argmax.
    """
    name = format_name or (fmt if isinstance(fmt, str) else fmt.style)
    fmt = get_format(fmt)
    items = need_items(items, "score_choices")
    for item in items:
        fmt.check(item)
    prompts = build_prompts(items, fmt, shots=shots, pool=pool, seed=seed, tokenizer=model.tokenizer)
    scores = score_targets(model, prompts, [fmt.targets(it) for it in items], distinct=fmt.scores_labels,
                           batch_size=batch_size, cache=cache, progress=progress, cancel=cancel, truncate=truncate,
                           names=item_names(items))
    per_item = list(zip(scores.logprobs, scores.n_tokens))
    frame = choice_frame(items, prompts, fmt, per_item, format_name=name, shots=shots, seed=seed,
                         intervention="|".join(model.interventions))
    return with_metadata(frame, per_row(items, [item.k for item in items]))


def item_names(items: Sequence[Item]) -> list[str]:
    """How errors and warnings name each item's prompt: ``item 'q3'``."""
    return [f"the prompt of item {item.id!r}" for item in items]


def choice_frame(items: Sequence[Item], prompts: Sequence[str], fmt: PromptFormat,
                 per_item: Sequence[tuple[np.ndarray, np.ndarray]], *, format_name: str, shots: int, seed: int,
                 intervention: str = "") -> pd.DataFrame:
    """Assemble the tidy frame from per-item (logprobs, n_tokens) arrays."""
    rows = []
    for item, prompt, (lps, ntok) in zip(items, prompts, per_item):
        norm = np.exp(lps - np.logaddexp.reduce(lps))
        pred = int(np.argmax(lps))
        targets = fmt.targets(item)
        for pos in range(item.k):
            rows.append({
                C.ITEM_ID: item.id, C.FORMAT: format_name, C.SHOTS: shots, C.SEED: seed, C.K: item.k,
                C.POSITION: pos, C.LABEL: fmt.labels[pos] if fmt.scores_labels else "",
                C.CHOICE_INDEX: item.origin[pos], C.CHOICE: item.choices[pos], C.TARGET: targets[pos],
                C.LOGPROB: float(lps[pos]), C.PROB: float(np.exp(lps[pos])), C.PROB_NORM: float(norm[pos]),
                C.N_TOKENS: int(ntok[pos]), C.IS_GOLD: item.answer == pos if item.answer is not None else pd.NA,
                C.IS_PRED: pos == pred, C.INTERVENTION: intervention, C.PROMPT: prompt,
            })
    frame = pd.DataFrame(rows, columns=C.CHOICE_COLUMNS)
    frame[C.IS_GOLD] = frame[C.IS_GOLD].astype("boolean")
    return frame
