"""Head-probe records from multiple-choice items, so the head probe can run on the data every other probe
uses: the item's lettered prompt, the gold label as the target, and as the foil the label of the wrong
choice the model itself ranks highest (its strongest rival, read from the model as given, before any
intervention). Items without a gold answer cannot give a target and are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from explorer import columns as C
from explorer.errors import need_items
from explorer.items.item import Item
from explorer.models.handle import LoadedModel
from explorer.probes.choices import score_choices
from explorer.probes.counterfactual import Counterfactual
from explorer.prompts.format import PromptFormat, get_format
from explorer.scoring.progress import ProgressFn


def item_contrasts(model: LoadedModel, items: Sequence[Item], fmt: str | PromptFormat = "letters", *,
                   progress: ProgressFn | None = None, cancel: Callable[[], bool] | None = None
                   ) -> list[Counterfactual]:
    """One record per item with a gold answer: ``prompt`` the item in ``fmt`` (a format that scores
    labels), ``target`` the gold label, ``foil`` the label of the most probable wrong choice; ``id`` the
    item's id, ``metadata`` the item's plus ``gold`` and ``rival`` (the choices' texts)."""
    fmt = get_format(fmt)
    if not fmt.scores_labels:
        raise ValueError(f"item contrasts compare label tokens; format {fmt.style!r} scores no labels "
                         "(use letters, numbers or lower)")
    gold = [i for i in need_items(items, "item_contrasts") if i.answer is not None]
    if not gold:
        return []
    return contrasts_from_choices(gold, score_choices(model, gold, fmt, progress=progress, cancel=cancel))


def contrasts_from_choices(items: Sequence[Item], frame: pd.DataFrame) -> list[Counterfactual]:
    """The records of :func:`item_contrasts` from ``score_choices`` rows of ``items`` (computed here or
    by a distributed run); items without a gold answer or without rows are left out."""
    by_item = dict(tuple(frame.groupby(C.ITEM_ID, sort=False)))
    records = []
    for item in items:
        rows = by_item.get(item.id)
        if item.answer is None or rows is None:
            continue
        right = rows[rows[C.IS_GOLD].astype(bool)].iloc[0]
        rival = rows[~rows[C.IS_GOLD].astype(bool)].sort_values(C.PROB, ascending=False, kind="stable").iloc[0]
        records.append(Counterfactual(item.id, str(right[C.PROMPT]), str(right[C.LABEL]), str(rival[C.LABEL]),
                                      metadata={**item.metadata, "gold": right[C.CHOICE], "rival": rival[C.CHOICE]}))
    return records
