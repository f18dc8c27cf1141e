"""Each architecture adapter, proven on a tiny random model: modules found, per-head output
projection and frozen final norm reproduce the model's own computation."""

from __future__ import annotations

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM

from explorer.errors import UnsupportedArchitectureError
from explorer.models import ModelParts
from tests.tiny import tiny_model, tiny_tokenizer

IDS = torch.tensor([tiny_tokenizer()("Question: What is the capital of France?\nAnswer:").input_ids])


def _capture(module, ids, model):
    seen = {}

    def hook(mod, args, out):
        seen["in"], seen["out"] = args[0].detach(), (out[0] if isinstance(out, tuple) else out).detach()

    handle = module.register_forward_hook(hook)
    try:
        with torch.no_grad():
            logits = model(ids).logits
    finally:
        handle.remove()
    return seen["in"], seen["out"], logits


def test_modules_and_sizes(tiny_any):
    parts = tiny_any.parts
    assert len(parts.layers()) == parts.n_layers == 2
    assert parts.n_heads == 4 and parts.d_model == 32
    assert parts.out_proj(1).weight.numel() == parts.n_heads * parts.head_dim * parts.d_model
    assert parts.unembedding().shape == (tiny_any.model.config.vocab_size, parts.d_model)


def test_out_proj_by_head_reproduces_out_proj(tiny_any):
    parts = tiny_any.parts
    z, out, _ = _capture(parts.out_proj(1), IDS, tiny_any.model)  # z: [1, T, n_heads*head_dim]
    per_head = z.reshape(*z.shape[:-1], parts.n_heads, parts.head_dim)
    w = parts.out_proj_weight_by_head(1)  # [n_heads, head_dim, d_model]
    recon = torch.einsum("bthd,hdm->btm", per_head, w)
    if parts.out_proj_bias(1) is not None:
        recon = recon + parts.out_proj_bias(1)
    torch.testing.assert_close(recon, out, atol=1e-5, rtol=1e-5)


def test_frozen_final_norm_and_logits_reproduce_the_model(tiny_any):
    parts = tiny_any.parts
    x, y, logits = _capture(parts.final_norm(), IDS, tiny_any.model)
    torch.testing.assert_close(parts.apply_frozen_norm(x, parts.norm_scale(x)), y, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(parts.logits(y), logits, atol=1e-4, rtol=1e-4)


def test_gemma_softcapping_is_applied():
    gemma = tiny_model("gemma3_text")
    assert gemma.parts.logit_softcap == 30.0 and gemma.parts.arch.norm_kind == "rms_offset"
    big = torch.full((1, gemma.parts.d_model), 50.0)
    assert gemma.parts.logits(big).abs().max() <= 30.0


def test_unsupported_architecture_is_a_clear_error():
    bert = BertForMaskedLM(BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                      intermediate_size=8))
    with pytest.raises(UnsupportedArchitectureError, match="no adapter for architecture 'bert'.*architecture.py"):
        ModelParts(bert)
