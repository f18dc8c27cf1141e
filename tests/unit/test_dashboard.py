"""The dashboard, headless: linked selection, views built per tab, edits, uploads, errors, export."""

from __future__ import annotations

import ast
import html
import base64
import json

import pytest
from plotly.callbacks import Points

from explorer.items import capitals
from tests.tiny import tiny_model
from widgets.dashboard import Dashboard
from widgets.export import frame_bytes
from widgets.registry import VIEWS, view


@pytest.fixture
def dash():
    d = Dashboard(start=False, n_items=4)
    d._model_loaded(tiny_model("llama"))  # as the model runner would, with a tiny model
    yield d
    for w in d.views.values():
        w.runner.cancel()


def _wait(d, key):
    d.builders[key].wait(120)
    widget = d.views[key]
    widget.runner.wait(120)
    return widget


def test_first_tab_is_built_and_exports(dash):
    first = VIEWS[0]
    widget = _wait(dash, first.key)
    assert len(first.data(widget)) > 0
    bar, body = dash.tabs.children[0].children
    assert body is widget.widget
    csv_button = bar.children[0].children[0]
    csv_button.click()
    link = bar.children[0].children[-1].value
    payload = base64.b64decode(link.split("base64,")[1].split('"')[0])
    assert payload.decode().splitlines()[0].startswith(",".join(first.data(widget).columns[:2]))
    html_button = bar.children[0].children[2]
    html_button.click()
    assert "text/html;base64" in bar.children[0].children[-1].value


def test_selection_is_linked_and_edits_rebuild_views(dash):
    _wait(dash, VIEWS[0].key)
    second = dash.data.items[1].id
    dash.data.item.value = second
    assert dash.state.selected_item == second
    dash.state.selected_item = dash.data.items[2].id  # another view selects: the editor follows
    assert dash.data.item.value == dash.data.items[2].id
    dash.data.question.value = "What is the capital of Spain?"
    dash.data.apply.click()
    assert dash.data.items[2].question == "What is the capital of Spain?"
    widget = _wait(dash, VIEWS[0].key)  # rebuilt for the edited items
    assert widget.items[2].question == "What is the capital of Spain?"


def test_bad_edit_and_bad_upload_show_readable_errors(dash):
    dash.builders[VIEWS[0].key].wait(120)
    dash.data.choices.value = "only one"
    dash.data.apply.click()
    assert "at least 2 choices" in dash.message.value
    dash.data.load_upload([{"name": "bad.jsonl", "content": b'{"question": "Q", "choices": ["a", "a"]}\n'}])
    assert "could not load bad.jsonl" in dash.message.value and "duplicate" in dash.message.value
    good = "\n".join(json.dumps({"question": f"Q{i}?", "choices": ["x", "y"], "answer": 0}) for i in range(3))
    dash.data.load_upload([{"name": "ok.jsonl", "content": good.encode()}])
    assert [i.question for i in dash.data.items] == ["Q0?", "Q1?", "Q2?"]


def test_model_that_cannot_load_shows_an_error_and_keeps_working(dash):
    dash.model_name.value = "no-such-org/no-such-model"
    dash.load()
    dash.runner.wait(60)
    assert "could not load model 'no-such-org/no-such-model'" in html.unescape(dash.message.value)
    assert dash.model is not None  # the previous model stays in use


def test_show_code_is_valid_python_for_every_view(dash):
    for v in VIEWS:
        ast.parse(dash.code_for(v))
    assert "builtin_items('capitals', n=4)" in dash.code_for(view("permutation"))


def test_parquet_export_handles_list_cells(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2], "order": [(0, 1), (1, 0)]})
    path = tmp_path / "x.parquet"
    path.write_bytes(frame_bytes(frame, "parquet"))
    assert pd.read_parquet(path)["order"].tolist() == ["(0, 1)", "(1, 0)"]
    with pytest.raises(ValueError, match="unknown data format"):
        frame_bytes(frame, "xlsx")


def test_registry_lists_each_probe_once():
    assert [v.key for v in VIEWS] == ["attentiveness", "permutation", "heads", "calibration", "chain"]
    with pytest.raises(KeyError):
        view("nope")
    assert capitals(1)  # the built-in data the dashboard starts with


def test_chain_tab_builds_and_follows_the_selection(dash):
    dash.tabs.selected_index = [v.key for v in VIEWS].index("chain")
    widget = _wait(dash, "chain")
    assert len(view("chain").data(widget)) == 2 * 4 and view("chain").figure(widget) is widget.scatter_fig
    trace = widget.scatter_fig.data[0]
    trace._dispatch_on_click(Points(point_inds=[1], trace_index=0), None)
    assert dash.state.selected_item == trace.customdata[1] == dash.data.item.value  # the editor follows
