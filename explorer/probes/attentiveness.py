"""Surface-form attentiveness (Wiegreffe et al. 2023): where the next-token probability goes.

One row per item x format x shots x seed (:data:`explorer.columns.ATTENTIVENESS_COLUMNS`, then the
items' metadata columns):

- every format scores its targets (labels " A", or choices " Paris") tokenised in context
  (:func:`explorer.scoring.targets.score_targets`): one-token targets (the usual letters) are read
  at the next position, with the ``top_k`` most likely tokens from the same pass (greedy token, top
  invalid tokens); longer ones (choice texts, or labels such as " 1" for SmolLM2) are scored as
  continuations: the sequence probability is the choice's score, its first token's probability
  is kept too, and one next-token pass gives the greedy token and the top invalid tokens (those
  that start no target).

PMI divides by each target's probability after a content-free premise ("Answer:"), scored once
per item; the length-normalised score divides the summed log-probability by the choice's
characters, as lm-evaluation-harness's ``acc_norm`` does. With shots = 0 the seed changes
nothing, so only the first seed is run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import need_items
from explorer.items.item import Item
from explorer.metrics.attentiveness import length_normalised, pmi_scores, sfc_resolved, top_two
from explorer.models.handle import LoadedModel
from explorer.probes.models import across_models
from explorer.probes.choices import item_names
from explorer.probes.metadata import with_metadata
from explorer.prompts.build import build_prompts
from explorer.prompts.format import PREMISE, PromptFormat, get_format
from explorer.scoring.engine import DEFAULT, score_continuations
from explorer.scoring.progress import ProgressFn
from explorer.scoring.targets import check_fits, score_targets



@dataclass(frozen=True)
class _Scored:
    """One prompt's raw scores, per choice position."""

    logprobs: np.ndarray  # choice score (label token, or summed continuation tokens)
    first_logprobs: np.ndarray  # first token of each target
    first_ids: tuple[int, ...]  # first token id of each target
    top_ids: np.ndarray  # most likely next tokens, best first
    top_logprobs: np.ndarray


@across_models
def attentiveness(
    model: LoadedModel | Sequence[LoadedModel],
    items: Sequence[Item],
    formats: Sequence[str | PromptFormat] = ("letters", "string", "cloze"),
    *,
    shots: Sequence[int] = (0,),
    seeds: Sequence[int] = (0,),
    pool: Sequence[Item] = (),
    premise: str = PREMISE,
    n_invalid: int = 5,
    batch_size: int = 32,
    cache=DEFAULT,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    truncate: str | None = None,
) -> pd.DataFrame:
    """Attentiveness rows for every item under every (format, shots, seed); demonstrations come from
    ``pool`` and never from ``items``. ``n_invalid`` top invalid tokens are kept per row. Every
    prompt is checked against the model's limit before the first is scored (``truncate``: see
    :func:`explorer.probes.score_choices`)."""
    items = need_items(items, "attentiveness")
    fmts = [(_name(f), get_format(f)) for f in formats]
    if not fmts or not list(shots) or not list(seeds):
        raise ValueError(f"attentiveness needs at least one format, shots value and seed; got formats={list(formats)}, "
                         f"shots={list(shots)}, seeds={list(seeds)}")
    for _, fmt in fmts:
        for item in items:
            fmt.check(item)
    conditions = [(f, name, fmt, n, seed) for f, (name, fmt) in enumerate(fmts)
                  for n in shots for seed in (seeds if n else seeds[:1])]
    prompts_of = {}
    for f, name, fmt, n, seed in conditions:
        prompts_of[f, n, seed] = build_prompts(items, fmt, shots=n, pool=pool, seed=seed, tokenizer=model.tokenizer)
        check_fits(model, prompts_of[f, n, seed], [fmt.targets(it) for it in items], truncate=truncate,
                   names=item_names(items))
    step = _Steps(progress, len(conditions) + 1)
    premise_lps = premise_logprobs(model, items, [f for _, f in fmts], premise=premise, batch_size=batch_size,
                                   cache=cache, progress=step.next(), cancel=cancel)  # [format][item]
    frames = []
    for f, name, fmt, n, seed in conditions:
        prompts = prompts_of[f, n, seed]
        scored = score_prompts(model, items, prompts, fmt, n_invalid=n_invalid, batch_size=batch_size, cache=cache,
                               progress=step.next(), cancel=cancel, truncate=truncate, names=item_names(items))
        rows = [attentiveness_row(model.tokenizer, item, fmt, s, base, n_invalid)
                for item, s, base in zip(items, scored, premise_lps[f])]
        frame = pd.DataFrame(rows)
        frame[C.FORMAT], frame[C.SHOTS], frame[C.SEED] = name, n, seed
        frame[C.PROMPT], frame[C.INTERVENTION] = prompts, "|".join(model.interventions)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)[C.ATTENTIVENESS_COLUMNS]
    for col in (C.ANSWER,):
        out[col] = out[col].astype("Int64")
    for col in (C.CORRECT, C.CORRECT_PMI, C.CORRECT_NORM):
        out[col] = out[col].astype("boolean")
    return with_metadata(out, items * len(conditions))


