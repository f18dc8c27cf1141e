"""A served page's frame first: in a kernel (an event loop running), the dashboard builds its views off the
page's way and puts each into its tab only once the page says the frame is drawn (the ``Shown`` widget's
message), and then only the tabs opened; with no such message in time, the views and the model go ahead anyway.
Outside a kernel (a script, these other tests) everything is built and placed at once, as before."""

from __future__ import annotations

import asyncio
import threading

import pytest

import widgets.dashboard as dashboard
from widgets._shown import Shown
from widgets.dashboard import Dashboard
from widgets.registry import VIEWS


def page_message(shown: Shown, content: dict) -> None:
    """What ipywidgets does with a custom message from the page."""
    shown._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def test_shown_runs_its_callbacks_once_and_only_for_its_message():
    shown, calls = Shown(), []
    shown.then(lambda: calls.append(1))
    page_message(shown, {"something": "else"})
    assert not shown.shown and calls == []
    page_message(shown, {"shown": True})
    page_message(shown, {"shown": True})  # a view drawn again
    assert shown.shown and calls == [1] and shown.wait(0)


def view_widgets(page) -> list:
    """The views' widgets in a tab (its row of model panels: export bar, widget)."""
    return [p.children[-1] for row in page.children if hasattr(row, "children") for p in row.children
            if hasattr(p, "children") and p.children]


def holds_view(d: Dashboard, key: str) -> bool:
    page = d.tabs.children[[v.key for v in VIEWS].index(key)]
    return key in d.views and d.views[key].widget in view_widgets(page)


async def built(d: Dashboard) -> None:
    for _ in range(600):
        if d._built.is_set():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("views not built")


def test_views_wait_for_the_frame_and_each_tab_is_filled_when_opened():
    async def scenario() -> None:
        d = Dashboard(start=False, n_items=4, frame_first=True)
        assert d.frame_first
        await built(d)
        assert not any(holds_view(d, v.key) for v in VIEWS)  # the page has not drawn the frame yet
        assert d.shown in d.tabs.children[0].children  # the open tab's placeholder holds the signal
        page_message(d.shown, {"shown": True})
        assert holds_view(d, VIEWS[0].key)
        assert not any(holds_view(d, v.key) for v in VIEWS[1:])  # drawn when opened, not all at once
        d.tabs.selected_index = 2
        assert holds_view(d, VIEWS[2].key) and not holds_view(d, VIEWS[1].key)
        assert d.build(VIEWS[1]) is d.views[VIEWS[1].key] and holds_view(d, VIEWS[1].key)

    asyncio.run(scenario())


def test_no_message_in_time_still_loads_the_model_and_shows_the_views(monkeypatch):
    monkeypatch.setattr(dashboard, "SHOWN_TIMEOUT_S", 0.2)
    loaded = threading.Event()
    monkeypatch.setattr(Dashboard, "load", lambda self: loaded.set())

    async def scenario() -> None:
        d = Dashboard(start=True, n_items=4, frame_first=True)
        assert "waiting for the page" in d.message.value and not loaded.is_set()
        await built(d)
        for _ in range(100):
            if loaded.is_set() and holds_view(d, VIEWS[0].key):
                return
            await asyncio.sleep(0.05)
        pytest.fail("the model did not load, or the open tab got no view, after the timeout")

    asyncio.run(scenario())


def test_outside_a_kernel_everything_is_placed_at_once():
    d = Dashboard(start=False, n_items=4, frame_first=True)  # no event loop running: nothing to wait for
    assert not d.frame_first and all(holds_view(d, v.key) for v in VIEWS)
