"""A loaded model with its tokenizer, its module map, a fingerprint, and active interventions.

The result cache trusts :meth:`LoadedModel.state_key` to say what the model computes. It covers
the checkpoint and the tokenizer (the fingerprint), any parameter changed since loading
(:mod:`explorer.models.live`: version counters, storage and a strided sample of the values), and
the project's interventions active in the calling thread. Hooks the project did not register
have unknown effects: :meth:`LoadedModel.foreign_hooks` lists them and the engine then bypasses
the cache.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from explorer.models.architecture import ModelParts, materialized
from explorer.models.live import WeightsWatch, foreign_hooks, tokenizer_fingerprint
from explorer.models.precision import PrecisionCheck


@dataclass
class LoadedModel:
    """What every probe takes as its model argument.

    ``state_key()`` identifies the model *and* any intervention active on it, so cached results
    computed under an intervention are never confused with clean ones. ``precision`` is set for a
    reduced-precision model on the CPU: the engine calls :meth:`check_precision` on what it scores.
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    name: str
    source: str
    fingerprint: str
    precision: PrecisionCheck | None = None
    parts: ModelParts = field(init=False)
    own_hook_ids: set[int] = field(default_factory=set, init=False, repr=False)  # see interventions.hooks
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)
    _weights: WeightsWatch = field(init=False, repr=False)
    _notices: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self.model.eval()
        self.parts = ModelParts(self.model)
        self.fingerprint = hashlib.sha256(f"{self.fingerprint}|{tokenizer_fingerprint(self.tokenizer)}".encode()
                                          ).hexdigest()
        self._weights = WeightsWatch(self.model, self.tokenizer)

    def noticed(self, topic: str) -> bool:
        """True if ``topic`` was already noticed for this model; records it either way (one-time notices)."""
        seen = topic in self._notices
        self._notices.add(topic)
        return seen

    def weights_loaded(self) -> None:
        """Take the parameters as they are now as the loaded ones (after moving the model to its
        device at load time); later changes make :meth:`state_key` differ."""
        self._weights = WeightsWatch(self.model, self.tokenizer)

    def foreign_hooks(self) -> list[str]:
        """Modules carrying forward hooks that lm-explorer did not register (``"<global>"`` for
        module-wide hooks): their effect on outputs is unknown, so results are not cached."""
        return foreign_hooks(self.model, self.own_hook_ids)

    @property
    def _interventions(self) -> list[str]:
        """This thread's active interventions: hooks only act on the thread that entered them
        (so concurrent views stay independent), and so do cache keys."""
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack

    @property
    def device(self) -> torch.device:
        """Where inputs go: the input embedding's device (with a ``device_map``, its execution device)."""
        return self.parts.input_device()

    def check_precision(self, sequences: Sequence[Sequence[int]]) -> None:
        """Compare against float32 on these token sequences, once, when a precision check is pending
        and no intervention is active on this thread (the float32 reference runs clean)."""
        if self.precision is not None and not self.precision.done and not self._interventions:
            self.precision(self.model, sequences, input_device=self.device)

    def state_key(self) -> str:
        """Fingerprint, then ``edited:...`` when a parameter changed since loading, then this thread's
        active interventions in the order they were entered."""
        key = self.fingerprint
        edit = self._weights.edit()
        if edit:
            key += "|edited:" + edit
        return key if not self._interventions else key + "|" + "|".join(self._interventions)

    @property
    def interventions(self) -> tuple[str, ...]:
        return tuple(self._interventions)

    @contextmanager
    def intervention(self, description: str) -> Iterator[None]:
        """Mark an intervention active (for cache keys) for the duration of the block."""
        self._interventions.append(description)
        try:
            yield
        finally:
            self._interventions.remove(description)

    def info(self) -> dict[str, Any]:
        """Architecture and size, for ``lm-explorer info`` and the dashboard."""
        p = self.parts
        dispatched = getattr(self.model, "hf_device_map", None)
        return {
            "name": self.name, "source": self.source, "architecture": type(self.model).__name__,
            "model_type": p.model_type, "parameters": sum(t.numel() for t in self.model.parameters()),
            "layers": p.n_layers, "heads": p.n_heads, "kv_heads": p.n_kv_heads, "head_dim": p.head_dim,
            "d_model": p.d_model, "vocab": self.model.get_output_embeddings().weight.shape[0],
            "dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."), "device": str(self.device),
            "fingerprint": self.fingerprint[:16],
            **({"device_map": ", ".join(f"{k or 'all'}: {v}" for k, v in dispatched.items())} if dispatched else {}),
            **({"precision_check": str(self.precision.report)} if self.precision and self.precision.done else {}),
        }


_VOLATILE_CONFIG_KEYS = {"_name_or_path", "transformers_version", "_commit_hash", "architectures"}  # where, not what


def weights_fingerprint(model: PreTrainedModel) -> str:
    """A digest of the config and a sample of every weight tensor: differs between checkpoints."""
    config = {k: v for k, v in model.config.to_dict().items() if k not in _VOLATILE_CONFIG_KEYS}
    h = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.device.type == "meta":  # offloaded by a device_map: read from the offload store
                owner, _, attr = name.rpartition(".")
                tensor = materialized(model.get_submodule(owner), attr)
            flat = tensor.detach().reshape(-1)
            sample = flat[:: max(1, flat.numel() // 64)][:64].float().cpu().numpy()
            h.update(name.encode())
            h.update(str(tuple(tensor.shape)).encode())
            h.update(sample.tobytes())
    return h.hexdigest()
