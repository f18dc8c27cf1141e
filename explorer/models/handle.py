"""A loaded model with its tokenizer, its module map, a fingerprint, and active interventions."""

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
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)

    def __post_init__(self) -> None:
        self.model.eval()
        self.parts = ModelParts(self.model)

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
        """Fingerprint plus this thread's active interventions, in the order they were entered."""
        return self.fingerprint if not self._interventions else self.fingerprint + "|" + "|".join(self._interventions)

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
