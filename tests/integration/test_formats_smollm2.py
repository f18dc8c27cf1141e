"""Prompt formats and label tokens on the bundled models' real tokenizers: every named format and any
label set work, labels tokenised in context, against a plain transformers computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer import columns as C
from explorer.items import Item, capitals
from explorer.probes import score_choices
from explorer.prompts import DEFAULT_FORMAT, NAMED_FORMATS, PromptFormat, encode_prompt, get_format
from explorer.scoring.targets import target_tokens

pytestmark = pytest.mark.slow

ITEM = Item(id="fr", question="What is the capital of France?", choices=("Paris", "Berlin", "Rome"), answer=0)


@torch.no_grad()
def plain_target_logprob(model, prompt: str, target: str) -> float:
    """log p(target | prompt): the tokens of prompt + target after the prompt's, summed, one plain forward."""
    ctx, whole = encode_prompt(model.tokenizer, prompt), encode_prompt(model.tokenizer, prompt + target)
    assert whole[: len(ctx)] == ctx
    logp = torch.log_softmax(model.model(torch.tensor([whole])).logits[0].double(), -1)
    return float(sum(logp[i - 1, whole[i]] for i in range(len(ctx), len(whole))))


def test_chat_template_wraps_the_prompt(smollm2):
    text = PromptFormat(chat=True).build(ITEM, tokenizer=smollm2.tokenizer)
    assert text.startswith("<|im_start|>") and DEFAULT_FORMAT.build(ITEM) in text
    assert text.endswith("<|im_start|>assistant\n")


@pytest.mark.parametrize("name", sorted(NAMED_FORMATS))
def test_every_named_format_equals_plain_transformers(smollm2, name):
    items = capitals(2, k=3)
    frame = score_choices(smollm2, items, name, cache=None)
    fmt = get_format(name)
    for item, (_, rows) in zip(items, frame.groupby(C.ITEM_ID, sort=False)):
        prompt = rows[C.PROMPT].iloc[0]
        expect = [plain_target_logprob(smollm2, prompt, t) for t in fmt.targets(item)]
        np.testing.assert_allclose(rows[C.LOGPROB], expect, atol=1e-4)


def test_numbers_labels_are_two_tokens_and_scored_as_continuations(smollm2):
    prompt = get_format("numbers").build(ITEM)
    tokens = target_tokens(smollm2.tokenizer, prompt, [" 1", " 2", " 3"])
    assert [len(t) for t in tokens] == [2, 2, 2]  # " " then the digit, for SmolLM2
    frame = score_choices(smollm2, [ITEM], "numbers", cache=None)
    assert frame[C.N_TOKENS].tolist() == [2, 2, 2] and frame[C.PROB_NORM].sum() == pytest.approx(1.0)


def test_chat_mode_reads_labels_without_a_space(smollm2):
    fmt = PromptFormat(chat=True)
    prompt = fmt.build(ITEM, tokenizer=smollm2.tokenizer)
    tokens = target_tokens(smollm2.tokenizer, prompt, fmt.targets(ITEM))
    assert [smollm2.tokenizer.decode(t) for t in tokens] == ["A", "B", "C"]
    frame = score_choices(smollm2, [ITEM], fmt, cache=None)
    np.testing.assert_allclose(frame[C.LOGPROB], [plain_target_logprob(smollm2, prompt, t) for t in "ABC"], atol=1e-4)
    spaced = score_choices(smollm2, [ITEM], PromptFormat(chat=True, label_prefix=" "), cache=None)
    assert spaced[C.PROB].sum() < frame[C.PROB].sum()  # after "assistant\n" the model starts a line, not " A"


def test_a_custom_label_set_of_words_works(smollm2):
    fmt = PromptFormat(labels=["first", "second", "third"])
    frame = score_choices(smollm2, [ITEM], fmt, cache=None)
    prompt = frame[C.PROMPT].iloc[0]
    expect = [plain_target_logprob(smollm2, prompt, t) for t in [" first", " second", " third"]]
    np.testing.assert_allclose(frame[C.LOGPROB], expect, atol=1e-4)


@pytest.fixture(scope="module")
def gemma():
    from explorer import load_model

    return load_model("gemma-3-270m")


@pytest.mark.parametrize("fmt", [get_format("numbers"), get_format("lower"), PromptFormat(labels=["yes", "no", "maybe"])],
                         ids=["numbers", "lower", "words"])
def test_label_sets_on_gemma(gemma, fmt):
    prompt = fmt.build(ITEM, tokenizer=gemma.tokenizer)
    frame = score_choices(gemma, [ITEM], fmt, cache=None)
    expect = [plain_target_logprob(gemma, prompt, t) for t in fmt.targets(ITEM)]
    np.testing.assert_allclose(frame[C.LOGPROB], expect, atol=1e-4)


def test_chat_mode_on_a_tokenizer_without_a_template_is_a_clear_error(gemma):
    from explorer.errors import FormatError

    with pytest.raises(FormatError, match="chat template"):  # the bundled Gemma GGUF ships none
        score_choices(gemma, [ITEM], PromptFormat(chat=True), cache=None)
