"""The dashboard, headless on a tiny model saved to a folder (loaded through ``load_model`` as a user's would
be): linked selection, data changes that keep every control and re-score only what changed, stale, error
and cancel states, the intervention banner in every tab, exports that record the intervention, errors."""

from __future__ import annotations

import base64
import html
import io
import json

import pandas as pd
import pytest

from explorer import columns as C
from explorer.probes.permutation import permutation_probe
from explorer.scoring import ResultCache, default_cache
from tests.tiny import tiny_model
from explorer.serve.calls import model_lock
from widgets.dashboard import Dashboard
from widgets.export import frame_bytes
from widgets.registry import VIEWS, view

HEADS = {(1, 0): 0.0}


def saved_tiny(folder):
    """A tiny model saved as a model folder (weights, config, tokenizer)."""
    m = tiny_model("llama")
    m.model.save_pretrained(folder)
    m.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def dash(tmp_path):
    d = Dashboard(start=False, n_items=4, model=str(saved_tiny(tmp_path / "tiny")))
    d.load()
    d.runner.wait(60)
    assert d.model is not None, d.message.value
    yield d
    for w in d.views.values():
        w.runner.cancel()


def settle(d, key):
    """Open the tab, wait for its work; the view."""
    widget = d.build(view(key))
    widget.runner.wait(120)
    for extra in ("layer_runner", "item_runner"):
        if hasattr(widget, extra):
            getattr(widget, extra).wait(120)
    return widget


def tab_parts(d, n: int):
    """(export bar, view widget) of tab ``n``: its row's first panel (the model in use), under its header."""
    (row,) = d.tabs.children[n].children
    _header, bar, widget = row.children[0].children
    return bar, widget


def _download(bar_html: str) -> bytes:
    return base64.b64decode(bar_html.split("base64,")[1].split('"')[0])


def test_every_tab_is_there_before_the_model_and_the_first_is_filled(tmp_path):
    d = Dashboard(start=False, n_items=4)
    assert [tab_parts(d, n)[1] for n in range(len(VIEWS))] == [d.views[v.key].widget for v in VIEWS]
    assert all("waiting for the model" in w.note.value for w in d.views.values())
    d.load_button  # noqa: B018 - the frame exists with no model yet
    d2 = Dashboard(start=False, n_items=4, model=str(saved_tiny(tmp_path / "t")))
    d2.load()
    d2.runner.wait(60)
    w = settle(d2, "attentiveness")
    assert w.condition == "fresh" and w.up_to_date() and len(w.rows) == 4
    assert d2.views["permutation"].shown is None  # other tabs run when opened


def test_exports_and_code_record_the_intervention(dash):
    w = settle(dash, "attentiveness")
    bar = tab_parts(dash, 0)[0]
    buttons = bar.children[0].children
    buttons[0].click()  # CSV
    frame = pd.read_csv(io.BytesIO(_download(buttons[-1].value)), keep_default_na=False)
    assert list(frame["view_intervention"]) == [""] * 4 and w.banner.layout.display == "none"
    with model_lock(dash.model):  # the new work waits here, so the page right after the change is what is checked
        dash.state.heads, dash.state.apply_intervention = HEADS, True
        assert w.condition == "stale" and "lmx-stale" in w.results._dom_classes  # old numbers greyed at once
    w.runner.wait(120)
    assert w.condition == "fresh" and "lmx-stale" not in w.results._dom_classes
    assert w.banner.layout.display is None and "L1H0×0" in w.banner.value
    buttons[0].click()
    frame = pd.read_csv(io.BytesIO(_download(buttons[-1].value)))
    assert set(frame["view_intervention"]) == {"L1H0×0"} and set(frame[C.INTERVENTION]) == {"scale L1H0x0.0"}
    buttons[2].click()  # the figure as HTML
    page = _download(buttons[-1].value).decode()
    assert "intervention: attention heads scaled L1H0" in page and "\\u00d70" in page  # the title, JSON-escaped
    buttons[3].click()  # show code
    code = bar.children[1].value
    assert "with scale_heads(model, {(1, 0): 0.0}):" in code and "L1H0×0" in code


def test_banner_in_every_tab_while_heads_are_scaled(dash):
    dash.state.heads, dash.state.apply_intervention = HEADS, True
    for v in VIEWS:
        w = settle(dash, v.key)
        assert w.banner.layout.display is None and "L1H0×0" in w.banner.value, v.key
        assert w.shown is not None and w.shown.heads == HEADS, v.key
    assert "applied to every other view" in dash.views["heads"].banner.value
    dash.state.apply_intervention = False
    for v in VIEWS:
        w = settle(dash, v.key)
        assert w.banner.layout.display == "none", v.key


def test_an_edit_keeps_every_control_and_rescores_only_that_item(dash, tmp_path):
    w = settle(dash, "permutation")
    w.labels.value, w.orders.value = "1234", "all"
    w.runner.wait(120)
    before = default_cache().misses
    dash.data.item.value = dash.data.items[2].id
    dash.data.question.value = "What is the capital of Spain?"
    dash.data.apply.click()
    w.runner.wait(120)
    assert dash.views["permutation"] is w and (w.labels.value, w.orders.value) == ("1234", "all")
    edited = dash.data.items[2]
    assert set(w.frame[w.frame[C.ITEM_ID] == edited.id][C.PROMPT].str.contains("Spain")) == {True}
    scratch = ResultCache(tmp_path / "scratch.sqlite")
    permutation_probe(dash.model, [edited], orders="all", labels="1234", cache=scratch)
    assert default_cache().misses - before == scratch.misses == 24  # the 24 orders of the edited item, no more
    assert w.up_to_date() and "items[2] = explorer.Item(" in w.code()  # the edit is in the code