def premise_logprobs(model: LoadedModel, items: Sequence[Item], fmts: Sequence[PromptFormat], *,
                     premise: str = PREMISE, **engine) -> list[list[np.ndarray]]:
    """``out[f][i]``: log p(target | premise) for each target of ``items[i]`` under ``fmts[f]``, in one
    engine call. Matched to items by position (ids may repeat, as in permuted copies)."""
    conts = [fmt.targets(item) for fmt in fmts for item in items]
    lps = score_continuations(model, [premise] * len(conts), conts, **engine)
    flat = [np.array([t.sum() for t in per]) for per in lps]
    return [flat[f * len(items) : (f + 1) * len(items)] for f in range(len(fmts))]


def score_prompts(model: LoadedModel, items: Sequence[Item], prompts: Sequence[str], fmt: PromptFormat, *,
                  n_invalid: int = 5, **engine) -> list[_Scored]:
    """Raw scores of each item's choices after its prompt (see the module docstring)."""
    top_k = n_invalid + max(i.k for i in items)  # enough that n_invalid remain after dropping the valid tokens
    s = score_targets(model, prompts, [fmt.targets(it) for it in items], top_k=top_k, distinct=fmt.scores_labels,
                      **engine)
    return [_Scored(s.logprobs[n], s.first_logprobs[n], s.first_ids[n], s.top_ids[n], s.top_logprobs[n])
            for n in range(len(items))]


def attentiveness_row(tokenizer, item: Item, fmt: PromptFormat, s: _Scored, premise_lp: np.ndarray,
                      n_invalid: int) -> dict:
    """The row's numbers from one prompt's raw scores."""
    probs = np.exp(s.logprobs)
    first = dict(zip(s.first_ids, np.exp(s.first_logprobs)))  # distinct first tokens counted once
    pma = float(probs.sum())
    p1, p2 = top_two(probs)
    chars = [len(lab) for lab in fmt.labels[: item.k]] if fmt.scores_labels else [len(c) for c in item.choices]
    valid = set(s.first_ids)
    invalid = [(int(t), float(np.exp(lp))) for t, lp in zip(s.top_ids, s.top_logprobs) if int(t) not in valid]
    greedy = int(s.top_ids[0])
    pred = int(np.argmax(s.logprobs))
    pred_pmi = int(np.argmax(pmi_scores(s.logprobs, premise_lp)))
    pred_norm = int(np.argmax(length_normalised(s.logprobs, chars)))
    gold = item.answer
    right = (lambda p: pd.NA if gold is None else p == gold)
    return {
        C.ITEM_ID: item.id, C.K: item.k, C.ANSWER: pd.NA if gold is None else gold,
        C.PMA: pma, C.PMA_FIRST: float(sum(first.values())), C.P1: p1, C.P2: p2,
        C.RESOLVED: bool(sfc_resolved(pma, p1, p2)),
        C.GREEDY_TOKEN: tokenizer.decode([greedy]), C.GREEDY_TOKEN_ID: greedy,
        C.GREEDY_PROB: float(np.exp(s.top_logprobs[0])), C.GREEDY_VALID: greedy in valid,
        C.PRED: pred, C.CORRECT: right(pred), C.PRED_PMI: pred_pmi, C.CORRECT_PMI: right(pred_pmi),
        C.PRED_NORM: pred_norm, C.CORRECT_NORM: right(pred_norm),
        C.CHOICE_PROBS: probs.tolist(), C.CHOICE_FIRST_PROBS: np.exp(s.first_logprobs).tolist(),
        C.PREMISE_LOGPROBS: np.asarray(premise_lp, dtype=float).tolist(), C.CHOICE_CHARS: chars,
        C.TOP_INVALID: [tokenizer.decode([t]) for t, _ in invalid[:n_invalid]],
        C.TOP_INVALID_PROBS: [p for _, p in invalid[:n_invalid]],
    }


def explode_choices(rows: pd.DataFrame) -> pd.DataFrame:
    """Long form of the per-choice lists: one row per item x format x shots x seed x position."""
    keep = [C.ITEM_ID, C.FORMAT, C.SHOTS, C.SEED, C.ANSWER, C.PMA]
    lists = [C.CHOICE_PROBS, C.CHOICE_FIRST_PROBS, C.PREMISE_LOGPROBS, C.CHOICE_CHARS]
    long = rows[keep + lists].explode(lists, ignore_index=False)
    long[C.POSITION] = long.groupby(level=0).cumcount()
    long = long.reset_index(drop=True)
    long[C.IS_GOLD] = long[C.POSITION] == long[C.ANSWER]
    return long.astype({c: float for c in lists[:3]} | {C.CHOICE_CHARS: int})


def _name(fmt: str | PromptFormat) -> str:
    return fmt if isinstance(fmt, str) else fmt.style


class _Steps:
    """Folds the progress of several engine calls into one stream, in percent of the whole run."""

    def __init__(self, progress: ProgressFn | None, n: int) -> None:
        self.progress, self.n, self.at = progress, n, -1

    def next(self) -> ProgressFn | None:
        if self.progress is None:
            return None
        self.at += 1
        at, report = self.at, self.progress
        return lambda d, t: report(int(100 * (at + (d / t if t else 1)) / self.n), 100)
