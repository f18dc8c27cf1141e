"""Static copies of a view's figures for readers where widgets cannot run: PNG images in an HTML output shown
after the widget, re-rendered through its display id whenever the view draws final results."""

from __future__ import annotations

import base64
import re
import time

import IPython.display
import plotly.graph_objects as go
import pytest

from tests.tiny import tiny_items
from widgets import _static
from widgets.permutation import PermutationWidget


class Handle:
    def __init__(self) -> None:
        self.updates: list[dict] = []

    def update(self, bundle, raw=False) -> None:
        self.updates.append(bundle)


@pytest.fixture
def shown(monkeypatch):
    """Capture what is displayed: (objects displayed, the display handles given out)."""
    out, handles = [], []

    def display(obj, raw=False, display_id=None):
        out.append(obj)
        if display_id:
            handles.append(Handle())
            return handles[-1]
        return None

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.delenv("VOILA_BASE_URL", raising=False)
    return out, handles


def pngs(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)]


def test_render_gives_one_png_per_figure():
    html = _static.render([("two figures", [go.Figure(go.Bar(x=[1, 2], y=[3, 4])), go.Figure(go.Scatter(y=[1]))])])
    images = pngs(html)
    assert html.startswith("<div class='lmx-static'>") and "two figures" in html
    assert len(images) == 2 and all(i.startswith(b"\x89PNG") for i in images)


def test_a_view_leaves_its_current_figures_and_updates_them(tiny, shown):
    out, handles = shown
    w = PermutationWidget(tiny, tiny_items(4), n_boot=0)
    w.runner.wait(60)
    w._ipython_display_()
    assert out[0] is w.widget  # the live widget first, then the static copy
    first = out[1]["text/html"]
    assert len(pngs(first)) == len(w.figures)
    w.labels.value = "abcd"  # new results: the copy is rendered again, off the message loop
    w.runner.wait(60)
    deadline = time.monotonic() + 120
    while not handles[0].updates and time.monotonic() < deadline:
        time.sleep(0.2)
    assert handles[0].updates, "the static copy was not updated"
    assert pngs(handles[0].updates[-1]["text/html"]) != pngs(first)


def test_no_static_copy_in_voila(tiny, shown, monkeypatch):
    out, _ = shown
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    w = PermutationWidget(tiny, tiny_items(2), run=False)
    w._ipython_display_()
    assert out == [w.widget]
