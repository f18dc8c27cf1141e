"""The permutation widget headless on a tiny model: controls re-run the probe and the figures change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.items import Item
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.probes.permutation import permutation_probe
from widgets._state import SharedState
from widgets.figures import permutation as F
from widgets.permutation import PermutationWidget

ITEMS = [
    Item("fr", "What is the capital of France?", ("Paris", "Berlin", "Rome", "Madrid"), answer=0),
    Item("de", "What is the capital of Germany?", ("Rome", "Berlin", "Madrid", "Paris"), answer=1),
    Item("it", "What is the capital of Italy?", ("Madrid", "Paris", "Rome", "Berlin"), answer=2),
    Item("es", "What is the capital of Spain?", ("Berlin", "Rome", "Paris", "Madrid"), answer=3),
    Item("fr2", "What is the capital city of France?", ("Rome", "Paris", "Madrid", "Berlin"), answer=1),
]
POOL = [Item("p1", "What is the country of Paris?", ("France", "Spain", "Italy", "Germany"), answer=0),
        Item("p2", "What is the country of Rome?", ("Spain", "Italy", "France", "Germany"), answer=1)]


@pytest.fixture
def widget(tiny):
    w = PermutationWidget(tiny, ITEMS, pool=POOL, chunk_size=2, n_boot=20)
    w.runner.wait(60)
    assert w.runner.last_error is None
    return w


def test_first_run_fills_figures(widget, tiny):
    expect = permutation_probe(tiny, ITEMS, orders="cyclic")
    s = summarize_permutation(expect, n_boot=0)
    assert np.allclose(widget.position_fig.data[0].y, s["mean_prob_by_position"])
    assert list(widget.position_fig.data[0].x) == ["A", "B", "C", "D"]
    assert np.allclose(widget.position_fig.data[2].y, 0.25)  # the uniform line
    assert np.allclose(widget.position_fig.data[1].y, s["position_share"])
    grid = widget.grid_fig.data[0]
    assert list(grid.y) == [i.id for i in ITEMS] and len(grid.x) == 4
    pred = expect[expect[C.IS_PRED]].set_index([C.ITEM_ID, C.ORDER])[C.POSITION]
    assert np.asarray(grid.z)[1][2] == pred[("de", grid.x[2])]
    assert widget.accuracy_fig.data[0].y[0] == pytest.approx(s["accuracy"])
    assert "A-bias" in widget.headline.value
    assert f"circular</abbr> <b>{s['circular_accuracy']:.2f}</b>" in widget.headline.value


def test_controls_change_figures(widget):
    before_orders = list(widget.grid_fig.data[0].x)
    widget.orders.value = "all"
    widget.runner.wait(60)
    assert len(widget.grid_fig.data[0].x) == 24 and list(widget.grid_fig.data[0].x) != before_orders
    widget.labels.value = "1234"
    widget.runner.wait(60)
    assert list(widget.position_fig.data[0].x) == ["1", "2", "3", "4"]
    old = np.array(widget.position_fig.data[0].y)
    widget.template.value = "Q: … A:"
    widget.runner.wait(60)
    assert not np.allclose(widget.position_fig.data[0].y, old)
    assert widget.frame[C.PROMPT].iloc[0].startswith("Q: ")
    widget.shots.value = 1
    widget.runner.wait(60)
    assert "\n\n" in widget.frame[C.PROMPT].iloc[0] and (widget.frame[C.SHOTS] == 1).all()


def test_selecting_an_item_shows_its_orders(widget):
    widget.state.selected_item = "it"
    assert widget.item.value == "it"
    assert "What is the capital of Italy?" in widget.detail.value and widget.detail.value.count("order ") == 4
    names = {t.name for t in widget.item_fig.data}
    assert names == {"Madrid", "Paris", "Rome (gold)", "Berlin"}
    rome = next(t for t in widget.item_fig.data if t.name == "Rome (gold)")
    rows = widget.frame[(widget.frame[C.ITEM_ID] == "it") & (widget.frame[C.CHOICE] == "Rome")]
    assert np.allclose(rome.y, rows[C.PROB_NORM])
    widget.item.value = "fr"
    assert widget.state.selected_item == "fr" and "France" in widget.detail.value


def test_streams_partial_results_and_cancels_stale_work(tiny):
    state = SharedState()
    w = PermutationWidget(tiny, ITEMS, state=state, chunk_size=2, run=False)
    seen = []
    original = w._show
    w._show = lambda frame, spec, final: (seen.append(frame[C.ITEM_ID].nunique()), original(frame, spec, final))
    w.run()
    w.runner.wait(60)
    assert seen == [2, 4, 5]  # one update per chunk of items, then the final one
    first = w.run()
    w.orders.value = "all"  # a changed control cancels the stale run
    assert first.cancelled()
    w.runner.wait(60)
    assert w.frame[C.ORDER].nunique() == 24


def test_figures_on_empty_frame():
    empty = pd.DataFrame(columns=C.PERMUTATION_COLUMNS)
    assert len(F.position_response_figure(empty).data) == 3
    assert len(F.prediction_grid_figure(empty).data) == 1
    assert len(F.accuracy_figure(None).data) == 2
