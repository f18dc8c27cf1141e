"""Probes over several models: one frame with a ``model`` column, each model's rows those of a single run.

Model comparisons (Zheng et al.'s position bias across 20 models, attentiveness before and after
instruction tuning, calibration before and after tuning) score the *same* items with each model;
:func:`across_models` makes a probe take a list of models for that, so the rows stay paired by item
and :mod:`explorer.metrics.compare` can take paired differences. Models run one after the other
(each through the engine's batching and cache); nothing is computed differently from a single run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import pandas as pd

from explorer import columns as C
from explorer.errors import ExplorerError
from explorer.models.handle import LoadedModel

Probe = TypeVar("Probe", bound=Callable[..., pd.DataFrame])


def model_names(models: Sequence[LoadedModel]) -> list[str]:
    """The models' names, which key their rows; a clear error when two share one (or none is given)."""
    names = [m.name for m in models]
    if not names:
        raise ExplorerError("no models: give at least one loaded model")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ExplorerError(f"the model {repeated[0]!r} is given {names.count(repeated[0])} times: rows are keyed "
                            "by the model's name. Fix: give each model once (aliases of one checkpoint load one model)")
    return names


def with_model(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``frame`` with the ``model`` column first (kept as it is when the probe already names its model)."""
    if C.MODEL in frame:
        return frame
    return frame.assign(**{C.MODEL: name})[[C.MODEL, *frame.columns]]


def across_models(probe: Probe) -> Probe:
    """``probe`` accepting, as its first argument, one model (unchanged) or a list of models: then it runs
    once per model with the same arguments and returns the frames stacked, with a ``model`` column first."""

    @functools.wraps(probe)
    def run(model, *args, **kwargs):
        if isinstance(model, LoadedModel):
            return probe(model, *args, **kwargs)
        models = list(model)
        return stacked({name: probe(m, *args, **kwargs) for m, name in zip(models, model_names(models))})

    return run  # type: ignore[return-value]


def stacked(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each model's frame (keyed by its name) in one frame, a ``model`` column first: :func:`by_model` inverted."""
    return pd.concat([with_model(f, name) for name, f in frames.items()], ignore_index=True)


def by_model(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each model's rows of a several-model frame, without the ``model`` column (as a single run gives
    them), in the order the models were given; a clear error for a frame without the column."""
    if C.MODEL not in frame:
        raise ExplorerError("the frame has no 'model' column: give the frame of a probe run on a list of models")
    return {str(name): rows.drop(columns=C.MODEL).reset_index(drop=True)
            for name, rows in frame.groupby(C.MODEL, sort=False)}
