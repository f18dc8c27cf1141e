"""Linear layers through oneDNN on CPUs with AVX-512: about 2.4x faster forward passes.

PyTorch computes a float32 ``F.linear`` on the CPU with MKL's sgemm, and MKL keeps to its AVX2
kernels on CPUs not made by Intel: on the project's 2-core AMD EPYC (Zen 5) it reaches about
210 GFLOP/s where oneDNN, which ships inside PyTorch and picks its kernels by instruction set,
reaches about 500 on the same shapes (benchmarks/RESULTS.md, issue 16). The linear layers are
three quarters of the engine's time, all of it compute.

:func:`fast_linears` routes float32 ``F.linear`` calls on the CPU through oneDNN inside a
``with`` block, around the forward passes of the engine and of the heads, sweep and layer
probes. It is a thread-local function mode: it patches no module and no weight, holds no copy of
them, and ends with the block, so the model computes exactly as before outside it. The
results are still float32 GEMMs, in another summation order: they differ from MKL's in the last
bits (about 1e-6 relative), as any two BLAS libraries do. ``LM_EXPLORER_ONEDNN=0`` turns it off,
``=1`` turns it on where the CPU has no AVX-512.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

ENV = "LM_EXPLORER_ONEDNN"


@functools.cache
def onednn_available() -> bool:
    """Whether this PyTorch build has oneDNN's fused linear operator."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def use_onednn() -> bool:
    """Whether the engine routes CPU linear layers through oneDNN: on by default where the CPU has
    AVX-512 (oneDNN uses it on every vendor's CPU), set by ``LM_EXPLORER_ONEDNN`` otherwise."""
    if not onednn_available():
        return False
    setting = os.environ.get(ENV, "").strip().lower()
    if setting in {"0", "false", "no", "off"}:
        return False
    if setting in {"1", "true", "yes", "on"}:
        return True
    return torch.backends.cpu.get_cpu_capability().startswith("AVX512")


class _OneDNNLinear(TorchFunctionMode):
    """``F.linear`` on plain float32 CPU tensors, without autograd, computed by oneDNN; every other
    call passes through unchanged."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.linear and not torch.is_grad_enabled():
            x, weight = args[0], args[1] if len(args) > 1 else kwargs["weight"]
            bias = args[2] if len(args) > 2 else kwargs.get("bias")
            if _plain_cpu_float(x) and _plain_cpu_float(weight) and (bias is None or _plain_cpu_float(bias)):
                return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
        return func(*args, **kwargs)


def _plain_cpu_float(t: torch.Tensor) -> bool:
    return (type(t) in (torch.Tensor, torch.nn.Parameter) and t.device.type == "cpu"
            and t.dtype == torch.float32 and t.layout == torch.strided)


@contextlib.contextmanager
def fast_linears(enabled: bool | None = None) -> Iterator[bool]:
    """Inside the block, CPU float32 linear layers run on oneDNN (in this thread only); yields
    whether they do. ``enabled=None`` decides by :func:`use_onednn`."""
    on = use_onednn() if enabled is None else enabled and onednn_available()
    if not on:
        yield False
        return
    with _OneDNNLinear():
        yield True
