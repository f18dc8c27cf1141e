"""Engine work on a model, wherever the model is.

A dashboard's views run a handful of engine functions on their model (:data:`CALLS`). :func:`run` runs one
here, one run at a time per model and under the view's head scaling, or, for a model that lives in the
model host (:class:`~explorer.serve.remote.RemoteModel`, a served dashboard), asks the host to run it there:
the same function, the same arguments, the same frame back. The page's kernel then holds neither torch nor
the weights, and every page of a server shares one copy of each checkpoint.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from explorer.errors import Refused

# the engine functions a view runs on its model, by their names in ``explorer.probes``. The model host runs
# these and nothing else, whatever a connection asks for.
CALLS = ("score_choices", "attentiveness", "layer_pma", "permutation_probe", "item_contrasts", "known_facts",
         "head_attribution", "sweep_heads", "chain_probe")

_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def engine_function(name: str) -> Callable[..., Any]:
    """The engine function ``name`` of :data:`CALLS` (else :class:`Refused`)."""
    if name not in CALLS:
        raise Refused(f"{name!r} is not engine work a view runs; the model host runs {', '.join(CALLS)}")
    return getattr(importlib.import_module("explorer.probes"), name)  # imported on first use (lazy exports)


def model_lock(model: Any) -> threading.Lock:
    """The lock every run on ``model`` takes: registering intervention hooks while another thread runs the same
    modules is not safe, so one run at a time per model."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(id(model), threading.Lock())


@contextmanager
def scaled(model: Any, heads: Mapping[tuple[int, int], float] | None) -> Iterator[None]:
    """Run the block with ``heads`` scaled ({(layer, head): factor}), or as is when there are none."""
    if not heads:
        yield
        return
    from explorer.interventions import scale_heads  # noqa: PLC0415 - torch: only where the model is

    with scale_heads(model, dict(heads)):
        yield


def run(model: Any, name: str, *args: Any, heads: Mapping[tuple[int, int], float] | None = None,
        **kwargs: Any) -> Any:
    """``name(model, *args, **kwargs)`` (a function of :data:`CALLS`) with ``heads`` scaled, one run at a time
    on ``model``; on the model host when ``model`` lives there (``progress=`` and ``cancel=`` callables work
    either way: progress is reported as the host runs, and cancelling stops the host's run at its next batch)."""
    remote = getattr(model, "remote_call", None)
    if remote is not None:
        return remote(name, args, kwargs, dict(heads or {}))
    function = engine_function(name)
    with model_lock(model), scaled(model, heads):
        return function(model, *args, **kwargs)
