"""Targets (labels, choices) are tokenised in context; several-token labels are scored as continuations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer

from explorer import columns as C
from explorer.errors import FormatError
from explorer.items import Item
from explorer.models.handle import LoadedModel
from explorer.probes import attentiveness, score_choices
from explorer.prompts import PromptFormat, encode_prompt
from explorer.scoring.targets import score_targets, target_tokens
from tests.tiny import tiny_tokenizer

ITEM = Item(id="fr", question="What is the capital of France ?", choices=("Paris", "Berlin", "Rome"), answer=0)
PAREN = PromptFormat(line="({label}) {choice}", label_prefix=" (")  # " (A" is two tokens: " (" then "A"


@torch.no_grad()
def _plain(model, prompt: str, target: str) -> float:
    """log p(target | prompt) by hand: one unpadded forward over prompt + target, summed over its tokens."""
    ctx = encode_prompt(model.tokenizer, prompt)
    whole = encode_prompt(model.tokenizer, prompt + target)
    assert whole[: len(ctx)] == ctx
    logp = torch.log_softmax(model.model(torch.tensor([whole])).logits[0].double(), -1)
    return float(sum(logp[i - 1, whole[i]] for i in range(len(ctx), len(whole))))


def test_several_token_labels_are_scored_as_continuations(tiny):
    prompt = PAREN.build(ITEM)
    assert [len(t) for t in target_tokens(tiny.tokenizer, prompt, PAREN.targets(ITEM))] == [2, 2, 2]
    frame = score_choices(tiny, [ITEM], PAREN, cache=None)
    expect = [_plain(tiny, prompt, t) for t in [" (A", " (B", " (C"]]
    np.testing.assert_allclose(frame[C.LOGPROB], expect, atol=1e-5)
    assert frame[C.N_TOKENS].tolist() == [2, 2, 2] and frame[C.LABEL].tolist() == ["A", "B", "C"]
    rows = attentiveness(tiny, [ITEM], [PAREN], cache=None)
    np.testing.assert_allclose(rows[C.CHOICE_PROBS][0], np.exp(expect), atol=1e-6)
    first = np.exp(_plain(tiny, prompt, " ("))  # every label starts with " (": counted once in pma_first
    np.testing.assert_allclose(rows[C.CHOICE_FIRST_PROBS][0], [first] * 3, rtol=1e-5)
    assert rows[C.PMA_FIRST][0] == pytest.approx(first, rel=1e-5)


def test_one_token_labels_are_one_next_token_read(tiny):
    prompt = PromptFormat().build(ITEM)
    got = score_targets(tiny, [prompt], [[" A", " B", " C"]], top_k=3, cache=None)
    expect = [_plain(tiny, prompt, t) for t in [" A", " B", " C"]]
    np.testing.assert_allclose(got.logprobs[0], expect, atol=1e-5)
    np.testing.assert_array_equal(got.logprobs[0], got.first_logprobs[0])
    assert got.top_ids.shape == (1, 3)


def test_chat_mode_scores_labels_without_a_leading_space():
    from tests.tiny import tiny_model

    tok = tiny_tokenizer()
    chat_tok = type(tok)(tokenizer_object=Tokenizer.from_str(tok.backend_tokenizer.to_str()), bos_token="<bos>",
                         eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")
    chat_tok.chat_template = "{{ messages[0]['content'] }}\n"  # the assistant's turn starts after a newline
    model = LoadedModel(model=tiny_model("llama").model, tokenizer=chat_tok, name="chat", source="config",
                        fingerprint="chat")
    fmt = PromptFormat(chat=True)
    assert fmt.targets(ITEM) == ["A", "B", "C"] and PromptFormat().targets(ITEM)[0] == " A"
    demo = Item(id="es", question="What is the capital of Spain ?", choices=("Madrid", "Rome"), answer=0)
    assert "Answer: A\n\nQuestion" in fmt.build(ITEM, [demo], tokenizer=chat_tok)  # plain text inside the message
    prompt = fmt.build(ITEM, tokenizer=chat_tok)
    frame = score_choices(model, [ITEM], fmt, cache=None)
    np.testing.assert_allclose(frame[C.LOGPROB], [_plain(model, prompt, t) for t in "ABC"], atol=1e-5)
    assert frame[C.TARGET].tolist() == ["A", "B", "C"]


def test_labels_that_read_the_same_are_refused(tiny):
    with pytest.raises(FormatError, match="same tokens"):
        score_choices(tiny, [ITEM], PromptFormat(labels=["Lisbon", "Oslo", "Bern"]), cache=None)  # all <unk>
