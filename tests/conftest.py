"""Shared fixtures: tiny random models (milliseconds) and one bundled SmolLM2 per session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="lmx-test-"))
for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "XDG_CONFIG_HOME", "HF_HOME"):
    os.environ.setdefault(var, str(_TMP / var.lower()))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The dequantised bundled model is cached across runs (it is keyed by the GGUF's hash); scoring
# results are not: each session starts with an empty result cache, so every test computes.
os.environ.setdefault("LM_EXPLORER_CACHE", str(Path(__file__).resolve().parents[1] / ".cache" / "lm-explorer"))
os.environ["LM_EXPLORER_RESULTS"] = str(_TMP / "results.sqlite")

from tests.tiny import TINY_ARCHS, tiny_model  # noqa: E402


@pytest.fixture(autouse=True)
def _no_work_left_running():
    """Background work started by a test ends with it (a thread inside a forward pass at exit aborts)."""
    yield
    import sys

    if "widgets._runner" in sys.modules:
        sys.modules["widgets._runner"].stop_all()


@pytest.fixture(scope="session")
def smollm2():
    """The bundled SmolLM2-135M-Instruct, loaded once per test session."""
    from explorer import load_model

    return load_model()


@pytest.fixture(params=TINY_ARCHS)
def tiny_any(request):
    """A tiny randomly initialised model of each supported architecture."""
    return tiny_model(request.param)


@pytest.fixture
def tiny():
    """A tiny random Llama-architecture model (grouped-query attention) with a real tokenizer."""
    return tiny_model("llama")


@pytest.fixture
def no_cache():
    """Pass as ``cache=`` to bypass the result cache."""
    return None


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    """Local copies of every recognised benchmark, in its real schema and hub layout: {name: folder}."""
    from tests.hubcopies import BUILDERS

    root = tmp_path_factory.mktemp("hub")
    return {name: build(root) for name, build in BUILDERS.items()}


@pytest.fixture(scope="session")
def ray_cluster():
    """A real local Ray cluster (2 CPUs, no dashboard), started once per session and shut down after.

    ``RAY_ADDRESS`` is cleared so no test joins an outside cluster. Skipped where the ``scale``
    extra is not installed (``make test`` installs it)."""
    ray = pytest.importorskip("ray", reason='distributed runs need: pip install "lm-explorer[scale]"')
    os.environ["RAY_ADDRESS"] = ""
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20,
             log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    """The tiny Llama model saved as a model folder, so Ray actors can load it by path."""
    folder = tmp_path_factory.mktemp("tiny-llama")
    model = tiny_model("llama")
    model.model.save_pretrained(folder)
    model.tokenizer.save_pretrained(folder)
    return folder
