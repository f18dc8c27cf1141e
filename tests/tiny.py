"""Tiny randomly initialised models of every supported architecture, built from configs.

They share a small word-level tokenizer trained in-process, so they run in milliseconds and
need no download. ``tiny_model(arch)`` returns a :class:`explorer.LoadedModel`.
"""

from __future__ import annotations

import functools

import torch
from tokenizers import Regex, Tokenizer, models, pre_tokenizers
from transformers import (AutoModelForCausalLM, Gemma3TextConfig, GPT2Config, GPTNeoXConfig, LlamaConfig,
                          MistralConfig, PreTrainedTokenizerFast, Qwen2Config)

from explorer.models.handle import LoadedModel, weights_fingerprint

WORDS = ("Question Answer Choices What is the capital of France Germany Italy Spain Paris Berlin Rome Madrid "
         "A B C D E 1 2 3 4 a b c d : . , ? ( ) + - = True False Q The country city in")
VOCAB = ["<pad>", "<bos>", "<eos>", "<unk>", "\n", " "] + sorted(
    {w for w in WORDS.split()} | {" " + w for w in WORDS.split()})

_COMMON = dict(vocab_size=len(VOCAB), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
               num_attention_heads=4, max_position_embeddings=4096, bos_token_id=1, eos_token_id=2, pad_token_id=0)

CONFIGS = {
    "llama": lambda: LlamaConfig(**_COMMON, num_key_value_heads=2, tie_word_embeddings=True),
    "mistral": lambda: MistralConfig(**_COMMON, num_key_value_heads=2, sliding_window=None),
    "qwen2": lambda: Qwen2Config(**_COMMON, num_key_value_heads=2),
    # a sliding layer and a full one, as Gemma 3 interleaves them (with only sliding layers no token farther back
    # than 2 x 15 reaches the last, and the engine refuses longer prompts: tests/unit/test_context_length.py)
    "gemma3_text": lambda: Gemma3TextConfig(**_COMMON, num_key_value_heads=1, head_dim=8, sliding_window=16,
                                            layer_types=["sliding_attention", "full_attention"],
                                            query_pre_attn_scalar=8, final_logit_softcapping=30.0),
    "gpt2": lambda: GPT2Config(vocab_size=len(VOCAB), n_embd=32, n_layer=2, n_head=4, n_positions=256,
                               bos_token_id=1, eos_token_id=2, pad_token_id=0),
    "gpt_neox": lambda: GPTNeoXConfig(vocab_size=len(VOCAB), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=4096,
                                      bos_token_id=1, eos_token_id=2, pad_token_id=0),
}
TINY_ARCHS = list(CONFIGS)


@functools.cache
def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer over VOCAB: ' Paris' and 'Paris' are distinct single tokens."""
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r" ?[^\s\W]+| ?[^\s\w]|\n| "), behavior="isolated")
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                   unk_token="<unk>")


def tiny_model(arch: str = "llama", *, seed: int = 0, **config_changes) -> LoadedModel:
    """A randomly initialised model of ``arch`` (float32, eval mode, eager attention off); ``config_changes``
    set config attributes (``max_position_embeddings=64``)."""
    torch.manual_seed(seed)
    config = CONFIGS[arch]()
    for key, value in config_changes.items():
        setattr(config, key, value)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():  # larger weights than the init default, so outputs differ visibly
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.3)
    return LoadedModel(model=model, tokenizer=tiny_tokenizer(), name=f"tiny-{arch}", source="config",
                       fingerprint=weights_fingerprint(model))


def tiny_items(n: int = 8) -> list:
    """Capital questions the tiny tokenizer knows word for word (gold positions vary), for tiny models."""
    from explorer.items import Item  # noqa: PLC0415

    pairs = [("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid")]
    cities = [c for _, c in pairs]
    out = []
    for i in range(n):
        country, city = pairs[i % 4]
        choices = cities[i % 4:] + cities[: i % 4]
        out.append(Item(id=f"q{i}", question=f"What is the capital of {country}?", choices=tuple(choices),
                        answer=choices.index(city)))
    return out
