"""Reduced precision made visible: once, the largest probability difference from float32.

A model loaded in bfloat16 or float16 on the CPU is opt-in and never silent: the first prompts it
scores are also run through the same checkpoint in float32 (reloaded for the check, then freed),
and the largest difference of any next-token probability, at any position of those prompts, is
reported as a :class:`ReducedPrecisionWarning` and kept on ``model.precision.report``.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel

from explorer.models.names import DTYPES

REDUCED_DTYPES = (torch.bfloat16, torch.float16)
DTYPE_NAMES = {name: getattr(torch, torch_name) for name, torch_name in DTYPES.items()}


def resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype:
    """A torch dtype from a dtype or a name (``bfloat16``, ``bf16``, ``float16``, ``fp16``, ``float32``);
    None is float32 (exact numbers on the CPU).

    >>> resolve_dtype("bf16"), resolve_dtype(None)
    (torch.bfloat16, torch.float32)
    """
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = str(dtype).removeprefix("torch.")
    if name not in DTYPE_NAMES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {sorted(DTYPE_NAMES)}")
    return DTYPE_NAMES[name]


class ReducedPrecisionWarning(UserWarning):
    """How far a reduced-precision model's probabilities are from float32 (issued once per model)."""


@dataclass(frozen=True)
class PrecisionReport:
    """The largest |p(token) - p_float32(token)| over every position and vocabulary entry of the
    checked prompts, and where it occurred."""

    dtype: str
    n_prompts: int
    n_positions: int
    max_prob_diff: float
    prompt: int  # index among the checked prompts
    position: int  # token position in that prompt
    token_id: int

    def __str__(self) -> str:
        return (f"model in {self.dtype}: the largest next-token probability difference from float32 over "
                f"{self.n_positions} positions of the first {self.n_prompts} prompts scored is "
                f"{self.max_prob_diff:.2e} (prompt {self.prompt}, position {self.position}, token {self.token_id}). "
                "Load with dtype=float32 for exact numbers.")


@torch.inference_mode()
def compare_to_reference(model: PreTrainedModel, reference: PreTrainedModel,
                         sequences: Sequence[Sequence[int]], *, input_device: torch.device) -> PrecisionReport:
    """Run each sequence alone through both models and compare their softmax outputs."""
    best = (-1.0, 0, 0, 0)
    positions = 0
    ref_device = next(reference.parameters()).device
    for n, seq in enumerate(sequences):
        ids = torch.tensor([list(seq)])
        p = torch.softmax(model(input_ids=ids.to(input_device)).logits[0].float(), -1).cpu()
        q = torch.softmax(reference(input_ids=ids.to(ref_device)).logits[0].float(), -1).cpu()
        diff = (p - q).abs()  # [positions, vocab]
        flat = int(diff.argmax())
        value = float(diff.reshape(-1)[flat])
        positions += diff.shape[0]
        if value > best[0]:
            best = (value, n, flat // diff.shape[1], flat % diff.shape[1])
    return PrecisionReport(str(next(model.parameters()).dtype).removeprefix("torch."), len(sequences), positions,
                           *best)


class PrecisionCheck:
    """Compares against float32 once, on the first ``n_prompts`` prompts the model scores.

    ``reference`` loads the same checkpoint in float32 on the CPU; it is called once and dropped
    after the comparison, so the float32 copy only lives for the check.
    """

    def __init__(self, reference: Callable[[], PreTrainedModel], *, n_prompts: int = 4) -> None:
        self._reference = reference
        self.n_prompts = n_prompts
        self.report: PrecisionReport | None = None
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self.report is not None

    def __call__(self, model: PreTrainedModel, sequences: Sequence[Sequence[int]], *,
                 input_device: torch.device) -> PrecisionReport | None:
        """Check on ``sequences`` unless already done; warn with the result."""
        if self.report is not None or not sequences:
            return None
        with self._lock:
            if self.report is not None:
                return None
            reference = self._reference()
            try:
                self.report = compare_to_reference(model, reference, list(sequences)[: self.n_prompts],
                                                   input_device=input_device)
            finally:
                del reference
        warnings.warn(str(self.report), ReducedPrecisionWarning, stacklevel=4)
        return self.report
