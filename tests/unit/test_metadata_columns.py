"""Item metadata reaches every probe frame as columns after the documented ones, and every summary groups
by it (``by=["subject"]``)."""

from __future__ import annotations

import pandas as pd
import pytest

from explorer import columns as C
from explorer.items import Item
from explorer.metrics.attentiveness import summarize_attentiveness
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.probes import (attentiveness, compare_debiasing, debias_orders, item_confidence, layer_pma,
                             permutation_probe, recalibrated, score_choices, summarize)
from explorer.items.orders import MAX_ALL_K, OrderError, all_orders

ITEMS = [
    Item("fr", "What is the capital of France?", ("Paris", "Berlin", "Rome"), answer=0,
         metadata={"subject": "europe", "label": "easy", "year": 2020}),
    Item("de", "What is the capital of Germany?", ("Rome", "Berlin", "Madrid", "Paris"), answer=1,
         metadata={"subject": "europe", "label": "hard"}),
    Item("it", "What is the capital of Italy?", ("Madrid", "Paris", "Rome", "Berlin", "Spain"), answer=2,
         metadata={"subject": "south", "label": "easy", "year": 2021}),
    Item("es", "What is the capital of Spain?", ("Berlin", "Madrid"), answer=1, metadata={"subject": "south"}),
]
META = ["subject", "meta_label", "year"]  # "label" is a documented column: it comes as meta_label


def _check(frame: pd.DataFrame, documented: list[str]) -> None:
    assert list(frame.columns) == [*documented, *META]
    per_item = frame.groupby(C.ITEM_ID).first()
    assert per_item.loc["fr", "subject"] == "europe" and per_item.loc["it", "meta_label"] == "easy"
    assert per_item.loc["it", "year"] == 2021 and frame.loc[frame[C.ITEM_ID] == "de", "year"].isna().all()
    assert C.metadata_columns(frame) == META


def test_choice_permutation_attentiveness_and_layer_frames(tiny):
    _check(score_choices(tiny, ITEMS, cache=None), C.CHOICE_COLUMNS)
    _check(permutation_probe(tiny, ITEMS, orders="cyclic", cache=None), C.PERMUTATION_COLUMNS)
    _check(attentiveness(tiny, ITEMS, ["letters"], cache=None), C.ATTENTIVENESS_COLUMNS)
    _check(layer_pma(tiny, ITEMS, "letters"), C.LAYER_PMA_COLUMNS)
    plain = [Item(i.id, i.question, i.choices, i.answer) for i in ITEMS]
    assert list(score_choices(tiny, plain, cache=None).columns) == C.CHOICE_COLUMNS  # no metadata: no columns


def test_calibration_frames_carry_metadata(tiny):
    frame = permutation_probe(tiny, ITEMS, orders="cyclic", cache=None)
    per_prompt = item_confidence(frame, by=[C.ORDER_ID])
    assert set(META) <= set(per_prompt.columns) and len(per_prompt) == 3 + 4 + 5 + 2
    assert per_prompt.set_index([C.ITEM_ID, C.ORDER_ID]).loc[("it", 0), "subject"] == "south"
    scaled = recalibrated(frame, "temperature", keep=[C.ORDER_ID], folds=2)
    assert scaled["subject"].tolist() == per_prompt["subject"].tolist()
    debiased = debias_orders(frame)
    assert debiased.groupby(C.ITEM_ID)["subject"].first().to_dict() == {"de": "europe", "es": "south",
                                                                        "fr": "europe", "it": "south"}
    both = compare_debiasing(frame)
    assert both["subject"].notna().all()


def test_summaries_group_by_metadata(tiny):
    frame = score_choices(tiny, ITEMS, cache=None)
    per_prompt = item_confidence(frame)
    table = summarize(per_prompt, by=["subject"], n_bins=2)
    assert table["subject"].tolist() == ["europe", "south"] and table[C.N].tolist() == [2, 2]
    europe = per_prompt[per_prompt["subject"] == "europe"]
    assert table[C.ACCURACY].iloc[0] == pytest.approx(europe[C.CORRECT].mean())
    rows = attentiveness(tiny, ITEMS, ["letters", "cloze"], cache=None)
    att = summarize_attentiveness(rows, by=["subject"], n_boot=0)
    assert att[[C.FORMAT, "subject"]].values.tolist() == [["letters", "europe"], ["letters", "south"],
                                                          ["cloze", "europe"], ["cloze", "south"]]
    south = rows[(rows[C.FORMAT] == "cloze") & (rows["subject"] == "south")]
    assert att["pma_mean"].iloc[3] == pytest.approx(south[C.PMA].mean()) and att["n_items"].tolist() == [2] * 4
    by_year = summarize_attentiveness(rows[rows[C.FORMAT] == "letters"], by=["year"], n_boot=0)
    assert by_year["year"].iloc[:2].tolist() == [2020, 2021] and pd.isna(by_year["year"].iloc[2])  # missing: last
    with pytest.raises(KeyError, match="cannot group by \\['topic'\\]"):
        summarize_attentiveness(rows, by=["topic"])
    perm = summarize_permutation(permutation_probe(tiny, ITEMS, orders="cyclic", cache=None), by=["subject"],
                                 n_boot=0)
    assert [(g["subject"], g["ks"]) for g in perm["groups"]] == [("europe", [3, 4]), ("south", [2, 5])]


def test_all_orders_up_to_six_choices():
    assert len(all_orders(MAX_ALL_K)) == 720
    with pytest.raises(OrderError, match="5,040 prompts per item .*up to 6 choices.*orders=N"):
        all_orders(7)
