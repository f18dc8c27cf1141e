"""oneDNN linear layers in the engine: what runs inside the block, that nothing changes outside it
(other threads included), the switch, and the engine's numbers with it on and off."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.prompts import label_token_ids
from explorer.scoring import score_next_token
from explorer.scoring.kernels import ENV, fast_linears, onednn_available, use_onednn
from tests.unit.test_engine import PROMPTS, plain_next

needs_onednn = pytest.mark.skipif(not onednn_available(), reason="this PyTorch build has no oneDNN")


def _operands(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(3, 37, 576, generator=g), torch.randn(1536, 576, generator=g), torch.randn(1536, generator=g)


@needs_onednn
def test_inside_the_block_linear_is_onednn_and_outside_it_is_as_before():
    x, w, b = _operands()
    before = F.linear(x, w, b)
    onednn = torch.ops.mkldnn._linear_pointwise(x, w, b, "none", [], "")
    with torch.inference_mode(), fast_linears(enabled=True) as on:
        inside = F.linear(x, w, b)
        module = torch.nn.Linear(576, 1536)
        with torch.no_grad():
            module.weight.copy_(w)
            module.bias.copy_(b)
        through_module = module(x)
    assert on
    assert torch.equal(inside, onednn) and torch.equal(through_module, onednn)
    torch.testing.assert_close(inside, before, rtol=1e-5, atol=1e-4)  # both float32 GEMMs
    assert torch.equal(F.linear(x, w, b), before)  # bit-identical once the block has ended


@needs_onednn
@pytest.mark.parametrize("shape", ["1d", "empty", "4d", "transposed", "expanded", "transposed weight"])
def test_any_input_layout_gives_linear(shape):
    g = torch.Generator().manual_seed(3)
    w, b = torch.randn(8, 6, generator=g), torch.randn(8, generator=g)
    x = {"1d": torch.randn(6, generator=g), "empty": torch.randn(0, 6, generator=g),
         "4d": torch.randn(2, 3, 4, 6, generator=g),
         "transposed": torch.randn(6, 5, 3, generator=g).transpose(0, 2),
         "expanded": torch.randn(1, 6, generator=g).expand(4, 6),
         "transposed weight": torch.randn(3, 6, generator=g)}[shape]
    if shape == "transposed weight":
        w = w.t().contiguous().t()
    with torch.inference_mode(), fast_linears(enabled=True):
        got = F.linear(x, w, b)
    torch.testing.assert_close(got, F.linear(x, w, b), rtol=1e-5, atol=1e-5)


@needs_onednn
def test_what_onednn_does_not_take_passes_through_unchanged():
    x, w, b = _operands(1)
    with fast_linears(enabled=True):
        with torch.inference_mode():
            half = F.linear(x.bfloat16(), w.bfloat16(), b.bfloat16())
        w_grad = w.clone().requires_grad_()
        with_grad = F.linear(x, w_grad, b)  # autograd needs aten's linear
    assert torch.equal(half, F.linear(x.bfloat16(), w.bfloat16(), b.bfloat16()))
    assert with_grad.requires_grad and torch.equal(with_grad.detach(), F.linear(x, w, b))


@needs_onednn
def test_the_mode_is_local_to_its_thread():
    x, w, b = _operands(2)
    outside = F.linear(x, w, b)
    seen: list[torch.Tensor] = []
    entered, leave = threading.Event(), threading.Event()

    def engine_thread() -> None:
        with torch.inference_mode(), fast_linears(enabled=True):
            entered.set()
            leave.wait(10)

    t = threading.Thread(target=engine_thread)
    t.start()
    entered.wait(10)
    with torch.inference_mode():
        seen.append(F.linear(x, w, b))  # while the other thread is inside its block
    leave.set()
    t.join()
    assert torch.equal(seen[0], outside)


def test_switch(monkeypatch):
    monkeypatch.setenv(ENV, "0")
    assert not use_onednn()
    with fast_linears() as on:
        assert not on
    monkeypatch.setenv(ENV, "1")
    assert use_onednn() == onednn_available()
    monkeypatch.delenv(ENV)
    assert use_onednn() == (onednn_available() and torch.backends.cpu.get_cpu_capability().startswith("AVX512"))


@needs_onednn
@pytest.mark.parametrize("setting", ["0", "1"])
def test_engine_equals_plain_forward_with_and_without_onednn(tiny_any, monkeypatch, setting):
    monkeypatch.setenv(ENV, setting)
    ids = label_token_ids(tiny_any.tokenizer, [" A", " B", " C", " D"])
    got = score_next_token(tiny_any, PROMPTS, ids, cache=None)
    np.testing.assert_allclose(got.logprobs, plain_next(tiny_any, PROMPTS, ids), atol=1e-5)


@needs_onednn
def test_engine_leaves_the_model_bit_identical(tiny, monkeypatch):
    monkeypatch.setenv(ENV, "1")
    x = torch.tensor([tiny.tokenizer(PROMPTS[0]).input_ids])
    with torch.no_grad():
        before = tiny.model(x).logits
    score_next_token(tiny, PROMPTS, [5], cache=None)
    with torch.no_grad():
        assert torch.equal(tiny.model(x).logits, before)
