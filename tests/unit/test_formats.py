"""Prompt formats, checked against literal expected strings; label tokens; demonstrations."""

from __future__ import annotations

import pytest

from explorer.errors import FormatError
from explorer.items import Item, capitals
from explorer.prompts import (DEFAULT_FORMAT, PromptFormat, build_prompts, draw_demonstrations, get_format,
                              label_token_ids, split_pool)
from tests.tiny import tiny_tokenizer

ITEM = Item(id="fr", question="What is the capital of France?", choices=("Paris", "Berlin", "Rome"), answer=0)
DEMO = Item(id="es", question="What is the capital of Spain?", choices=("Rome", "Madrid"), answer=1)


def test_default_format_is_exact():
    assert DEFAULT_FORMAT.build(ITEM) == ("Question: What is the capital of France?\n"
                                          "A. Paris\nB. Berlin\nC. Rome\nAnswer:")
    assert DEFAULT_FORMAT.targets(ITEM) == [" A", " B", " C"]
    assert get_format("letters") is DEFAULT_FORMAT


@pytest.mark.parametrize("fmt, expected, targets", [
    (PromptFormat(labels="1234"), "Question: What is the capital of France?\n1. Paris\n2. Berlin\n3. Rome\nAnswer:",
     [" 1", " 2", " 3"]),
    (PromptFormat(labels="abcd", line="colon"),
     "Question: What is the capital of France?\na: Paris\nb: Berlin\nc: Rome\nAnswer:", [" a", " b", " c"]),
    (PromptFormat(labels=("X", "Y", "Z"), line="paren"),
     "Question: What is the capital of France?\n(X) Paris\n(Y) Berlin\n(Z) Rome\nAnswer:", [" X", " Y", " Z"]),
    (PromptFormat(style="string"), "Question: What is the capital of France?\nChoices: Paris, Berlin, Rome\nAnswer:",
     [" Paris", " Berlin", " Rome"]),
    (PromptFormat(style="cloze"), "Question: What is the capital of France?\nAnswer:", [" Paris", " Berlin", " Rome"]),
    (PromptFormat(template="Q: {question}\nOptions:\n{choices}\nA:", header="Answer the question.\n\n"),
     "Answer the question.\n\nQ: What is the capital of France?\nOptions:\nA. Paris\nB. Berlin\nC. Rome\nA:",
     [" A", " B", " C"]),
])
def test_formats_render_literal_strings(fmt, expected, targets):
    assert fmt.build(ITEM) == expected
    assert fmt.targets(ITEM) == targets


def test_demonstrations_come_first_with_their_answer():
    text = DEFAULT_FORMAT.build(ITEM, [DEMO])
    assert text == ("Question: What is the capital of Spain?\nA. Rome\nB. Madrid\nAnswer: B\n\n"
                    "Question: What is the capital of France?\nA. Paris\nB. Berlin\nC. Rome\nAnswer:")
    assert PromptFormat(style="cloze").build(ITEM, [DEMO]) == (
        "Question: What is the capital of Spain?\nAnswer: Madrid\n\nQuestion: What is the capital of France?\nAnswer:")


def test_format_errors_are_clear():
    with pytest.raises(FormatError, match="has 3 choices but the label set has only 2"):
        PromptFormat(labels=("X", "Y")).build(ITEM)
    with pytest.raises(FormatError, match="no {question}"):
        PromptFormat(template="{choices}")
    with pytest.raises(FormatError, match="no {choices}"):
        PromptFormat(template="{question}")
    with pytest.raises(FormatError, match="unknown style"):
        PromptFormat(style="essay")
    with pytest.raises(FormatError, match="unknown format"):
        get_format("nope")
    with pytest.raises(FormatError, match="no gold answer"):
        DEFAULT_FORMAT.build(ITEM, [DEMO.with_(answer=None)])
    with pytest.raises(FormatError, match="chat template"):
        PromptFormat(chat=True).build(ITEM, tokenizer=tiny_tokenizer())


def test_label_tokens_single_or_clear_error():
    tok = tiny_tokenizer()
    assert label_token_ids(tok, [" A", " B"]) == [tok.convert_tokens_to_ids(" A"), tok.convert_tokens_to_ids(" B")]
    with pytest.raises(FormatError, match=r"label ' A\.' is 2 tokens"):
        label_token_ids(tok, [" A", " A."])


def test_demonstrations_are_seeded_and_never_scored_items():
    items = capitals(30, seed=0)
    pool, scored = split_pool(items, 10, seed=1)
    assert not {i.id for i in pool} & {i.id for i in scored} and len(pool) == 10
    a = build_prompts(scored, DEFAULT_FORMAT, shots=3, pool=items, seed=7)  # pool overlaps: scored ones excluded
    b = build_prompts(scored, DEFAULT_FORMAT, shots=3, pool=items, seed=7)
    assert a == b
    assert build_prompts(scored, DEFAULT_FORMAT, shots=3, pool=items, seed=8) != a
    scored_questions = {i.question for i in scored}
    for item, prompt in zip(scored, a):
        shown = [line.removeprefix("Question: ") for line in prompt.split("\n") if line.startswith("Question: ")]
        assert shown[-1] == item.question and not set(shown[:-1]) & scored_questions


def test_draw_demonstrations_errors_when_pool_too_small():
    with pytest.raises(FormatError, match="pool has only 1 usable"):
        draw_demonstrations([DEMO], 2, seed=0)
    assert draw_demonstrations([DEMO], 0, seed=0) == []
