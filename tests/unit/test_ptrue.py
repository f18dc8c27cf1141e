"""P(True) self-evaluation on a tiny model: prompt text, one batched call, values against a plain forward."""

import numpy as np
import pandas as pd
import pytest
import torch

from explorer import columns as C
from explorer.errors import FormatError, ItemError
from explorer.items import capitals
from explorer.probes import calibration as cal
from explorer.probes.choices import score_choices
from explorer.probes.ptrue import ptrue_predictions, score_ptrue
from explorer.prompts.tokens import encode_prompt


def plain_next_logprobs(model, prompt, labels):
    ids = torch.tensor([encode_prompt(model.tokenizer, prompt)])
    with torch.no_grad():
        logits = model.model(ids).logits[0, -1]
    lp = torch.log_softmax(logits.double(), -1)
    return [float(lp[model.tokenizer(lab, add_special_tokens=False)["input_ids"][0]]) for lab in labels]


def test_prompt_text_is_the_documented_one(tiny):
    item = capitals(1)[0]
    frame = score_ptrue(tiny, [item], cache=None)
    assert frame[C.PROMPT].iloc[1] == (f"Question: {item.question}\nProposed answer: {item.choices[1]}\n"
                                       "Is the proposed answer:\n (A) True\n (B) False\nThe proposed answer is:")
    assert list(frame.columns) == [*C.PTRUE_COLUMNS, "country", "dataset"]  # then the item's metadata
    assert frame["country"].tolist() == [item.metadata["country"]] * 4


def test_each_choice_proposed_and_values_match_a_plain_forward(tiny):
    items = capitals(3)
    frame = score_ptrue(tiny, items, cache=None)
    assert len(frame) == 12 and frame[C.IS_GOLD].sum() == 3
    for _, row in frame.iloc[[0, 5, 11]].iterrows():
        lt, lf = plain_next_logprobs(tiny, row[C.PROMPT], [" True", " False"])
        assert row[C.LOGPROB_TRUE] == pytest.approx(lt, abs=1e-4)
        assert row[C.LOGPROB_FALSE] == pytest.approx(lf, abs=1e-4)
        assert row[C.P_TRUE] == pytest.approx(np.exp(lt) / (np.exp(lt) + np.exp(lf)), abs=1e-5)
        assert row[C.P_TRUE_RAW] == pytest.approx(np.exp(lt), abs=1e-5)


def test_letter_labels_and_proposals_from_predictions(tiny):
    items = capitals(4)
    choices = score_choices(tiny, items, "letters", cache=None)
    frame = score_ptrue(tiny, items, proposals=choices, labels=(" A", " B"), cache=None)
    preds = choices[choices[C.IS_PRED]]
    assert frame[C.PROPOSED_INDEX].tolist() == preds[C.CHOICE_INDEX].tolist()
    assert frame[C.IS_GOLD].tolist() == preds[C.IS_GOLD].tolist()
    lt, lf = plain_next_logprobs(tiny, frame[C.PROMPT].iloc[0], [" A", " B"])
    assert frame[C.LOGPROB_TRUE].iloc[0] == pytest.approx(lt, abs=1e-4)


def test_permuted_items_propose_by_original_index(tiny):
    item = capitals(1)[0].permuted((2, 0, 3, 1))
    frame = score_ptrue(tiny, [item], proposals={item.id: 3}, cache=None)
    assert frame[C.PROPOSED].iloc[0] == capitals(1)[0].choices[3]


def test_errors_are_clear(tiny):
    items = capitals(2)
    with pytest.raises(FormatError, match="same tokens"):  # " Yes" and " No" are both <unk> for the tiny tokenizer
        score_ptrue(tiny, items, labels=(" Yes", " No"), cache=None)
    with pytest.raises(ItemError, match=items[1].id):
        score_ptrue(tiny, items, proposals={items[0].id: 0}, cache=None)
    no_gold = score_ptrue(tiny, [items[0].with_(answer=None)], cache=None)
    with pytest.raises(ItemError, match="answer"):
        ptrue_predictions(no_gold)


def test_calibration_alongside_multiple_choice(tiny):
    items = capitals(6)
    pt = ptrue_predictions(score_ptrue(tiny, items, cache=None))
    y = pt[C.CORRECT].to_numpy(float)
    assert pt[C.OPTION_BRIER].to_numpy() == pytest.approx(2 * (pt[C.CONFIDENCE].to_numpy() - y) ** 2)
    mc = cal.item_confidence(score_choices(tiny, items, "letters", cache=None))
    both = cal.summarize(pd.concat([mc, pt], ignore_index=True), by=[C.FORMAT], n_bins=5)
    assert both.set_index(C.FORMAT).loc["ptrue", C.N] == 24
    assert both.set_index(C.FORMAT).loc["letters", C.N] == 6


def test_balance_of_ptrue_rows_is_the_binary_event_balance_score():
    # p_true per proposal and whether the proposal is gold: the event formula mean(y) - mean(p) would be
    # (2/4) - (0.9 + 0.8 + 0.2 + 0.4) / 4 = -0.075; the balance score predicts the side with p >= 0.5:
    # 0.9 & gold: +0.1; 0.8 & not gold: -0.8; 0.2 & not gold: +0.2 (says false, right); 0.4 & gold: -0.6
    frame = pd.DataFrame({C.ITEM_ID: ["q1", "q1", "q2", "q2"], C.FORMAT: "ptrue", C.PROPOSED_INDEX: [0, 1, 0, 1],
                          C.PROPOSED: ["a", "b", "c", "d"], C.IS_GOLD: pd.array([True, False, False, True]),
                          C.P_TRUE: [0.9, 0.8, 0.2, 0.4], C.INTERVENTION: "", C.PROMPT: ""})
    summary = cal.summarize(ptrue_predictions(frame), n_bins=2)
    assert summary[C.BALANCE].iloc[0] == pytest.approx((0.1 - 0.8 + 0.2 - 0.6) / 4)
    mixed = pd.concat([ptrue_predictions(frame), pd.DataFrame({C.FORMAT: ["letters"], C.CONFIDENCE: [0.7],
                                                              C.CORRECT: [False], C.OPTION_BRIER: [0.5]})])
    assert cal.summarize(mixed, n_bins=2)[C.BALANCE].iloc[0] == pytest.approx((0.1 - 0.8 + 0.2 - 0.6 - 0.7) / 5)
