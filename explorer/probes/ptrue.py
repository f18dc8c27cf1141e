"""P(True) self-evaluation (Kadavath et al. 2022): is the proposed answer true?

For each item and proposed answer the model reads::

    Question: {question}
    Proposed answer: {answer}
    Is the proposed answer:
     (A) True
     (B) False
    The proposed answer is:

and the log-probabilities of the labels " True" and " False" are read in one batched engine call,
tokenised in context (:func:`explorer.scoring.targets.score_targets`: one token each is a single
next-token read, longer labels are scored as continuations). We read the words rather than
" A"/" B" because after "is:" the words are the natural continuation (either pair can be passed
as ``labels``). Confidence = P(True) renormalised over the two: p(" True") / (p(" True") + p(" False")).

Its calibration treats P(True) as the probability that the proposal is correct (the event of
``sklearn.calibration.calibration_curve``), not as a top-label confidence: :func:`ptrue_predictions`
gives the per-prediction frame that :func:`explorer.probes.calibration.summarize` reads, so
P(True) sits alongside the multiple-choice confidences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import ItemError, NoItemsError, need_items
from explorer.items.item import Item
from explorer.models.handle import LoadedModel
from explorer.probes.metadata import with_metadata
from explorer.scoring.engine import DEFAULT
from explorer.scoring.progress import ProgressFn
from explorer.scoring.targets import score_targets

PTRUE_TEMPLATE = ("Question: {question}\nProposed answer: {answer}\nIs the proposed answer:\n (A) True\n (B) False\n"
                  "The proposed answer is:")
TRUE_FALSE = (" True", " False")
FORMAT_NAME = "ptrue"


def proposals_from(frame: pd.DataFrame) -> dict[str, int]:
    """The model's answer per item (choice_index of the ``is_pred`` row) from a choice frame of one
    prompt per item; an error when an item has several prompts (pick one condition first)."""
    preds = frame[frame[C.IS_PRED].astype(bool)]
    dup = preds[C.ITEM_ID].duplicated()
    if dup.any():
        item = preds.loc[dup, C.ITEM_ID].iloc[0]
        raise ItemError(str(item), C.IS_PRED, "the frame has several predictions for this item",
                        "filter the frame to one format/shots/order before taking its predictions")
    return dict(zip(preds[C.ITEM_ID].astype(str), preds[C.CHOICE_INDEX].astype(int)))


def _pairs(items: Sequence[Item], proposals: str | Mapping[str, int] | pd.DataFrame) -> list[tuple[Item, int]]:
    if isinstance(proposals, str):
        if proposals != "each":
            raise ValueError(f"proposals must be 'each', a {{item_id: choice_index}} map or a choice frame; "
                             f"got {proposals!r}")
        return [(item, i) for item in items for i in range(item.k)]
    ids = [item.id for item in items]
    if len(set(ids)) < len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ItemError(dup, "id", "several items share this id, so a proposal keyed by id is ambiguous",
                        "give every item its own id, or use proposals='each'")
    chosen = proposals_from(proposals) if isinstance(proposals, pd.DataFrame) else dict(proposals)
    pairs = []
    for item in items:
        if item.id not in chosen:
            raise ItemError(item.id, "proposals", "no proposed answer for this item", "propose one answer per item")
        pairs.append((item, item.origin.index(int(chosen[item.id]))))
    return pairs


def score_ptrue(model: LoadedModel, items: Sequence[Item], *,
                proposals: str | Mapping[str, int] | pd.DataFrame = "each",
                labels: tuple[str, str] = TRUE_FALSE, template: str = PTRUE_TEMPLATE, batch_size: int = 32,
                cache=DEFAULT, progress: ProgressFn | None = None,
                cancel: Callable[[], bool] | None = None) -> pd.DataFrame:
    """One row per item x proposed answer (:data:`explorer.columns.PTRUE_COLUMNS`, then the items' metadata).

    ``proposals``: ``"each"`` (every choice in turn), ``{item_id: choice_index}``, or a choice
    frame whose predictions are proposed. ``labels``: (true label, false label).
    """
    pairs = _pairs(need_items(items, "score_ptrue"), proposals)
    if not pairs:
        raise NoItemsError("no proposals: score_ptrue was given proposals for none of the items. Fix: propose a "
                           "choice for the items given (keyed by their ids)")
    prompts = [template.format(question=item.question, answer=item.choices[pos]) for item, pos in pairs]
    scores = score_targets(model, prompts, [list(labels)] * len(prompts), distinct=True, batch_size=batch_size,
                           cache=cache, progress=progress, cancel=cancel,
                           names=[f"the P(True) prompt of item {item.id!r}" for item, _ in pairs])
    lp = np.array(scores.logprobs, dtype=float).reshape(len(prompts), 2)
    lp_true, lp_false = lp[:, 0], lp[:, 1]
    frame = pd.DataFrame({
        C.ITEM_ID: [item.id for item, _ in pairs],
        C.FORMAT: FORMAT_NAME,
        C.PROPOSED_INDEX: [item.origin[pos] for item, pos in pairs],
        C.PROPOSED: [item.choices[pos] for item, pos in pairs],
        C.IS_GOLD: pd.array([None if item.answer is None else item.answer == pos for item, pos in pairs],
                            dtype="boolean"),
        C.LOGPROB_TRUE: lp_true, C.LOGPROB_FALSE: lp_false,
        C.P_TRUE: 1.0 / (1.0 + np.exp(lp_false - lp_true)),
        C.P_TRUE_RAW: np.exp(lp_true),
        C.INTERVENTION: "|".join(model.interventions),
        C.PROMPT: prompts,
    })
    return with_metadata(frame[C.PTRUE_COLUMNS], [item for item, _ in pairs])


def ptrue_predictions(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-prediction frame for :func:`explorer.probes.calibration.summarize`: confidence = p_true,
    correct = the proposal is gold, event = True (so the balance score treats the row as a binary
    event: it predicts "true" when p_true >= 0.5, with confidence max(p, 1 - p)), option_brier = the Brier score over the two options
    {True, False}: (p - y)^2 + ((1 - p) - (1 - y))^2 = 2 (p - y)^2."""
    missing = frame[C.IS_GOLD].isna()
    if missing.any():
        raise ItemError(str(frame.loc[missing, C.ITEM_ID].iloc[0]), "answer", "the item has no gold answer",
                        "give every item an answer to measure P(True) calibration")
    y = frame[C.IS_GOLD].astype(bool).to_numpy()
    p = frame[C.P_TRUE].to_numpy(float)
    out = frame[[C.ITEM_ID, C.FORMAT, C.PROPOSED_INDEX, C.PROPOSED, C.INTERVENTION, C.PROMPT]].copy()
    out[C.CONFIDENCE] = p
    out[C.CORRECT] = y
    out[C.EVENT] = True
    out[C.OPTION_BRIER] = 2 * (p - y) ** 2
    out[C.CHOICE_PROBS] = [(float(a), float(1 - a)) for a in p]
    return out
