"""A static copy of a view's figures, saved in the notebook for readers where widgets cannot run
(GitHub, nbviewer, a notebook opened without its kernel).

Displayed as a second output right after the widget: HTML holding one PNG per figure (plotly's image
export, kaleido with a Chrome). Where widgets run, the view's style rule hides it; elsewhere it is what
the reader sees. It is re-rendered (off the message loop, debounced) whenever the view draws final
results, through the output's display id, so the saved notebook holds the figures last drawn. Voila
pages skip it (the widgets always run there).
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from widgets._runner import Debouncer
from widgets._text import esc

Sections = Callable[[], Sequence[tuple[str, Sequence[go.Figure]]]]
_KALEIDO = threading.Lock()
_SERVER: list[bool] = []  # [True] once kaleido's browser is started in this process
WIDTH = 900


def wanted() -> bool:
    """False inside Voila (its kernels get VOILA_* variables) or with LM_EXPLORER_STATIC=0."""
    return "VOILA_BASE_URL" not in os.environ and os.environ.get("LM_EXPLORER_STATIC", "1") != "0"


def png(fig: go.Figure) -> bytes:
    """The figure as PNG at WIDTH px (its own height), through kaleido; one browser per process."""
    import kaleido  # noqa: PLC0415 - only needed for static copies

    figure = go.Figure(fig)
    height = int(figure.layout.height or 420)
    with _KALEIDO:
        if not _SERVER:
            kaleido.start_sync_server(silence_warnings=True)
            _SERVER.append(True)
        return kaleido.calc_fig_sync(figure.to_dict(), opts=dict(format="png", width=WIDTH, height=height))


def render(sections: Sequence[tuple[str, Sequence[go.Figure]]]) -> str:
    """HTML with each section's title and its figures as inline PNG images (or why there are none)."""
    blocks = []
    for title, figs in sections:
        try:
            images = "".join(f"<img alt='{esc(title)}' style='max-width:100%' "
                             f"src='data:image/png;base64,{base64.b64encode(png(f)).decode()}'/>" for f in figs)
        except Exception as e:  # noqa: BLE001 - said in the output instead of the figures
            images = (f"<p>No static copy of these figures: {esc(type(e).__name__)}: {esc(str(e))}. "
                      "It needs kaleido and a Chrome (pip install kaleido; kaleido.get_chrome_sync()).</p>")
        blocks.append(f"<h4>{esc(title)}</h4>{images}")
    return f"<div class='lmx-static'>{''.join(blocks)}</div>"


class StaticCopy:
    """The static output of one displayed widget; ``refresh()`` re-renders it in the background."""

    def __init__(self, sections: Sections) -> None:
        self.sections = sections
        self.handle = None
        self.rendered = ""  # the last HTML sent (for tests)
        self._debounce = Debouncer(self._render_now, wait=0.8)

    def show(self, *, now: bool) -> None:
        """Display the output: rendered at once when ``now`` (final results are on screen), else a placeholder."""
        from IPython.display import display  # noqa: PLC0415

        self.rendered = render(self.sections()) if now else "<div class='lmx-static'><i>figures pending</i></div>"
        self.handle = display(self._bundle(), raw=True, display_id=True)

    def refresh(self) -> None:
        """Re-render soon (debounced: a burst of redraws renders once)."""
        if self.handle is not None:
            self._debounce()

    def _render_now(self) -> None:
        self.rendered = render(self.sections())
        self.handle.update(self._bundle(), raw=True)

    def _bundle(self) -> dict:
        return {"text/html": self.rendered, "text/plain": "(static copy of the figures; the live view is above)"}

    @classmethod
    def attach(cls, view) -> StaticCopy | None:
        """Display a static copy after ``view`` (a ProbeView) and keep it current; None under Voila."""
        if not wanted():
            return None
        copy = cls(lambda: [(type(view).__name__, list(view.figures))])
        copy.show(now=view.condition == "fresh" and not view.runner.busy)
        view.drawn_callbacks.append(copy.refresh)
        return copy
