"""Watch a loaded model for changes its load-time fingerprint cannot see: edited weights, foreign hooks.

Interpretability work edits weights in place and adds hooks. A cache keyed only by the checkpoint
would then serve the clean model's numbers. Checks here are cheap enough to run before every
scoring call (milliseconds for a 135M model):

- every parameter's version counter and storage address (an in-place op through the parameter,
  ``load_state_dict``, ``.to()``), and a strided sample of its values (edits through ``.data``,
  which version counters do not see; the stride is prime, so a sample crosses rows and columns);
  weights offloaded by a ``device_map`` live in accelerate's store, not in the model, and are not
  watched;
- the tokenizer's size and chat template (tokens added after loading).
"""

from __future__ import annotations

import hashlib
import uuid

import torch
from torch import nn

SAMPLES_PER_TENSOR = 1024
SESSION = uuid.uuid4().hex[:12]  # edited states are never shared with another process's cache entries


def tokenizer_fingerprint(tokenizer) -> str:
    """A digest of the tokenizer's vocabulary, merges, normalisation and special tokens."""
    h = hashlib.sha256(type(tokenizer).__name__.encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        h.update(backend.to_str().encode())
    else:
        h.update(repr(sorted(tokenizer.get_vocab().items())).encode())
    h.update(repr(sorted((k, str(v)) for k, v in tokenizer.special_tokens_map.items())).encode())
    h.update(str(getattr(tokenizer, "chat_template", None)).encode())
    return h.hexdigest()


def _prime_at_least(n: int) -> int:
    n = max(2, n)
    while any(n % d == 0 for d in range(2, int(n**0.5) + 1)):
        n += 1
    return n


class WeightsWatch:
    """The parameters' state at one moment; :meth:`edit` says whether and how they changed since."""

    def __init__(self, model: nn.Module, tokenizer) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.params = list(model.parameters())
        self.strides = [_prime_at_least(p.numel() // SAMPLES_PER_TENSOR) if p.numel() > SAMPLES_PER_TENSOR else 1
                        for p in self.params]
        self.baseline = self._state()

    @torch.no_grad()
    def _sample_digest(self) -> str:
        h = hashlib.sha256()
        for p, stride in zip(self.params, self.strides):
            if p.device.type == "meta":  # offloaded to disk: nothing in memory to read
                continue
            h.update(p.detach().reshape(-1)[::stride].float().cpu().numpy().tobytes())
        return h.hexdigest()

    def _state(self) -> tuple:
        # Offloaded weights (a device_map's "cpu"/"disk" entries) sit on "meta" between passes, and
        # accelerate swaps their parameter objects on every pass: they are not ours to watch.
        tensors = tuple((id(p), p.data_ptr(), p._version) for p in self.model.parameters() if p.device.type != "meta")
        tok = (len(self.tokenizer), str(getattr(self.tokenizer, "chat_template", None)))
        return tensors, tok, self._sample_digest()

    def edit(self) -> str:
        """"" while the weights are as loaded; else a key for their current state, unique to this
        process (an edited model's results never reach another session)."""
        state = self._state()
        if state == self.baseline:
            return ""
        return SESSION + ":" + hashlib.sha256(repr(state).encode()).hexdigest()[:16]


# Hooks that only read activations and never change outputs: transformers installs its output
# recorders (for ``output_hidden_states`` and friends) on first use and leaves them in place.
READ_ONLY_HOOK_MODULES = ("transformers.utils.output_capturing",)


def _foreign(hooks: dict, own: set[int]) -> bool:
    return any(hid not in own and not getattr(fn, "__module__", "").startswith(READ_ONLY_HOOK_MODULES)
               for hid, fn in hooks.items())


def foreign_hooks(model: nn.Module, own: set[int]) -> list[str]:
    """Names of modules with forward (pre-)hooks that are neither in ``own`` nor known to be
    read-only; ``"<global>"`` when a module-wide forward hook is registered."""
    from torch.nn.modules import module as torch_module  # noqa: PLC0415

    found = []
    if torch_module._global_forward_hooks or torch_module._global_forward_pre_hooks:
        found.append("<global>")
    for name, mod in model.named_modules():
        if _foreign(mod._forward_hooks, own) or _foreign(mod._forward_pre_hooks, own):
            found.append(name or "<model>")
    return found