def test_a_failing_run_clears_the_figures_and_says_why(dash):
    w = settle(dash, "permutation")
    assert list(w.position_fig.data[0].x) == ["A", "B", "C", "D"]
    ten = "Paris Rome Berlin Madrid Spain France Italy Germany A B".split()
    rows = "\n".join(json.dumps({"question": f"What is the capital of {c}?", "choices": ten, "answer": 0})
                     for c in ("France", "Italy"))
    dash.data.load_upload([{"name": "ten.jsonl", "content": rows.encode()}])
    w.labels.value = "1234"  # nine labels for ten choices
    w.runner.wait(120)
    assert w.condition == "error" and "lmx-error" in w.results._dom_classes and w.shown is None
    note = html.unescape(w.note.value)
    assert "labels 1234" in note and "only 9 labels" in note  # which settings, and why
    assert list(w.position_fig.data[0].x) == [] and w.headline.value == "" and w.code() == ""
    four = "\n".join(json.dumps({"question": f"What is the capital of {c}?", "choices": ten[:4], "answer": 1})
                      for c in ("France", "Italy"))
    dash.data.load_upload([{"name": "four.jsonl", "content": four.encode()}])
    w.runner.wait(120)
    assert w.condition == "fresh" and list(w.position_fig.data[0].x) == ["1", "2", "3", "4"] and w.up_to_date()


def test_cancel_says_which_settings_the_partial_results_belong_to(dash):
    w = settle(dash, "permutation")
    w.chunk_size = 1
    show = w._show

    def cancel_after_first(frame, spec, final):
        show(frame, spec, final)
        w.runner.cancel()  # the Cancel button, pressed once the first item arrived

    w._show = cancel_after_first
    w.orders.value = "all"
    w.runner.wait(120)
    w._show = show
    assert w.condition == "partial" and "lmx-partial" in w.results._dom_classes
    assert "orders all" in w.note.value and "(1 of 4 items scored)" in w.note.value
    assert w.shown.orders == "all" and w.frame[C.ITEM_ID].nunique() == 1


def test_selection_is_linked_and_unknown_ids_are_not_sent(dash):
    w = settle(dash, "permutation")
    second = dash.data.items[1].id
    dash.data.item.value = second
    assert dash.state.selected_item == second and w.item.value == second
    figure_before = w.item_fig.data
    dash.state.selected_item = "cf-Spain"  # an id this view does not have: it keeps its own
    assert w.item.value == second and w.item_fig.data == figure_before and dash.data.item.value == second


def test_heads_run_on_the_loaded_items(dash):
    from explorer.probes.choices import score_choices

    h = settle(dash, "heads")
    assert h.condition == "fresh", h.note.value
    items = dash.data.items
    assert [r.id for r in h.records] == [i.id for i in items]
    scores = score_choices(dash.model, items, "letters")
    for r, item in zip(h.records, items):
        rows = scores[scores[C.ITEM_ID] == item.id]
        wrong = rows[~rows[C.IS_GOLD].astype(bool)]
        assert r.target == "ABCD"[item.answer] and r.foil == wrong.loc[wrong[C.PROB].idxmax(), C.LABEL]
    h.prompt.value = items[3].id  # picking a prompt picks the item everywhere
    assert dash.state.selected_item == items[3].id == dash.data.item.value
    h.prompts.value = "capitals"
    h.runner.wait(120)
    assert h.condition == "error" and "capital" in html.unescape(h.note.value)  # the tiny model knows no capitals
    assert h.code() == ""


def test_model_that_cannot_load_keeps_the_model_in_use_everywhere(dash):
    w = settle(dash, "attentiveness")
    name = dash.model_name.value
    dash.model_name.value = "no-such-org/no-such-model"
    dash.load()
    dash.runner.wait(60)
    message = html.unescape(dash.message.value)
    assert "could not load model 'no-such-org/no-such-model'" in message and "keep using" in message
    assert f"explorer.load_model({name!r})" in w.code() and "no-such" not in w.code()


def test_bad_edit_and_bad_upload_show_readable_errors_and_a_good_load_clears_them(dash):
    dash.data.choices.value = "only one"
    dash.data.apply.click()
    assert "at least 2 choices" in dash.message.value
    dash.data.load_upload([{"name": "bad.jsonl", "content": b'{"question": "Q", "choices": ["a", "a"]}\n'}])
    assert "could not load bad.jsonl" in dash.message.value and "duplicate" in dash.message.value
    good = "\n".join(json.dumps({"question": f"Q{i}?", "choices": ["x", "y"], "answer": 0}) for i in range(3))
    dash.data.load_upload([{"name": "ok.jsonl", "content": good.encode()}])
    assert [i.question for i in dash.data.items] == ["Q0?", "Q1?", "Q2?"] and dash.message.value == ""
    w = settle(dash, "attentiveness")
    assert "explorer.Item(id=" in w.code() and "Q2?" in w.code()  # a small upload is written out in the code


def test_parquet_export_handles_list_cells(tmp_path):
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
