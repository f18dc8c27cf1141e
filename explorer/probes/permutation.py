"""The option-order permutation probe: every item scored under several orders of its choices.

Labels stay fixed while the choices move, so each row says how much probability a label position
got and which original choice stood there. Scoring goes through :func:`score_choices` on the
permuted items in one call, so the engine batches, shares prompt prefixes and caches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pandas as pd

from explorer import columns as C
from explorer.errors import need_items
from explorer.items.item import Item
from explorer.items.orders import (Order, OrderError, OrderSpec, check_labels, order_string, orders_for,  # noqa: F401
                                   resolve_orders)
from explorer.models.handle import LoadedModel
from explorer.probes.models import across_models
from explorer.probes.choices import score_choices
from explorer.prompts.format import PromptFormat, get_format, resolve_labels
from explorer.scoring.engine import DEFAULT
from explorer.scoring.progress import ProgressFn


def permutation_format(fmt: str | PromptFormat = "letters", *, labels: str | Sequence[str] | None = None,
                       template: str | None = None) -> PromptFormat:
    """``fmt`` with its label set and/or template replaced."""
    fmt = get_format(fmt)
    changes: dict = {}
    if labels is not None:
        changes["labels"] = resolve_labels(labels)
    if template is not None:
        changes["template"] = template
    return dataclasses.replace(fmt, **changes) if changes else fmt


@across_models
def permutation_probe(
    model: LoadedModel | Sequence[LoadedModel],
    items: Sequence[Item],
    *,
    orders: OrderSpec = "cyclic",
    fmt: str | PromptFormat = "letters",
    labels: str | Sequence[str] | None = None,
    template: str | None = None,
    shots: int = 0,
    pool: Sequence[Item] = (),
    seed: int = 0,
    batch_size: int = 32,
    cache=DEFAULT,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    truncate: str | None = None,
) -> pd.DataFrame:
    """One row per item x order x position (columns :data:`explorer.columns.PERMUTATION_COLUMNS`, then
    the items' metadata columns).

    ``orders``: ``"cyclic"`` (the k shifts), ``"all"`` (k!), an int n (n distinct orders drawn with
    ``seed``) or an explicit list of orders. ``labels``/``template`` override those of ``fmt``.
    ``prob_norm`` is renormalised over the item's labels; ``choice_index`` is the choice's original
    index (its ``origin``; for freshly loaded items, its index as given); demonstrations (``shots``
    from ``pool``) are the same under every order. ``truncate``: see :func:`score_choices`.
    """
    items = need_items(items, "permutation_probe")
    format_name = _format_name(fmt, labels, template)
    fmt = permutation_format(fmt, labels=labels, template=template)
    check_labels(items, fmt)
    per_k = orders_for(items, orders, seed=seed)
    shown: list[Item] = []
    tags: list[tuple[int, str]] = []
    for item in items:
        for order_id, order in enumerate(per_k[item.k]):
            shown.append(item.permuted(order))
            tags.append((order_id, order_string(order)))
    frame = score_choices(model, shown, fmt, shots=shots, pool=pool, seed=seed, format_name=format_name,
                          batch_size=batch_size, cache=cache, progress=progress, cancel=cancel, truncate=truncate)
    repeats = [item.k for item in shown]
    frame.insert(1, C.ORDER_ID, [t[0] for t, r in zip(tags, repeats) for _ in range(r)])
    frame.insert(2, C.ORDER, [t[1] for t, r in zip(tags, repeats) for _ in range(r)])
    return frame[[*C.PERMUTATION_COLUMNS, *C.metadata_columns(frame)]].reset_index(drop=True)


def _format_name(fmt: str | PromptFormat, labels, template: str | None) -> str:
    """``letters``, or e.g. ``letters labels=1234 template`` when options override the format."""
    name = fmt if isinstance(fmt, str) else fmt.style
    if labels is not None:
        name += f" labels={labels if isinstance(labels, str) else ''.join(labels)}"
    if template is not None:
        name += " template"
    return name
