"""The per-item quantity chain probe (``PAPERS.md`` section 5): log p_vocab(gold) -> p_vocab(gold) ->
p_choices(gold) -> correct / Brier, per item, under each of several conditions.

A condition is a model, a prompt format, a number of demonstrations and an optional head scaling.
Each condition's items are scored once through :func:`score_choices` (so the engine batches, shares
prefixes and caches); the quantities come from its ``logprob`` column through
:func:`explorer.metrics.chain.chain_quantities`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext

import pandas as pd

from explorer import columns as C
from explorer.errors import need_items
from explorer.interventions.heads import scale_heads
from explorer.items.item import Item
from explorer.probes.conditions import Condition, chain_conditions  # noqa: F401 - re-exported
from explorer.metrics.chain import chain_quantities
from explorer.models.handle import LoadedModel
from explorer.probes.calibration import option_matrix, prompt_keys
from explorer.probes.choices import item_names, score_choices
from explorer.prompts.build import build_prompts
from explorer.prompts.format import get_format
from explorer.scoring.engine import DEFAULT
from explorer.scoring.progress import ProgressFn
from explorer.scoring.targets import check_fits

Models = LoadedModel | Mapping[str, LoadedModel] | Sequence[LoadedModel]


def model_map(models: Models) -> dict[str, LoadedModel]:
    """Models by key: a single model under "" (and its name), a sequence by name, a mapping as given."""
    if isinstance(models, LoadedModel):
        return {"": models, models.name: models}
    if isinstance(models, Mapping):
        return dict(models)
    named = {m.name: m for m in models}
    if len(named) < len(models):
        raise ValueError(f"two models share a name in {[m.name for m in models]}; pass a mapping {{key: model}}")
    return {"": models[0], **named} if len(named) == 1 else named


def chain_probe(
    models: Models,
    items: Sequence[Item],
    conditions: Sequence[Condition] | None = None,
    *,
    pool: Sequence[Item] = (),
    seed: int = 0,
    batch_size: int = 32,
    cache=DEFAULT,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    truncate: str | None = None,
) -> pd.DataFrame:
    """One row per item x condition (columns :data:`explorer.columns.CHAIN_COLUMNS`).

    ``conditions`` default to one per model (letters, 0 shots). Demonstrations come from ``pool``
    (drawn with ``seed``, the same for every condition). Every item needs a gold answer. Every
    condition's prompts are checked against its model's limit before the first is scored
    (``truncate``: see :func:`explorer.probes.score_choices`).
    """
    by_key = model_map(models)
    items = need_items(items, "chain_probe")
    if conditions is None:
        keys = [k for k in by_key if k] if not isinstance(models, LoadedModel) else [""]
        conditions = chain_conditions(models=keys)
    names = [c.name for c in conditions]
    if len(set(names)) != len(names):
        raise ValueError(f"condition names repeat: {names}; give each condition its own name")
    missing = [c.model for c in conditions if c.model not in by_key]
    if missing:
        raise KeyError(f"conditions name model(s) {missing} that were not given; models: {[k for k in by_key if k]}")
    for cond in conditions:
        fmt, model = get_format(cond.fmt), by_key[cond.model]
        prompts = build_prompts(items, fmt, shots=cond.shots, pool=pool, seed=seed, tokenizer=model.tokenizer)
        check_fits(model, prompts, [fmt.targets(it) for it in items], truncate=truncate, names=item_names(items))
    parts = []
    for n, cond in enumerate(conditions):
        model = by_key[cond.model]

        def step(done: int, total: int, n: int = n) -> None:  # in items over every condition
            if progress is not None:
                progress(n * len(items) + (len(items) * done // total if total else len(items)),
                         len(items) * len(conditions))

        with scale_heads(model, cond.heads) if cond.heads else nullcontext():
            choices = score_choices(model, items, cond.fmt, shots=cond.shots, pool=pool, seed=seed,
                                    batch_size=batch_size, cache=cache, progress=step, cancel=cancel,
                                    truncate=truncate)
        parts.append(chain_rows(choices, condition=cond.name, model=cond.model or model.name))
    return pd.concat(parts, ignore_index=True)[C.CHAIN_COLUMNS]


def chain_rows(choices: pd.DataFrame, *, condition: str, model: str) -> pd.DataFrame:
    """The chain of each prompt of a choice frame (one condition), from its ``logprob`` column."""
    keys = prompt_keys(choices)
    heads, logprobs, gold = option_matrix(choices, keys, C.LOGPROB)
    _, raw, _ = option_matrix(choices, keys, C.PROB)
    out = heads.assign(**{C.CONDITION: condition, C.MODEL: model, C.K: (~pd.isna(logprobs)).sum(axis=1),
                          C.ANSWER: gold, **chain_quantities(logprobs, gold)})
    out[C.CHOICE_PROBS] = [tuple(float(p) for p in row[~pd.isna(row)]) for row in raw]
    return out[C.CHAIN_COLUMNS]

