"""Forward passes sized by padded tokens (what a served dashboard's memory rests on): head attribution and
the layer curve under a small budget give the numbers of one big pass, in the data's order, and a served
dashboard hands its budget to every view."""

from __future__ import annotations

import pytest

from explorer import columns as C
from explorer.items import capitals
from explorer.probes.heads import head_attribution
from explorer.probes.layers import layer_pma
from explorer.serve import served
from tests.unit.test_head_attribution import RECORDS
from widgets.dashboard import Dashboard


def test_head_attribution_under_a_small_budget_is_the_same_in_data_order(tiny):
    whole = head_attribution(tiny, RECORDS, batch_size=16)
    calls = []
    handle = tiny.parts.base_model().register_forward_hook(lambda m, a, o: calls.append(a[0].shape if a else None))
    try:
        small = head_attribution(tiny, RECORDS, batch_size=16, token_budget=10)
    finally:
        handle.remove()
    assert len(calls) == 3  # prompts of 18, 7 and 7 tokens: no two fit 10 padded tokens
    assert list(small[C.PROMPT_ID].unique()) == [r.id for r in RECORDS]
    assert small[C.ATTRIBUTION].to_numpy() == pytest.approx(whole[C.ATTRIBUTION].to_numpy(), abs=1e-4)


def test_layer_curve_under_a_small_budget_is_the_same_in_item_order(tiny):
    items = capitals(5)
    whole = layer_pma(tiny, items, batch_size=8)
    small = layer_pma(tiny, items, batch_size=8, token_budget=20)
    assert list(small[C.ITEM_ID]) == list(whole[C.ITEM_ID])
    assert small[C.PMA].to_numpy() == pytest.approx(whole[C.PMA].to_numpy(), abs=1e-5)


def test_a_served_dashboard_gives_every_view_its_budget():
    d = Dashboard(start=False, policy=served(), frame_first=False)
    assert {w.token_budget for w in d.views.values()} == {1024}
    w = d.views["permutation"]
    assert w.rows_per_pass() == 4 and w.pass_budget() == {"token_budget": 1024}
    assert Dashboard(start=False).views["heads"].pass_budget() == {}
