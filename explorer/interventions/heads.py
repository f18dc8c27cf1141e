"""Scale chosen query heads' outputs at run time, before the attention output projection.

The input of each layer's output projection is the concatenation of the query heads' outputs,
[..., n_heads * head_dim]; head ``h`` owns the slice ``[h * head_dim, (h + 1) * head_dim)``.
Scaling that slice scales exactly one *query* head's contribution, also under grouped-query
attention, where several query heads share one key/value head. Hooks are registered inside the
context manager and removed in ``finally``, so the model is left exactly as it was.

The scaling applies to forward passes run by the thread that entered the block only
(:func:`explorer.interventions.hooks.add_hook`), so a widget scaling heads in its worker thread
never changes what another view computes at the same time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager

import torch

from explorer.errors import ExplorerError
from explorer.interventions.describe import Head, describe_heads  # noqa: F401 - re-exported
from explorer.interventions.hooks import add_hook
from explorer.models.handle import LoadedModel


class InterventionError(ExplorerError, ValueError):
    """An intervention names a layer or head the model does not have, or a bad factor."""


def validate_heads(model: LoadedModel, heads: Mapping[Head, object] | list[Head]) -> list[Head]:
    """The heads as ``(int, int)`` tuples, checked against the model's layer and head counts."""
    p = model.parts
    out = []
    for key in heads:
        try:
            layer, head = (int(k) for k in key)
        except (TypeError, ValueError):
            raise InterventionError(f"head {key!r} is not a (layer, head) pair. Fix: write e.g. (12, 3).") from None
        if not 0 <= layer < p.n_layers:
            raise InterventionError(f"head {key!r}: layer {layer} out of range; {model.name} has layers "
                                    f"0..{p.n_layers - 1}. Fix: choose a layer in that range.")
        if not 0 <= head < p.n_heads:
            raise InterventionError(f"head {key!r}: head {head} out of range; {model.name} has query heads "
                                    f"0..{p.n_heads - 1} per layer. Fix: choose a head in that range.")
        out.append((layer, head))
    return out


def _check_factor(key: Head, factor: float) -> float:
    try:
        value = float(factor)
    except (TypeError, ValueError):
        raise InterventionError(f"head {key!r}: factor {factor!r} is not a number. Fix: pass a float.") from None
    if not math.isfinite(value):
        raise InterventionError(f"head {key!r}: factor {factor!r} is not finite. Fix: pass a finite float.")
    return value


def _register(model: LoadedModel, per_layer: dict[int, list[tuple[int, torch.Tensor | float]]],
              stack: ExitStack) -> None:
    """One pre-hook per layer; each multiplies its heads' slices by a float or a per-row tensor [batch]."""
    d = model.parts.head_dim
    for layer, scalings in per_layer.items():
        def hook(module, args, scalings=scalings):  # args[0]: [batch, seq, n_heads * head_dim]
            x = args[0].clone()
            for head, factor in scalings:
                if isinstance(factor, torch.Tensor):  # [batch] -> [batch, 1, 1]
                    if factor.numel() != x.shape[0]:
                        raise InterventionError(f"per-row factors for {factor.numel()} rows, but the batch has "
                                                f"{x.shape[0]}. Fix: run batches of exactly that many rows.")
                    factor = factor.to(device=x.device, dtype=x.dtype).view(-1, *([1] * (x.dim() - 1)))
                x[..., head * d : (head + 1) * d] = x[..., head * d : (head + 1) * d] * factor
            return (x, *args[1:])

        add_hook(stack, model, model.parts.out_proj(layer), hook, pre=True)


@contextmanager
def scale_heads(model: LoadedModel, factors: Mapping[Head, float]) -> Iterator[None]:
    """Within the block, multiply each query head ``(layer, head)``'s output by ``factors[...]``.

    Also marks the intervention on ``model`` (``model.state_key()``), so results cached inside
    the block are never served to clean runs. Everything is undone on exit, even on error. Only
    forward passes run by the thread that entered the block are scaled.

    >>> with scale_heads(model, {(12, 3): 0.0}):  # doctest: +SKIP
    ...     scores = score_next_token(model, prompts, ids)
    """
    checked = {key: _check_factor(key, f) for key, f in zip(validate_heads(model, factors), factors.values())}
    if not checked:
        yield
        return
    per_layer: dict[int, list[tuple[int, torch.Tensor | float]]] = {}
    for (layer, head), f in checked.items():
        per_layer.setdefault(layer, []).append((head, f))
    with ExitStack() as stack:
        stack.enter_context(model.intervention(describe_heads(checked)))
        _register(model, per_layer, stack)
        yield


@contextmanager
def scale_heads_per_row(model: LoadedModel, heads: list[Head], row_factors: torch.Tensor,
                        *, description: str) -> Iterator[None]:
    """Like :func:`scale_heads`, but row ``i`` of every batch is scaled by ``row_factors[i]``.

    For sweeps: one batch holds the prompts replicated once per factor. Every forward pass inside
    the block must have exactly ``len(row_factors)`` rows.
    """
    checked = validate_heads(model, heads)
    factors = torch.as_tensor(row_factors, dtype=torch.float32).reshape(-1)
    if not torch.isfinite(factors).all():
        raise InterventionError(f"row factors {factors.tolist()} include a non-finite value. Fix: pass finite floats.")
    per_layer: dict[int, list[tuple[int, torch.Tensor | float]]] = {}
    for layer, head in checked:
        per_layer.setdefault(layer, []).append((head, factors))
    with ExitStack() as stack:
        stack.enter_context(model.intervention(description))
        _register(model, per_layer, stack)
        yield
