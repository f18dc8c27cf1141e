"""Models side by side in the dashboard, headless on tiny models saved as folders: every tab shows one panel per
model, each panel's results are the ones the dashboard shows with that model alone, the selection is linked and
head scaling stays with its model, Show code names each panel's model, at most three models, and a removed model
is let go. Served (one model in memory) the comparison is refused in one line."""

from __future__ import annotations

import pandas as pd
import pytest

from explorer.serve import served
from tests.tiny import tiny_model
from tests.unit.test_dashboard import settle
from widgets.dashboard import Dashboard
from widgets.registry import VIEWS, view
from widgets.side_by_side import MODEL_COLOURS


def saved(folder, seed: int, **config):
    m = tiny_model("llama", seed=seed, **config)
    m.model.save_pretrained(folder)
    m.tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return [saved(root / "base", 0), saved(root / "other", 1, num_hidden_layers=3, num_attention_heads=2,
                                           num_key_value_heads=1), saved(root / "third", 2)]


def two_models(folders) -> Dashboard:
    d = Dashboard(start=False, n_items=4, model=folders[0])
    d.load()
    d.runner.wait(60)
    d.add_model(folders[1])
    d.runner.wait(60)
    assert list(d.compared) == [folders[1]], d.message.value
    return d


def panels(d: Dashboard, key: str):
    """The open panels of a tab's row (a removed model's are hidden, kept so nothing else is drawn again)."""
    page = d.tabs.children[[v.key for v in VIEWS].index(key)]
    (row,) = page.children
    return [p for p in row.children if "lmx-removed" not in p._dom_classes]


def test_every_tab_shows_each_model_and_each_panel_is_that_models_view(folders):
    d = two_models(folders)
    alone = Dashboard(start=False, n_items=4, model=folders[1])
    alone.load()
    alone.runner.wait(60)
    for v in VIEWS:
        main = settle(d, v.key)
        other = d.compared[folders[1]].views[v.key]
        other.runner.wait(120)
        for extra in ("layer_runner", "item_runner"):
            if hasattr(other, extra):
                getattr(other, extra).wait(120)
        first, second = panels(d, v.key)
        assert first.children[-1] is main.widget and second.children[-1] is other.widget
        assert MODEL_COLOURS[0] in first.children[0].value and "base" in first.children[0].value
        assert MODEL_COLOURS[1] in second.children[0].value and "other" in second.children[0].value
        assert other.model is d.compared[folders[1]].model and main.model is d.model
        mine = settle(alone, v.key)
        assert len(v.data(other)) > 0 and v.data(other).shape == v.data(mine).shape
        assert not v.data(other).equals(v.data(main))  # another model: other numbers
        pd.testing.assert_frame_equal(v.data(other).reset_index(drop=True), v.data(mine).reset_index(drop=True))
        assert folders[1] in other.code() and folders[0] in main.code()  # Show code: each panel's own model
    heads = d.compared[folders[1]].views["heads"]
    assert heads.model.parts.n_layers == 3 and d.views["heads"].model.parts.n_layers == 2  # maps of their own shape


def test_selection_is_linked_and_head_scaling_stays_with_its_model(folders):
    d = two_models(folders)
    c = d.compared[folders[1]]
    item = d.data.items[1].id
    d.state.selected_item = item
    assert c.state.selected_item == item
    c.state.selected_item = d.data.items[2].id
    assert d.state.selected_item == d.data.items[2].id
    c.state.heads = {(2, 1): 0.0}
    c.state.apply_intervention = True
    assert d.state.heads == {} and d.state.applied() == {}


def test_at_most_three_and_a_removed_model_is_let_go(folders):
    d = two_models(folders)
    settle(d, "attentiveness")
    d.add_model(folders[2])
    d.runner.wait(60)
    assert list(d.compared) == folders[1:] and len(panels(d, "attentiveness")) == 3
    d.add_model(folders[1])
    assert "at most 3 models" in d.message.value and list(d.compared) == folders[1:]
    d.remove_model(folders[1])
    assert list(d.compared) == [folders[2]] and d.models.get(folders[1]) is None
    assert [p.children[0].value.count("third") for p in panels(d, "attentiveness")] == [0, 1]
    d.remove_model(folders[2])
    (first,) = panels(d, "attentiveness")  # one model: its panel alone, its header hidden
    assert first.children[-1] is d.views["attentiveness"].widget and first.children[0].layout.display == "none"
    assert d.model_row.children == ()


def test_a_model_already_shown_is_not_added_twice(folders):
    d = two_models(folders)
    d.add_model(folders[0])
    d.runner.wait(60)
    assert "already shown" in d.message.value and list(d.compared) == [folders[1]]


def test_served_holds_one_model_and_says_so(folders):
    d = Dashboard(start=False, n_items=4, model=folders[0], policy=served(models=(folders[0], folders[1])),
                  frame_first=False)
    assert d.add_model(folders[1]) is None
    text = d.message.value
    assert "one model at a time" in text and "\n" not in text and not d.compared
    assert d.compare_row.layout.display == "none"  # not offered on the page
