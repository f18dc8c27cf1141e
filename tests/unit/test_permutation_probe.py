"""The permutation probe on a tiny model: orders, frame shape, mapping back to content, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from explorer import columns as C
from explorer.errors import ItemError
from explorer.items import Item
from explorer.probes.choices import score_choices
from explorer.items.orders import (OrderError, all_orders, check_order, cyclic_orders, parse_order, resolve_orders,
                                    sampled_orders)
from explorer.probes.permutation import permutation_probe
from explorer.prompts.format import PromptFormat

# Items whose words are all in the tiny tokenizer's vocabulary.
TINY_ITEMS = [
    Item("fr", "What is the capital of France?", ("Paris", "Berlin", "Rome", "Madrid"), answer=0),
    Item("de", "What is the capital of Germany?", ("Rome", "Berlin", "Madrid", "Paris"), answer=1),
    Item("it", "What is the capital of Italy?", ("Madrid", "Paris", "Rome", "Berlin"), answer=2),
]


def test_order_generators():
    assert cyclic_orders(4) == [(0, 1, 2, 3), (1, 2, 3, 0), (2, 3, 0, 1), (3, 0, 1, 2)]
    assert len(all_orders(4)) == 24 and len(set(all_orders(4))) == 24 and all_orders(4)[0] == (0, 1, 2, 3)
    sample = sampled_orders(4, 5, seed=3)
    assert len(set(sample)) == 5 and all(sorted(o) == [0, 1, 2, 3] for o in sample)
    assert sample == sampled_orders(4, 5, seed=3) and sample != sampled_orders(4, 5, seed=4)
    assert resolve_orders("7", 4, seed=1) == sampled_orders(4, 7, seed=1)
    assert len(sampled_orders(9, 3)) == 3  # k! too large to enumerate: drawn one by one
    assert parse_order("2,0,1") == (2, 0, 1)


@pytest.mark.parametrize("bad", [[0, 1, 1, 2], [0, 1, 2], [1, 2, 3, 4], ["x", 1, 2, 3]])
def test_order_that_is_not_a_permutation_is_refused(bad):
    with pytest.raises(OrderError, match="not a permutation of 0..3"):
        check_order(bad, 4)
    with pytest.raises(OrderError, match="not a permutation"):
        resolve_orders([[0, 1, 2, 3], bad], 4)


def test_order_spec_errors():
    with pytest.raises(OrderError, match="only 24"):
        sampled_orders(4, 25)
    with pytest.raises(OrderError, match="unknown orders"):
        resolve_orders("shuffled", 4)
    with pytest.raises(OrderError, match="sample"):
        all_orders(8)
    with pytest.raises(OrderError, match="repeats"):
        resolve_orders([[0, 1], [0, 1]], 2)
    with pytest.raises(OrderError, match="positive"):
        sampled_orders(4, 0)


def test_frame_shape_and_mapping(tiny):
    frame = permutation_probe(tiny, TINY_ITEMS, orders="cyclic", cache=None)
    assert list(frame.columns) == C.PERMUTATION_COLUMNS
    assert len(frame) == 3 * 4 * 4
    for (item_id, order), g in frame.groupby([C.ITEM_ID, C.ORDER]):
        order = parse_order(order)
        item = next(i for i in TINY_ITEMS if i.id == item_id)
        assert g[C.POSITION].tolist() == [0, 1, 2, 3]
        assert g[C.LABEL].tolist() == ["A", "B", "C", "D"]
        assert g[C.CHOICE_INDEX].tolist() == list(order)
        assert g[C.CHOICE].tolist() == [item.choices[o] for o in order]
        assert g[C.IS_GOLD].tolist() == [o == item.answer for o in order]
        assert np.isclose(g[C.PROB_NORM].sum(), 1.0)
        assert g[C.IS_PRED].sum() == 1 and g[C.IS_PRED].to_numpy().nonzero()[0][0] == g[C.PROB].to_numpy().argmax()
        assert np.allclose(g[C.PROB], np.exp(g[C.LOGPROB]))
    assert sorted(frame[C.ORDER_ID].unique()) == [0, 1, 2, 3]


def test_rows_equal_score_choices_on_permuted_items(tiny):
    order = (2, 0, 3, 1)
    frame = permutation_probe(tiny, TINY_ITEMS, orders=[order], cache=None)
    direct = score_choices(tiny, [i.permuted(order) for i in TINY_ITEMS], "letters", cache=None)
    assert np.allclose(frame[C.LOGPROB], direct[C.LOGPROB], atol=1e-6)
    assert frame[C.PROMPT].tolist() == direct[C.PROMPT].tolist()
    assert (frame[C.ORDER] == "2,0,3,1").all() and (frame[C.ORDER_ID] == 0).all()


def test_all_orders_and_sample(tiny):
    frame = permutation_probe(tiny, TINY_ITEMS[:1], orders="all", cache=None)
    assert frame[C.ORDER].nunique() == math.factorial(4) and len(frame) == 24 * 4
    sample = permutation_probe(tiny, TINY_ITEMS[:1], orders=5, seed=2, cache=None)
    assert sample[C.ORDER].nunique() == 5 and (sample[C.SEED] == 2).all()


def test_labels_template_and_shots(tiny):
    pool = [Item("es", "What is the capital of Spain?", ("Madrid", "Rome", "Paris", "Berlin"), answer=0)]
    frame = permutation_probe(tiny, TINY_ITEMS[:2], labels="1234", template="Q {question}\n{choices}\nAnswer:",
                              shots=1, pool=pool, cache=None)
    assert frame[C.LABEL].unique().tolist() == ["1", "2", "3", "4"]
    prompt = frame[C.PROMPT].iloc[0]
    assert prompt.startswith("Q What is the capital of Spain?\n1. Madrid")
    assert "\n\nQ What is the capital of France?" in prompt
    assert (frame[C.SHOTS] == 1).all() and frame[C.FORMAT].iloc[0] == "letters labels=1234 template"
    # the demonstration is the same under every order
    demos = {p.split("\n\n")[0] for p in frame[C.PROMPT]}
    assert len(demos) == 1


def test_label_set_too_small_names_item(tiny):
    five = Item("five", "What is the capital of France?", ("Paris", "Berlin", "Rome", "Madrid", "Q"), answer=0)
    with pytest.raises(ItemError, match="'five'.*'choices'.*only 3 labels"):
        permutation_probe(tiny, [five], fmt=PromptFormat(labels=("A", "B", "C")), cache=None)


def test_items_without_gold_are_scored(tiny):
    nogold = [i.with_(answer=None) for i in TINY_ITEMS[:2]]
    frame = permutation_probe(tiny, nogold, cache=None)
    assert frame[C.IS_GOLD].isna().all() and len(frame) == 2 * 16


def test_mixed_k_gets_orders_per_k(tiny):
    three = Item("three", "What is the capital of Spain?", ("Madrid", "Rome", "Paris"), answer=0)
    frame = permutation_probe(tiny, [TINY_ITEMS[0], three], cache=None)
    assert frame.groupby(C.ITEM_ID)[C.ORDER].nunique().to_dict() == {"fr": 4, "three": 3}


def test_progress_and_cancel(tiny):
    from explorer.errors import Cancelled

    seen = []
    permutation_probe(tiny, TINY_ITEMS, cache=None, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (12, 12)
    with pytest.raises(Cancelled):
        permutation_probe(tiny, TINY_ITEMS, cache=None, cancel=lambda: True)

