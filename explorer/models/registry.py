"""The models a session has loaded, by checkpoint: one copy each, loaded on first use, unloaded on request.

Every alias of a checkpoint names one key (:func:`~explorer.models.names.canonical`): ``smollm2``,
``smollm2-135m`` and ``SmolLM2-135M-Instruct`` are one model, loaded once. One load runs at a time: asking for
a model while another loads waits for that load instead of starting a second beside it (two loads of a
large checkpoint would hold both in memory), and asking for the model being loaded waits for the same
load. A load asked to stop (``cancel``) stops between its steps and keeps nothing. With ``capacity``, the
least recently used models are dropped before a new one loads, so memory holds at most that many.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from explorer.errors import Cancelled
from explorer.models.names import canonical

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

Loader = Callable[..., "LoadedModel"]


def _load_model(name: str, *, cancel: Callable[[], bool] | None = None) -> LoadedModel:
    from explorer.models.load import load_model  # noqa: PLC0415 - torch and transformers load with the first model

    return load_model(name, cancel=cancel)


class ModelRegistry:
    """Loaded models by canonical key. ``load(name)`` returns the loaded copy or loads it; ``get`` never
    loads; ``unload`` forgets one (its memory goes once nothing else holds it)."""

    def __init__(self, loader: Loader | None = None, *, capacity: int | None = None) -> None:
        self._loader, self.capacity = loader or _load_model, capacity
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()  # guards the dict
        self._one_load = threading.Lock()  # held while a load runs
        self.loading: str | None = None  # the key being loaded, if any
        self.loads = 0  # loads started (for tests and the page's status line)

    @staticmethod
    def key(name: str | None) -> str:
        return canonical(name)

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def get(self, name: str | None) -> LoadedModel | None:
        """The loaded copy of ``name``'s checkpoint, or None."""
        with self._lock:
            return self._models.get(self.key(name))

    def load(self, name: str | None, *, cancel: Callable[[], bool] | None = None) -> LoadedModel:
        """The model ``name`` names, loaded now unless a copy is already here (or being loaded)."""
        key = self.key(name)
        while True:
            with self._lock:
                if key in self._models:
                    self._models.move_to_end(key)
                    return self._models[key]
            if self._one_load.acquire(timeout=0.1):  # another load runs: wait for it, asking cancel meanwhile
                break
            if cancel is not None and cancel():
                raise Cancelled(f"cancelled while waiting to load {key}")
        try:
            with self._lock:
                if key in self._models:  # loaded by the load we waited for
                    self._models.move_to_end(key)
                    return self._models[key]
                self._make_room()
            self.loading, self.loads = key, self.loads + 1
            model = self._loader(key, cancel=cancel)
            if cancel is not None and cancel():
                raise Cancelled(f"cancelled: {key} was loaded but is not kept")
            with self._lock:
                self._models[key] = model
            return model
        finally:
            self.loading = None
            self._one_load.release()

    def add(self, name: str | None, model: LoadedModel) -> str:
        """Keep ``model``, loaded elsewhere, as ``name``'s checkpoint (making room as a load would); its key."""
        key = self.key(name)
        with self._lock:
            if key not in self._models:
                self._make_room()
            self._models[key] = model
            self._models.move_to_end(key)
        return key

    def unload(self, name: str | None) -> bool:
        """Forget ``name``'s checkpoint; whether it was loaded."""
        with self._lock:
            return self._models.pop(self.key(name), None) is not None

    def _make_room(self) -> None:
        if self.capacity is not None:
            while len(self._models) >= self.capacity:
                self._models.popitem(last=False)
