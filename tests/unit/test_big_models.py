"""Big models on one box: a device_map over several devices ("cpu" and "disk" offload) and reduced
precision give the numbers of the plain float32 model, or say how far they are from them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from explorer import columns as C
from explorer import load_model
from explorer.errors import ModelLoadError
from explorer.interventions import scale_heads
from explorer.items import capitals
from explorer.models.precision import ReducedPrecisionWarning, resolve_dtype
from explorer.probes import head_attribution, logit_diff_components, permutation_probe, score_choices
from explorer.probes.heads import encode_batch
from explorer.probes.sweep import sweep_heads
from tests.tiny import tiny_model
from tests.unit.test_head_attribution import RECORDS

ARCHS = ["llama", "gpt2", "gemma3_text"]  # tied embeddings; biases, Conv1D and LayerNorm; post-attention norms


def split_map(loaded) -> dict[str, str]:
    """Every top module on "cpu" except decoder block 1 and the final norm, offloaded to "disk"."""
    layers, norm = loaded.parts.arch.layers, loaded.parts.arch.final_norm
    out: dict[str, str] = {}

    def walk(module, prefix: str) -> None:
        for name, child in module.named_children():
            full = prefix + name
            if full == layers:
                out.update({f"{full}.{i}": "disk" if i == 1 else "cpu" for i in range(len(child))})
            elif layers.startswith(full + ".") or norm.startswith(full + "."):
                walk(child, full + ".")
            else:
                out[full] = "disk" if full == norm else "cpu"

    walk(loaded.model, "")
    return out


def saved(arch: str, folder):
    plain = tiny_model(arch)
    plain.model.save_pretrained(folder)
    plain.tokenizer.save_pretrained(folder)
    return plain


@pytest.mark.parametrize("arch", ARCHS)
def test_device_map_with_disk_offload_gives_the_same_scores_and_attributions(arch, tmp_path):
    plain = saved(arch, tmp_path / "model")
    spread = load_model(tmp_path / "model", device_map=split_map(plain), offload_folder=tmp_path / "offload")
    assert set(spread.model.hf_device_map.values()) == {"cpu", "disk"}
    block1 = spread.parts.out_proj(1)
    assert block1.weight.device.type == "meta"  # really offloaded: weights only appear inside its forward
    assert spread.device == torch.device("cpu") and spread.fingerprint == plain.fingerprint
    items = capitals(3, seed=1)
    for fmt in ("letters", "cloze"):
        a, b = (score_choices(m, items, fmt, cache=None) for m in (plain, spread))
        np.testing.assert_allclose(b[C.LOGPROB], a[C.LOGPROB], atol=1e-5)
    a, b = (permutation_probe(m, items[:2], orders="cyclic", cache=None) for m in (plain, spread))
    np.testing.assert_allclose(b[C.PROB_NORM], a[C.PROB_NORM], atol=1e-5)
    a, b = (head_attribution(m, RECORDS) for m in (plain, spread))
    np.testing.assert_allclose(b[C.ATTRIBUTION], a[C.ATTRIBUTION], atol=1e-5)
    np.testing.assert_allclose(b[C.LOGIT_DIFF], a[C.LOGIT_DIFF], atol=1e-5)
    a, b = (logit_diff_components(m, RECORDS) for m in (plain, spread))
    np.testing.assert_allclose(b[C.ATTRIBUTION], a[C.ATTRIBUTION], atol=1e-5)
    a, b = (sweep_heads(m, RECORDS, [(1, 2)], [0.0, 2.0]) for m in (plain, spread))
    np.testing.assert_allclose(b[C.LOGIT_DIFF], a[C.LOGIT_DIFF], atol=1e-5)
    scaled = []
    for m in (plain, spread):  # a hook on an offloaded block's output projection
        with scale_heads(m, {(1, 2): 0.0, (0, 1): 3.0}):
            scaled.append(score_choices(m, items, "letters", cache=None))
    np.testing.assert_allclose(scaled[1][C.LOGPROB], scaled[0][C.LOGPROB], atol=1e-5)
    assert np.abs(scaled[1][C.LOGPROB].to_numpy() - a_letters(plain, items)).max() > 1e-3  # the scaling acted
    assert block1.weight.device.type == "meta" and not block1._forward_pre_hooks  # hooks gone, still offloaded


def a_letters(model, items) -> np.ndarray:
    return score_choices(model, items, "letters", cache=None)[C.LOGPROB].to_numpy()


def test_auto_device_map_within_max_memory_offloads_and_agrees(tmp_path):
    plain = saved("llama", tmp_path / "model")
    spread = load_model(tmp_path / "model", device_map="auto", max_memory={"cpu": 60_000})
    assert "disk" in set(spread.model.hf_device_map.values())
    assert "device_map" in spread.info()
    np.testing.assert_allclose(a_letters(spread, capitals(3)), a_letters(plain, capitals(3)), atol=1e-5)


def test_device_and_device_map_together_is_a_clear_error(tmp_path):
    saved("llama", tmp_path)
    with pytest.raises(ModelLoadError, match="not both"):
        load_model(tmp_path, device="cpu", device_map="auto")
    with pytest.raises(ModelLoadError, match="only apply with a device_map"):
        load_model(tmp_path, max_memory={"cpu": "1GiB"})


def test_default_is_float32_without_a_precision_check(tmp_path):
    saved("llama", tmp_path)
    model = load_model(tmp_path)
    assert next(model.model.parameters()).dtype == torch.float32 and model.precision is None


def test_bfloat16_on_cpu_reports_the_largest_difference_once(tmp_path):
    plain = saved("llama", tmp_path)
    half = load_model(tmp_path, dtype="bfloat16")
    assert next(half.model.parameters()).dtype == torch.bfloat16 and half.precision is not None
    assert half.fingerprint != plain.fingerprint  # its results are cached apart from float32's
    items = capitals(6, seed=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score_choices(half, items, "letters", cache=None)
        score_choices(half, items, "cloze", cache=None)
        head_attribution(half, RECORDS)
    reports = [w for w in caught if issubclass(w.category, ReducedPrecisionWarning)]
    assert len(reports) == 1  # once, never again
    report = half.precision.report
    assert str(report) == str(reports[0].message) and "bfloat16" in str(report) and report.n_prompts == 4
    # the number is the direct comparison on the first prompts scored (the engine scores in token order)
    prompts = score_choices(plain, items, "letters", cache=None)[C.PROMPT].unique()
    encoded = sorted(encode_batch_ids(plain, prompts))[:4]
    worst = 0.0
    with torch.no_grad():
        for ids in encoded:
            x = torch.tensor([ids])
            p = torch.softmax(half.model(x).logits[0].float(), -1)
            q = torch.softmax(plain.model(x).logits[0].float(), -1)
            worst = max(worst, float((p - q).abs().max()))
    assert report.max_prob_diff == pytest.approx(worst, abs=1e-7)
    assert 0 < report.max_prob_diff < 0.5
    assert "precision_check" in half.info()


def encode_batch_ids(model, prompts) -> list[list[int]]:
    ids, mask, _ = encode_batch(model, list(prompts))
    return [row[m.bool()].tolist() for row, m in zip(ids, mask)]


def test_no_check_inside_an_intervention(tmp_path):
    saved("llama", tmp_path)
    half = load_model(tmp_path, dtype=torch.float16)
    with scale_heads(half, {(0, 0): 0.0}):
        score_choices(half, capitals(2), "letters", cache=None)
    assert not half.precision.done  # the float32 reference runs clean, so it waits for a clean call
    with pytest.warns(ReducedPrecisionWarning, match="float16"):
        score_choices(half, capitals(2), "letters", cache=None)


def test_dtype_names():
    assert resolve_dtype("fp16") == torch.float16 and resolve_dtype(torch.bfloat16) == torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype 'int3'"):
        resolve_dtype("int3")


def test_offloaded_weights_do_not_look_edited_and_the_cache_serves_them(tmp_path):
    """accelerate swaps an offloaded module's parameters on every pass: the live-model key must not
    take that for an edit, or nothing would ever be served from the result cache."""
    from explorer.scoring import ResultCache

    plain = saved("llama", tmp_path / "model")
    spread = load_model(tmp_path / "model", device_map=split_map(plain), offload_folder=tmp_path / "offload")
    key, cache, items = spread.state_key(), ResultCache(None), capitals(3)
    first = score_choices(spread, items, "letters", cache=cache)
    assert spread.state_key() == key and "edited" not in key
    hits = cache.hits
    again = score_choices(spread, items, "letters", cache=cache)
    assert cache.hits == hits + len(items)
    np.testing.assert_array_equal(first[C.LOGPROB], again[C.LOGPROB])
    with torch.no_grad():
        spread.parts.out_proj(0).weight.mul_(0.5)  # a weight kept in memory: an edit is still seen
    assert spread.state_key() != key
