"""Summaries of the chain probe's frame (:data:`explorer.columns.CHAIN_COLUMNS`): each quantity's mean
per condition, and for each pair of conditions the per-link agreement over the items both scored."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.errors import ExplorerError, NoItemsError
from explorer.metrics.chain import link_agreement
from explorer.metrics.small import MIN_INTERVAL_ITEMS

MEANS = {C.LOGP_VOCAB_GOLD: C.LOGP_VOCAB_GOLD, C.P_VOCAB_GOLD: C.P_VOCAB_GOLD, C.P_CHOICES_GOLD: C.P_CHOICES_GOLD,
         C.ACCURACY: C.CORRECT, C.BRIER: C.BRIER, C.P_VOCAB_WRONG: C.P_VOCAB_WRONG}  # summary key: column
N_ITEMS = "n_items"


def conditions(frame: pd.DataFrame) -> list[str]:
    """The frame's conditions in the order they first appear."""
    return list(dict.fromkeys(frame[C.CONDITION].astype(str)))


def _check(frame: pd.DataFrame) -> None:
    missing = [c for c in (C.CONDITION, C.ITEM_ID, *C.CHAIN_LINKS) if c not in frame.columns]
    if missing:
        raise ExplorerError(f"the frame lacks columns {missing}; pass the frame of explorer.probes.chain_probe")
    dup = frame.duplicated([C.CONDITION, C.ITEM_ID])
    if dup.any():
        row = frame[dup].iloc[0]
        raise ExplorerError(f"item {row[C.ITEM_ID]!r} appears twice under condition {row[C.CONDITION]!r}; the "
                            "chain compares one value per item and condition: give each condition a distinct name")


def chain_means(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per condition: the mean of each quantity (accuracy = mean correct) and ``n_items``."""
    _check(frame)
    g = frame.assign(**{C.CORRECT: frame[C.CORRECT].astype(float)}).groupby(C.CONDITION, sort=False)
    out = g.agg(**{key: (col, "mean") for key, col in MEANS.items()}, **{N_ITEMS: (C.ITEM_ID, "size")})
    return out.reindex(conditions(frame)).reset_index()


def paired(frame: pd.DataFrame, a: str, b: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of conditions ``a`` and ``b`` for the items both have, aligned by item (a's order)."""
    _check(frame)
    rows = {name: frame[frame[C.CONDITION].astype(str) == name].set_index(C.ITEM_ID) for name in (a, b)}
    for name, r in rows.items():
        if r.empty:
            raise ExplorerError(f"no rows for condition {name!r}; the frame has {conditions(frame)}")
    common = [i for i in rows[a].index if i in rows[b].index]
    return rows[a].loc[common].reset_index(), rows[b].loc[common].reset_index()


def chain_agreement(frame: pd.DataFrame, pairs: Sequence[tuple[str, str]] | None = None) -> pd.DataFrame:
    """One row per pair of conditions x link (:data:`explorer.columns.CHAIN_AGREEMENT_COLUMNS`), over the
    items both conditions scored; ``pairs`` defaults to every pair, in the order the conditions appear."""
    pairs = list(combinations(conditions(frame), 2)) if pairs is None else list(pairs)
    rows = []
    for a, b in pairs:
        ra, rb = paired(frame, a, b)
        values = lambda r: {link: r[link].to_numpy(float) for link in C.CHAIN_LINKS}  # noqa: E731
        rows += [{C.CONDITION_A: a, C.CONDITION_B: b, **r} for r in link_agreement(values(ra), values(rb))]
    return pd.DataFrame(rows, columns=C.CHAIN_AGREEMENT_COLUMNS)


def pair_name(a: str, b: str) -> str:
    """How a pair is keyed in the summary.

    >>> pair_name("0-shot", "1-shot")
    '0-shot vs 1-shot'
    """
    return f"{a} vs {b}"


def summarize_chain(frame: pd.DataFrame) -> dict:
    """JSON-ready: ``conditions`` {name: {logp_vocab_gold, p_vocab_gold, p_choices_gold, accuracy, brier,
    p_vocab_wrong, n_items}}, ``correlations`` {"A vs B": {a, b, n_items, spearman {link: rho}, pearson
    {link: r}, same_sign {link: share}, same_sign_share (at the last link)}} and ``links`` (the chain
    in order). With a single condition its keys also sit at the top level."""
    if frame.empty:
        raise NoItemsError("no items: summarize_chain was given no rows")
    means = chain_means(frame)
    out: dict = {"links": list(C.CHAIN_LINKS), "conditions": {}, "correlations": {}}
    for rec in means.to_dict("records"):
        name = str(rec.pop(C.CONDITION))
        out["conditions"][name] = {k: (int(v) if k == N_ITEMS else float(v)) for k, v in rec.items()}
    agreement = chain_agreement(frame)
    for (a, b), g in agreement.groupby([C.CONDITION_A, C.CONDITION_B], sort=False):
        by_link = g.set_index(C.LINK)
        out["correlations"][pair_name(a, b)] = {
            "a": a, "b": b, N_ITEMS: int(by_link[C.N].iloc[0]),
            **{key: {link: _float(v) for link, v in by_link[key].items()} for key in (C.SPEARMAN, C.PEARSON,
                                                                                      C.SAME_SIGN)},
            "same_sign_share": _float(by_link[C.SAME_SIGN].iloc[-1])}
        pair = out["correlations"][pair_name(a, b)]
        undefined = [f"{key} at {link}" for key in (C.SPEARMAN, C.PEARSON) for link, v in pair[key].items()
                     if v is None]
        pair["notes"] = ([f"undefined (null): {', '.join(undefined)}: fewer than 2 paired items, or a link constant "
                          "in one condition"] if undefined else [])
        if pair[N_ITEMS] < MIN_INTERVAL_ITEMS:
            pair["notes"].append(f"correlations over {pair[N_ITEMS]} items (fewer than {MIN_INTERVAL_ITEMS}) say "
                                 "little (over 2 they are +1 or -1 by construction)")
    if len(out["conditions"]) == 1:
        out.update(next(iter(out["conditions"].values())))
    return out


def _float(value) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
