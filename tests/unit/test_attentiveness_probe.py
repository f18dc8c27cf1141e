"""The attentiveness probe and layer-by-layer PMA on tiny random models, against direct computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer import columns as C
from explorer.items import Item
from explorer.probes.attentiveness import attentiveness, explode_choices
from explorer.probes.layers import layer_pma
from explorer.errors import FormatError
from explorer.prompts import PromptFormat, encode_prompt, get_format

CITIES = ("Paris", "Berlin", "Rome", "Madrid")
COUNTRIES = ("France", "Germany", "Italy", "Spain")


def _items(countries=COUNTRIES, prefix="q"):
    return [Item(id=f"{prefix}-{c}", question=f"What is the capital of {c}?", choices=CITIES, answer=i)
            for i, c in enumerate(countries)]


def _next_logprobs(model, text: str) -> torch.Tensor:
    ids = torch.tensor([encode_prompt(model.tokenizer, text)])
    with torch.no_grad():
        return torch.log_softmax(model.model(ids).logits[0, -1].float(), -1)


def _seq_logprob(model, context: str, cont: str) -> float:
    ctx = encode_prompt(model.tokenizer, context)
    whole = encode_prompt(model.tokenizer, context + cont)
    with torch.no_grad():
        lp = torch.log_softmax(model.model(torch.tensor([whole])).logits[0].float(), -1)
    return float(sum(lp[p - 1, whole[p]] for p in range(len(ctx), len(whole))))


def _tok(model, s: str) -> int:
    (t,) = model.tokenizer(s, add_special_tokens=False)["input_ids"]
    return t


def test_letters_match_a_direct_forward(tiny):
    items = _items()
    rows = attentiveness(tiny, items, ["letters"], cache=None)
    assert list(rows.columns) == C.ATTENTIVENESS_COLUMNS and len(rows) == len(items)
    labels = [_tok(tiny, " " + x) for x in "ABCD"]
    for item, row in zip(items, rows.itertuples()):
        assert row.prompt == get_format("letters").build(item)
        lp = _next_logprobs(tiny, row.prompt)
        probs = lp[labels].exp().numpy()
        np.testing.assert_allclose(row.choice_probs, probs, atol=1e-6)
        assert row.pma == pytest.approx(probs.sum(), abs=1e-6) and row.pma_first == pytest.approx(row.pma)
        assert (row.p1, row.p2) == pytest.approx(tuple(np.sort(probs)[::-1][:2]), abs=1e-6)
        assert row.resolved == (1 - row.pma < row.p1 - row.p2)
        greedy = int(lp.argmax())
        assert row.greedy_token_id == greedy and row.greedy_valid == (greedy in labels)
        assert row.greedy_prob == pytest.approx(float(lp.max().exp()), abs=1e-6)
        # top invalid tokens: the best tokens that are not labels, in order
        order = [t for t in lp.argsort(descending=True).tolist() if t not in labels][:5]
        assert row.top_invalid == [tiny.tokenizer.decode([t]) for t in order]
        np.testing.assert_allclose(row.top_invalid_probs, lp[order].exp().numpy(), atol=1e-6)
        assert row.pred == int(np.argmax(probs)) and row.correct == (row.pred == item.answer)
        premise = _next_logprobs(tiny, "Answer:")[labels].numpy()
        assert row.pred_pmi == int(np.argmax(lp[labels].numpy() - premise))
        np.testing.assert_allclose(row.premise_logprobs, premise, atol=1e-5)
        assert row.pred_norm == row.pred  # one character per label: normalising changes nothing


@pytest.mark.parametrize("fmt", ["string", "cloze"])
def test_string_formats_score_sequences_and_first_tokens(tiny, fmt):
    items = _items()[:2]
    rows = attentiveness(tiny, items, [fmt], cache=None)
    firsts = [_tok(tiny, " " + c) for c in CITIES]
    for item, row in zip(items, rows.itertuples()):
        seq = np.array([_seq_logprob(tiny, row.prompt, " " + c) for c in CITIES])
        np.testing.assert_allclose(row.choice_probs, np.exp(seq), atol=1e-6)
        lp = _next_logprobs(tiny, row.prompt)
        np.testing.assert_allclose(row.choice_first_probs, lp[firsts].exp().numpy(), atol=1e-6)
        assert row.pma == pytest.approx(np.exp(seq).sum(), abs=1e-6)
        assert row.pma_first == pytest.approx(float(lp[firsts].exp().sum()), abs=1e-6)
        assert row.greedy_valid == (int(lp.argmax()) in firsts)
        assert not set(row.top_invalid) & {" " + c for c in CITIES}
        premise = np.array([_seq_logprob(tiny, "Answer:", " " + c) for c in CITIES])
        assert row.pred_pmi == int(np.argmax(seq - premise))
        assert row.pred_norm == int(np.argmax(seq / np.array([len(c) for c in CITIES])))
        assert row.choice_chars == [len(c) for c in CITIES]


def test_shots_seeds_and_demonstrations_kept_apart(tiny):
    items, pool = _items(("France", "Italy")), _items(("Germany", "Spain"), prefix="pool")
    rows = attentiveness(tiny, items, ["letters", "cloze"], shots=[0, 1], seeds=[0, 1], pool=pool, cache=None)
    # shots 0 runs one seed; shots 1 runs both
    counts = rows.groupby([C.FORMAT, C.SHOTS]).size().to_dict()
    assert counts == {("cloze", 0): 2, ("cloze", 1): 4, ("letters", 0): 2, ("letters", 1): 4}
    for row in rows[rows[C.SHOTS] == 1].itertuples():
        others = [i for i in items if i.id != row.item_id]
        assert not any(o.question in row.prompt for o in others)
        assert sum(p.question in row.prompt for p in pool) == 1
    again = attentiveness(tiny, items, ["letters", "cloze"], shots=[0, 1], seeds=[0, 1], pool=pool, cache=None)
    assert again[C.PROMPT].tolist() == rows[C.PROMPT].tolist()


def test_no_gold_gives_missing_correctness(tiny):
    items = [i.with_(answer=None) for i in _items()[:2]]
    rows = attentiveness(tiny, items, ["letters"], cache=None)
    assert rows[C.CORRECT].isna().all() and rows[C.ANSWER].isna().all()


def test_explode_choices_is_long(tiny):
    rows = attentiveness(tiny, _items()[:2], ["letters"], cache=None)
    long = explode_choices(rows)
    assert len(long) == 8 and long[C.POSITION].tolist() == [0, 1, 2, 3] * 2
    assert long.groupby(C.ITEM_ID)[C.CHOICE_PROBS].sum().to_numpy() == pytest.approx(rows[C.PMA].to_numpy())
    assert long[C.IS_GOLD].sum() == 2


@pytest.mark.parametrize("fmt", ["letters", "cloze"])
def test_last_layer_equals_the_model_and_middle_layers_the_logit_lens(tiny_any, fmt):
    model, items = tiny_any, _items()[:3]
    layers = layer_pma(model, items, fmt, batch_size=2)
    n = model.parts.n_layers
    assert sorted(layers[C.LAYER].unique()) == list(range(n + 1))
    rows = attentiveness(model, items, [fmt], cache=None)
    last = layers[layers[C.LAYER] == n].reset_index(drop=True)
    np.testing.assert_allclose(last[C.PMA], rows[C.PMA_FIRST], atol=1e-5)
    # layer 1 by hand: a hook on block 0's output, then the final norm and the unembedding
    caught = {}
    hook = model.parts.layers()[0].register_forward_hook(
        lambda m, i, o: caught.__setitem__("h", o[0] if isinstance(o, tuple) else o))
    try:
        prompt = rows[C.PROMPT][0]
        ids = torch.tensor([encode_prompt(model.tokenizer, prompt)])
        with torch.no_grad():
            model.model(ids)
            lp = torch.log_softmax(model.parts.logits(model.parts.final_norm()(caught["h"][0, -1])), -1)
    finally:
        hook.remove()
    valid = ([_tok(model, " " + x) for x in "ABCD"] if fmt == "letters" else [_tok(model, " " + c) for c in CITIES])
    got = layers[(layers[C.LAYER] == 1) & (layers[C.ITEM_ID] == items[0].id)].iloc[0]
    np.testing.assert_allclose(got[C.CHOICE_PROBS], lp[valid].exp().numpy(), atol=1e-5)


def test_bad_format_for_item_names_the_item(tiny):
    five = Item(id="five", question="What is the capital of France?",
                choices=("Paris", "Berlin", "Rome", "Madrid", "A"))
    with pytest.raises(FormatError, match="'five' has 5 choices"):
        attentiveness(tiny, [five], [PromptFormat(labels="AB")], cache=None)
