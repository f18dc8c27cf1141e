"""A run made elsewhere as the engine's frame: one row per question x choice (:data:`explorer.columns.RUN_COLUMNS`,
then the metadata columns ``task``, ``subject``, ``group``).

The frame is a permutation probe's frame with one order (the run's own; an Inspect order study has one
per log) and a choice frame at once, so the calibration, permutation, attentiveness and chain
functions read it unchanged. ``frame.attrs`` names the model, the source and the path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from explorer import columns as C
from explorer.runs.record import RunLog, ScoredDoc

META = list(C.RUN_METADATA)


def run_frame(log: RunLog) -> pd.DataFrame:
    """The frame of every record of ``log`` (see the module docstring)."""
    frame = docs_frame(log.docs)
    frame.attrs.update(model=log.model, source=log.source, path=log.path, logprobs=log.details.get("logprobs", True))
    return frame


def docs_frame(docs: list[ScoredDoc]) -> pd.DataFrame:
    """One row per record x choice, columns :data:`explorer.columns.RUN_COLUMNS` then the metadata."""
    if not docs:
        return pd.DataFrame(columns=[*C.RUN_COLUMNS, *META])
    ks = np.array([d.k for d in docs])
    starts = np.concatenate([[0], np.cumsum(ks)[:-1]])
    doc = np.repeat(np.arange(len(docs)), ks)
    pos = np.arange(ks.sum()) - starts[doc]
    lp = np.fromiter((x for d in docs for x in d.logprobs), float, ks.sum())
    top = np.maximum.reduceat(lp, starts)
    finite = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(lp - finite[doc])
    norm = e / np.add.reduceat(e, starts)[doc]
    first_max = np.minimum.reduceat(np.where(lp == top[doc], pos, ks.max()), starts)  # argmax, first on ties
    gold = np.array([d.gold for d in docs])
    orders = {name: n for n, name in enumerate(dict.fromkeys(d.order for d in docs))}

    def per_doc(values) -> np.ndarray:
        return np.asarray(values, dtype=object)[doc]

    def per_choice(get, fill=None) -> list:
        return [v for d in docs for v in (get(d) if get(d) is not None else [fill] * d.k)]

    frame = pd.DataFrame({
        C.ITEM_ID: per_doc([d.item_id for d in docs]),
        C.ORDER_ID: np.array([orders[d.order] for d in docs])[doc],
        C.ORDER: per_doc([d.order if d.order is not None else ",".join(map(str, range(d.k))) for d in docs]),
        C.FORMAT: per_doc([d.fmt for d in docs]),
        C.SHOTS: np.array([d.shots for d in docs])[doc],
        C.SEED: np.array([d.seed for d in docs])[doc],
        C.K: ks[doc],
        C.POSITION: pos,
        C.LABEL: per_choice(lambda d: d.labels),
        C.CHOICE_INDEX: np.array(per_choice(lambda d: d.positions or range(d.k)), dtype=int),
        C.CHOICE: per_choice(lambda d: d.choices),
        C.TARGET: per_choice(lambda d: d.targets),
        C.LOGPROB: lp,
        C.PROB: np.exp(lp),
        C.PROB_NORM: norm,
        C.N_TOKENS: pd.array([pd.NA] * len(lp), dtype="Int64"),
        C.IS_GOLD: pos == gold[doc],
        C.IS_PRED: pos == first_max[doc],
        C.INTERVENTION: "",
        C.PROMPT: per_doc([d.prompt for d in docs]),
        C.QUESTION: per_doc([d.question for d in docs]),
        C.N_CHARS: pd.array(per_choice(lambda d: d.n_chars), dtype="Int64"),
        C.IS_GREEDY: pd.array(per_choice(lambda d: d.is_greedy), dtype="boolean"),
        C.LOGPROB_UNCONDITIONAL: np.array(per_choice(lambda d: d.unconditional, np.nan), dtype=float),
    })
    frame[C.IS_GOLD] = frame[C.IS_GOLD].astype("boolean")
    keys = list(dict.fromkeys([*META, *(k for d in docs for k in d.metadata)]))
    for key in keys:
        frame[key] = per_doc([d.metadata.get(key, "") for d in docs])
    return frame
