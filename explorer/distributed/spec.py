"""How an actor loads the model: a small JSON record, since the driver never loads it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from explorer.models.handle import LoadedModel
from explorer.models.load import DEFAULT_MODEL, load_model
from explorer.models.precision import resolve_dtype


@dataclass(frozen=True)
class ModelSpec:
    """``load_model``'s arguments. ``name`` is an alias, a hub id or a path that exists on every node
    (a local path is made absolute on the driver, so actors on this machine find it)."""

    name: str = DEFAULT_MODEL
    dtype: str = "float32"
    device: str | None = None
    device_map: str | dict | None = None
    max_memory: dict | None = None
    trust_remote_code: bool = False

    @classmethod
    def of(cls, model: str | Path | None = None, **kwargs: Any) -> ModelSpec:
        name = DEFAULT_MODEL if model is None else str(model)
        if Path(name).expanduser().exists():
            name = str(Path(name).expanduser().resolve())
        dtype = str(resolve_dtype(kwargs.pop("dtype", None))).removeprefix("torch.")
        return cls(name=name, dtype=dtype, **kwargs)

    def load(self) -> LoadedModel:
        return load_model(self.name, dtype=self.dtype, device=self.device, device_map=self.device_map,
                          max_memory=self.max_memory, trust_remote_code=self.trust_remote_code)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
