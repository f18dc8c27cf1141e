"""Probes match rows by position, never by item id: items that share an id (permuted copies) keep their own
numbers; where an id must be unique, the error says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.errors import ItemError
from explorer.items import Item
from explorer.probes import attentiveness, item_confidence, score_choices, score_ptrue
from explorer.probes.attentiveness import premise_logprobs
from explorer.probes.calibration import debias_orders
from explorer.prompts import get_format

BASE = Item(id="q", question="What is the capital of France ?", choices=("Paris", "Berlin", "Rome"), answer=0,
            metadata={"subject": "geo"})
COPIES = [BASE.permuted((0, 1, 2)), BASE.permuted((2, 0, 1)).with_(metadata={"subject": "other"})]


def test_premise_baselines_follow_each_copy(tiny):
    rows = attentiveness(tiny, COPIES, ["string", "cloze"], cache=None)
    for fmt in ("string", "cloze"):
        alone = [premise_logprobs(tiny, [item], [get_format(fmt)], cache=None)[0][0] for item in COPIES]
        got = rows[rows[C.FORMAT] == fmt][C.PREMISE_LOGPROBS].tolist()
        for mine, expect in zip(got, alone):
            np.testing.assert_allclose(mine, expect)
        assert not np.allclose(got[0], got[1])  # the copies show their choices in other orders


def test_metadata_follows_each_row_not_the_id(tiny):
    frame = score_choices(tiny, COPIES, "letters", cache=None)
    assert frame["subject"].tolist() == ["geo"] * 3 + ["other"] * 3
    rows = attentiveness(tiny, COPIES, ["letters"], cache=None)
    assert rows["subject"].tolist() == ["geo", "other"]


def test_where_ids_must_be_unique_the_error_says_so(tiny):
    with pytest.raises(ItemError, match="share this id"):
        score_ptrue(tiny, COPIES, proposals={"q": 0}, cache=None)
    frame = score_choices(tiny, [BASE, BASE], "letters", cache=None)  # the same id and the same prompt twice
    with pytest.raises(ItemError, match="share the id"):
        item_confidence(frame)
    other = Item(id="q", question="What is the capital of Spain ?", choices=("Madrid", "Rome", "Paris"), answer=0)
    mixed = pd.concat([score_choices(tiny, [BASE], "letters", cache=None),
                       score_choices(tiny, [other], "letters", cache=None)], ignore_index=True)
    with pytest.raises(ItemError, match="two different items share this id"):
        debias_orders(mixed)
    per_order = score_choices(tiny, COPIES, "letters", cache=None)  # one item under two orders: averaged
    assert debias_orders(per_order)[C.N_ORDERS].tolist() == [2, 2, 2]
