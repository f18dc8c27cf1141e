"""Prompt formats and label tokens on the bundled model's real tokenizer."""

from __future__ import annotations

import pytest

from explorer.errors import FormatError
from explorer.items import Item
from explorer.prompts import DEFAULT_FORMAT, PromptFormat, label_token_ids

pytestmark = pytest.mark.slow

ITEM = Item(id="fr", question="What is the capital of France?", choices=("Paris", "Berlin", "Rome"), answer=0)


def test_label_tokens_on_real_tokenizer_refuse_multi_token_digits(smollm2):
    assert len(label_token_ids(smollm2.tokenizer, [" A", " B", " C", " D"])) == 4
    with pytest.raises(FormatError, match=r"label ' 1' is 2 tokens"):
        label_token_ids(smollm2.tokenizer, [" 1", " 2"])


def test_chat_template_wraps_the_prompt(smollm2):
    text = PromptFormat(chat=True).build(ITEM, tokenizer=smollm2.tokenizer)
    assert text.startswith("<|im_start|>") and DEFAULT_FORMAT.build(ITEM) in text
    assert text.endswith("<|im_start|>assistant\n")
