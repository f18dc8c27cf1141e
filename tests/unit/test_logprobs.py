"""Log-probabilities over a vocabulary of Gemma 3's size agree with a float64 reference to 1e-6."""

from __future__ import annotations

import doctest

import torch

from explorer.scoring import logprobs
from explorer.scoring.logprobs import log_probs


def test_a_large_vocabulary_in_float32_matches_float64():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 262_144, generator=g) * 4  # Gemma 3's vocabulary; logits spread as a model's are
    logits[:, :3] += 15  # a few likely tokens, as after a question
    exact = torch.log_softmax(logits.double(), -1)
    got = log_probs(logits)
    assert got.dtype == torch.float32 and got.shape == logits.shape
    # to float32's own rounding of each value (an error in the normaliser would move every value alike)
    assert torch.allclose(got.double(), exact, rtol=2e-7, atol=1e-6)
    assert torch.allclose(got.exp().sum(-1).double(), torch.ones(4, dtype=torch.float64), atol=1e-5)


def test_doctests():
    assert doctest.testmod(logprobs).failed == 0
