"""scale_heads: leaves the model bit-identical, cleans up on error, and scales exactly one slice."""

from __future__ import annotations

import pytest
import torch

from explorer.interventions import scale_heads, scale_heads_per_row
from explorer.interventions.heads import InterventionError

TEXT = ["What is the capital of France ? Answer :", "The capital of Italy is Rome . Q"]


def _inputs(model):
    enc = model.tokenizer(TEXT, return_tensors="pt", padding=True)
    return enc["input_ids"], enc["attention_mask"]


@torch.no_grad()
def _logits(model):
    ids, mask = _inputs(model)
    return model.model(input_ids=ids, attention_mask=mask).logits


def _hook_count(model):
    p = model.parts
    return sum(len(p.out_proj(l)._forward_pre_hooks) + len(p.out_proj(l)._forward_hooks) for l in range(p.n_layers))


def test_bit_identical_after_exit_and_after_error(tiny_any):
    before = _logits(tiny_any)
    with scale_heads(tiny_any, {(0, 1): 0.0, (1, 3): 5.0}):
        assert _hook_count(tiny_any) == 2
        inside = _logits(tiny_any)
        assert "scale L0H1x0.0,L1H3x5.0" in tiny_any.state_key()
    assert not torch.equal(inside, before)
    assert torch.equal(_logits(tiny_any), before)
    assert _hook_count(tiny_any) == 0 and tiny_any.interventions == ()

    with pytest.raises(RuntimeError, match="boom"):
        with scale_heads(tiny_any, {(1, 0): -3.0}):
            raise RuntimeError("boom")
    assert _hook_count(tiny_any) == 0 and tiny_any.interventions == ()
    assert torch.equal(_logits(tiny_any), before)


def test_factor_one_changes_nothing(tiny_any):
    before = _logits(tiny_any)
    with scale_heads(tiny_any, {(l, h): 1.0 for l in range(2) for h in range(4)}):
        assert torch.equal(_logits(tiny_any), before)


def test_zero_equals_manually_zeroed_slice(tiny):
    """Scaling (1, 2) by 0 gives the same logits as a hand-written hook that zeroes that slice."""
    d = tiny.parts.head_dim
    with scale_heads(tiny, {(1, 2): 0.0}):
        scaled = _logits(tiny)

    def zero_slice(module, args):
        x = args[0].clone()
        x[..., 2 * d : 3 * d] = 0.0
        return (x,)

    handle = tiny.parts.out_proj(1).register_forward_pre_hook(zero_slice)
    try:
        manual = _logits(tiny)
    finally:
        handle.remove()
    assert torch.equal(scaled, manual)
    assert not torch.equal(scaled, _logits(tiny))


def test_out_proj_output_matches_manual_linear(tiny):
    """The projection's output under scaling equals W_O applied to the input with one slice scaled."""
    seen = {}
    proj = tiny.parts.out_proj(0)
    handle = proj.register_forward_hook(lambda m, a, out: seen.update(x=a[0].clone(), y=out.clone()))
    try:
        with scale_heads(tiny, {(0, 3): 2.5}):
            _logits(tiny)
    finally:
        handle.remove()
    # the forward hook sees the already-scaled input; rebuild it from a clean capture instead
    handle = proj.register_forward_hook(lambda m, a, out: seen.update(clean=a[0].clone()))
    try:
        _logits(tiny)
    finally:
        handle.remove()
    d = tiny.parts.head_dim
    x = seen["clean"].clone()
    x[..., 3 * d :] *= 2.5
    w = tiny.parts.out_proj_weight_by_head(0).reshape(-1, tiny.parts.d_model)  # [n_heads*d, d_model]
    assert torch.allclose(seen["x"], x, atol=1e-6)
    assert torch.allclose(seen["y"], x @ w, atol=1e-5)


def test_per_row_factors_match_separate_runs(tiny_any):
    ids, mask = _inputs(tiny_any)
    factors = torch.tensor([0.0, 3.0])
    with torch.no_grad(), scale_heads_per_row(tiny_any, [(1, 1)], factors, description="sweep test"):
        both = tiny_any.model(input_ids=ids, attention_mask=mask).logits
    for row, f in enumerate(factors.tolist()):
        with scale_heads(tiny_any, {(1, 1): f}):
            alone = _logits(tiny_any)
        torch.testing.assert_close(both[row], alone[row], atol=1e-5, rtol=1e-5)
    assert _hook_count(tiny_any) == 0 and tiny_any.interventions == ()


@pytest.mark.parametrize("factors, match", [({(2, 0): 0.0}, "layer 2 out of range"),
                                            ({(0, 4): 0.0}, "head 4 out of range"),
                                            ({(0, -1): 0.0}, "head -1 out of range"),
                                            ({(0, 0): float("nan")}, "not finite"),
                                            ({(0, 0): "x"}, "not a number"),
                                            ({"L0": 1.0}, "not a \\(layer, head\\) pair")])
def test_clear_errors(tiny, factors, match):
    with pytest.raises(InterventionError, match=match):
        with scale_heads(tiny, factors):
            pass
    assert _hook_count(tiny) == 0 and tiny.interventions == ()



def test_other_threads_are_not_scaled(tiny):
    import threading

    before = _logits(tiny)
    seen = {}
    with scale_heads(tiny, {(1, 0): 0.0}):
        inside = _logits(tiny)
        worker = threading.Thread(target=lambda: seen.update(other=_logits(tiny)))
        worker.start()
        worker.join()
    assert not torch.equal(inside, before)
    assert torch.equal(seen["other"], before)


def test_per_row_factors_need_matching_batches(tiny):
    ids, mask = _inputs(tiny)
    with pytest.raises(InterventionError, match="3 rows, but the batch has 2"):
        with torch.no_grad(), scale_heads_per_row(tiny, [(0, 0)], torch.ones(3), description="x"):
            tiny.model(input_ids=ids, attention_mask=mask)
    assert _hook_count(tiny) == 0 and tiny.interventions == ()
