"""The attentiveness widget, headless, on a tiny model: controls re-run the probe, figures update in place."""

from __future__ import annotations

import pytest

from explorer import columns as C
from explorer.items import Item
from widgets._state import SharedState
from widgets.attentiveness import EDITED, AttentivenessWidget, parse_item

CITIES = ("Paris", "Berlin", "Rome", "Madrid")


def _items(countries, prefix):
    return [Item(id=f"{prefix}-{c}", question=f"What is the capital of {c}?", choices=CITIES, answer=i)
            for i, c in enumerate(countries)]


@pytest.fixture
def view(tiny):
    w = AttentivenessWidget(tiny, _items(("France", "Italy"), "q"), pool=_items(("Germany", "Spain"), "pool"),
                            chunk_size=1)
    w.runner.wait(60)
    assert w.runner.last_error is None
    return w


def test_first_run_fills_every_figure(view):
    assert len(view.rows) == 2 and set(view.rows[C.FORMAT]) == {"letters"}
    bars = view.bars_fig.data
    assert [t.name for t in bars][:4] == ["choice A", "choice B", "choice C", "choice D"]
    assert list(bars[0].y) == ["q-France", "q-Italy"]
    assert list(bars[0].x) == pytest.approx([r[0] for r in view.rows[C.CHOICE_PROBS]])
    # valid choices + top invalid + everything else sum to one per item
    totals = [sum(t.x[n] for t in bars if t.type == "bar") for n in range(2)]
    assert totals == pytest.approx([1.0, 1.0], abs=1e-6)
    # hover names the choice; the gold marker sits inside the gold choice's segment, however thin
    assert list(bars[0].customdata) == ["Paris", "Paris"] and "%{customdata}" in bars[0].hovertemplate
    gold = bars[-1]
    assert gold.name == "gold choice" and list(gold.customdata) == ["Paris", "Berlin"]  # answers 0 and 1
    second = view.rows[C.CHOICE_PROBS][1]
    assert second[0] < gold.x[1] < second[0] + second[1]
    assert bars[4].text[0] == repr(view.rows[C.TOP_INVALID][0][0])  # the top invalid token is named
    assert sum(len(t.x) for t in view.scatter_fig.data[:3]) == 2
    assert len(view.layer_fig.data[0].x) == view.model.parts.n_layers + 1
    assert "PMA" in view.headline.value


def test_controls_rescore_in_place(view):
    before = list(view.bars_fig.data[0].x)
    fig_id = id(view.bars_fig)
    view.shots.value = 1
    view.runner.wait(60)
    assert view.runner.last_error is None
    assert set(view.rows[C.SHOTS]) == {1} and all("Germany" in p or "Spain" in p for p in view.rows[C.PROMPT])
    assert list(view.bars_fig.data[0].x) != before and id(view.bars_fig) == fig_id
    view.format.value = "cloze"
    view.runner.wait(60)
    assert set(view.rows[C.FORMAT]) == {"cloze"} and view.bars_fig.data[0].name == "choice 1"


def test_editing_the_item_rescores_it(view):
    view.choices.value = "*Rome\nParis\nBerlin"
    view.question.value = "What is the capital of Italy?"
    view.debounce.flush()
    view.item_runner.wait(60)
    assert view.item_runner.last_error is None
    assert view.edited_rows[C.ITEM_ID].tolist() == [EDITED] and view.edited_rows[C.K].iloc[0] == 3
    assert list(view.bars_fig.data[0].y)[0] == EDITED
    assert EDITED in view.layer_fig.data[1].name
    view.choices.value = "Rome"  # one choice: a clear message, nothing run
    view.debounce.flush()
    assert "choice" in view.edit_note.value


def test_selection_is_shared():
    state = SharedState()
    from tests.tiny import tiny_model

    w = AttentivenessWidget(tiny_model(), _items(("France", "Italy"), "q"), state=state, run=False)
    w.item.value = "q-Italy"
    assert state.selected_item == "q-Italy" and "Italy" in w.question.value
    state.selected_item = "q-France"
    assert w.item.value == "q-France" and "France" in w.question.value


def test_parse_item_marks_gold():
    item = parse_item("Q?", "Paris\n*Rome\n\n")
    assert item.choices == ("Paris", "Rome") and item.answer == 1
    assert parse_item("Q?", "a\nb").answer is None
