"""What every probe view shares: its spec (the state that produced what is on screen), a banner while an
intervention is applied, figures marked stale until results of the current controls arrive, cleared on
an error, labelled after a cancel, and the code that reproduces the view.

A view calls :meth:`ProbeView.start` with the spec of its controls; the work runs off the message loop
and the view's ``_show(result, spec, final)`` draws what comes back. ``shown`` is the spec of what is on
screen, so "Show code" is generated from it (never from controls changed since).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C
from explorer.items.item import Item
from widgets._runner import Job, Runner
from widgets._setup import Head, Setup, heads_label
from widgets._state import SharedState
from widgets._text import esc
from widgets.glossary import caption

# Page-wide rules (repeated per view; identical rules are harmless): stale results greyed, partial ones
# dimmed, figures that follow the container's width, and the static copies hidden where widgets run.
STYLE = """<style>
.lmx-stale { opacity: 0.35; filter: grayscale(1); transition: opacity 0.1s; }
.lmx-partial { opacity: 0.7; }
.lmx-error { opacity: 0.25; filter: grayscale(1); }
.lmx-banner { background: #fff3cd; border: 1px solid #e0b100; border-radius: 4px; padding: 4px 8px; }
.lmx-note-stale { color: #555; font-style: italic; }
.lmx-note-error { color: #b00; }
.lmx-note-partial { color: #8a5a00; }
.lmx-fig { width: 100%; min-width: 0; }
/* a scrollbar appearing never narrows the figures */
html, body, #rendered_cells, .jp-Notebook { scrollbar-gutter: stable; }
.lmx-static, .jp-OutputArea-child:has(.lmx-static) { display: none !important; }
</style>"""
CONDITIONS = ("empty", "running", "fresh", "stale", "error", "partial")


@dataclass(frozen=True)
class Spec:
    """A view's state: where model and items come from, the intervention it ran under, its controls.
    Subclasses add their controls; those in ``VIEW_FIELDS`` only redraw (no model work)."""

    setup: Setup = Setup()
    heads: Mapping[Head, float] = field(default_factory=dict)
    VIEW_FIELDS: ClassVar[tuple[str, ...]] = ()

    def work(self) -> tuple:
        """The part that needs the model: equal work specs give equal results."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in self.VIEW_FIELDS)

    def describe(self) -> str:
        """The controls in a few words (for stale, error and cancel notes)."""
        parts = [f"{f.name} {_short(getattr(self, f.name))}" for f in fields(self)
                 if f.name not in ("setup", "heads", "pool", "given") and f.name not in self.VIEW_FIELDS]
        if self.heads:
            parts.append(f"heads {heads_label(self.heads)}")
        return " · ".join(parts)

    def code(self) -> str:  # pragma: no cover - every view overrides it
        raise NotImplementedError


def given_code(frame: pd.DataFrame | None, frame_code: str | None, call: str) -> str:
    """The code "Show code" starts from for rows given to a view (``frame=``), empty when none were:
    ``frame_code`` when the caller said how to load them (an expression, or import lines then one),
    else a placeholder naming the argument."""
    if frame is None:
        return ""
    return frame_code or f"frame  # the rows passed as {call}(frame=...)"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


SEGMENT_TOKENS = 256  # the engine packs prompts into rows of at most this many tokens


class ProbeView:
    """Mixin of the probe widgets. Subclasses set ``self.figures`` (the FigureWidgets), build
    ``self.results`` (everything that shows results) and implement ``spec()``, ``_show`` and ``_clear``.

    ``token_budget``: padded tokens per forward pass of this view's work (None: the engine's defaults); a
    served dashboard sets it from its policy so that a page's memory stays bounded whatever the data."""

    TERMS: ClassVar[tuple[str, ...]] = ()
    shown: Spec | None
    figures: list[go.FigureWidget]
    token_budget: int | None = None
    model: Any = None

    def _init_view(self, state: SharedState | None, setup: Setup | None, description: str = "scoring") -> None:
        self.state = state if state is not None else SharedState()
        self.setup = setup
        self.shown = None
        self.scored: pd.DataFrame | None = None  # rows given to the view (frame=): shown as they are, never scored
        self.condition = "empty"
        self.runner = Runner(description)
        self.banner = W.HTML(layout=W.Layout(display="none"))
        self.note = W.HTML()
        self.numbers_tag = W.HTML()  # the numbers on screen as JSON in a hidden element (the browser test reads it)
        self.style = W.HTML(STYLE)
        self.caption = W.HTML(caption(self.TERMS)) if self.TERMS else W.HTML()
        self.drawn_callbacks: list[Callable[[], None]] = []  # told when final results are drawn (static copy)

    # --- the setup a dashboard hands over ----------------------------------------------------------
    def current_setup(self, items: Sequence[Item]) -> Setup:
        """The setup given, or one that writes the items out (a view used on its own)."""
        return self.setup if self.setup is not None else Setup(items=tuple(items))

    def configure(self, model: Any, items: Sequence[Item], setup: Setup | None = None) -> Job | None:
        """New model or items (e.g. one item edited): every control stays; run again (prompts already
        scored come from the result cache, so only what changed is computed)."""
        self.model, self.items, self.setup = model, list(items), setup
        self._offer_items()
        return self.run()

    def _offer_items(self) -> None:
        """Views with an item menu refresh it here."""

    def item_ids(self) -> list[str]:
        """The ids this view has: its items', or those of the rows it was given."""
        if self.scored is not None:
            return [str(i) for i in pd.unique(self.scored[C.ITEM_ID])]
        return [i.id for i in self.items]

    def _item_shown(self) -> str:
        """The selected item when this view has it, else the one its own menu shows."""
        ids = self.item_ids()
        return self.state.selected_item if self.state.selected_item in ids else (self.item.value or "")

    # --- running ----------------------------------------------------------------------------------
    def rows_per_pass(self, default: int = 32) -> int:
        """``batch_size`` of a scoring probe: rows of packed prompts per forward pass, within the budget."""
        return default if self.token_budget is None else max(1, min(default, self.token_budget // SEGMENT_TOKENS))

    def pass_budget(self) -> dict[str, int]:
        """``token_budget=`` for the probes that take one (layers, heads, sweep), when the view has a budget."""
        return {} if self.token_budget is None else {"token_budget": self.token_budget}

    def start(self, spec: Spec, work: Callable[[Job], Any]) -> Job | None:
        """Mark the figures stale, run ``work`` in the background, draw what it returns under ``spec``
        (nothing while the view has neither a model nor given rows: it waits for the dashboard's)."""
        if self.model is None and self.scored is None:
            self.runner.cancel()
            self._set_condition("empty", "waiting for the model…")
            return None
        self._set_condition("stale", f"updating for {spec.describe()}…")
        self._running = spec
        return self.runner.start(work, on_result=lambda r: self._arrive(r, spec, True),
                                 on_partial=lambda r: self._arrive(r, spec, False),
                                 on_error=lambda e: self._failed(e, spec), on_cancel=self._cancelled)

    def _arrive(self, result: Any, spec: Spec, final: bool) -> None:
        if self._show(result, spec, final) is False:
            return  # the view could not draw these results and said why
        now = self.spec()  # drawing reads the redraw-only controls as they are now (k, group by, A and B, ...)
        self.shown = replace(spec, **{name: getattr(now, name) for name in spec.VIEW_FIELDS})
        self._show_banner(spec)
        self._set_condition("fresh" if final else "running", "")
        if final:
            self._drawn()

    def shown_numbers(self) -> Any:
        """The numbers the view shows (headline, table, group bars), as its "Show code" prints them."""
        raise NotImplementedError

    def _tag_numbers(self) -> None:
        try:
            numbers = json.dumps(self.shown_numbers(), default=float) if self.shown is not None else "null"
        except (KeyError, TypeError, ValueError, AttributeError):
            numbers = "null"
        self.numbers_tag.value = f"<span class='lmx-numbers' hidden data-numbers='{esc(numbers)}'></span>"

    def _drawn(self) -> None:
        self._tag_numbers()
        for callback in self.drawn_callbacks:
            callback()

    def _failed(self, error: BaseException, spec: Spec) -> None:
        self.shown = None
        self._clear()
        self._tag_numbers()  # nothing on screen: no numbers either
        self._show_banner(spec)
        self._set_condition("error", f"Nothing shown: {spec.describe()} failed: {type(error).__name__}: {error}")

    def _cancelled(self) -> None:
        if self.shown is None:
            self._clear()
            self._set_condition("error", "Cancelled before any result arrived.")
            return
        asked = getattr(self, "_running", None)
        if asked is not None and self.shown.work() != asked.work():
            text = (f"Cancelled before any result of {asked.describe()}: the results shown belong to the earlier "
                    f"settings {self.shown.describe()}")
        else:
            text = f"Cancelled: the results shown are partial and belong to {self.shown.describe()}" + \
                self._partial_count()
        self._set_condition("partial", text + "; change a control (or the same one back) to compute again.")

    def _partial_count(self) -> str:
        """Subclasses say how much of the work the partial results cover (e.g. " (4 of 12 items)")."""
        return ""

    def _set_condition(self, condition: str, text: str) -> None:
        assert condition in CONDITIONS, condition
        self.condition = condition
        for name in ("lmx-stale", "lmx-error", "lmx-partial"):
            if name in self.results._dom_classes:
                self.results.remove_class(name)
        if condition in ("stale", "error", "partial"):
            self.results.add_class(f"lmx-{condition}")
        self.note.value = f"<span class='lmx-note-{condition}'>{esc(text)}</span>" if text else ""

    def _show_banner(self, spec: Spec) -> None:
        heads = spec.heads
        self.banner.value = (f"<div class='lmx-banner'>⚠ Intervention on: attention heads scaled "
                             f"<b>{esc(heads_label(heads))}</b> (set in the Heads tab). Every number "
                             f"here is of the intervened model.</div>" if heads else "")
        self.banner.layout.display = None if heads else "none"

    # --- what is on screen --------------------------------------------------------------------------
    def code(self) -> str:
        """Python that reproduces what is on screen (empty string until something is)."""
        return self.shown.code() if self.shown is not None else ""

    def redraw_spec(self, **view_fields: Any) -> None:
        """Record a redraw-only change (bins, group by, ...) in the spec of what is on screen."""
        if self.shown is not None:
            self.shown = replace(self.shown, **view_fields)
            if self.condition == "fresh":
                self._drawn()

    def up_to_date(self) -> bool:
        """Whether what is on screen is exactly what the controls ask for."""
        return self.shown is not None and self.shown == self.spec() and self.condition == "fresh"

    def spec(self) -> Spec:  # pragma: no cover - every view overrides it
        raise NotImplementedError

    def _show(self, result: Any, spec: Spec, final: bool) -> None:  # pragma: no cover
        raise NotImplementedError

    def _clear(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def fit(self) -> None:
        """Size every figure to its container again (call when a hidden tab is shown: plotly sized a figure
        drawn while hidden at its 700 px default). Two relayouts: autosize off, then on."""
        for fig in self.figures:
            fig.layout.autosize = False
            fig.layout.autosize = True

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        from widgets._static import StaticCopy  # noqa: PLC0415

        display(self.widget)
        StaticCopy.attach(self)


def side_by_side(*parts: tuple[W.Widget, int]) -> W.HBox:
    """Widgets in one row, each in a box of its share of the width (percent) that its content cannot widen
    (min-width 0): a figure follows its box instead of pushing the row past the tab's edge. Boxes of other
    widgets (tables, text) scroll when their content is wider."""
    return W.HBox([W.Box([w], layout=W.Layout(width=f"{share}%", min_width="0",
                                              overflow=None if isinstance(w, go.FigureWidget) else "auto"))
                   for w, share in parts], layout=W.Layout(width="100%"))


@functools.cache
def _served(url: str) -> type[go.FigureWidget]:
    """FigureWidget whose front-end module is loaded from ``url`` (once per page) rather than sent inside
    every figure's state (5 MB each)."""
    return type("ServedFigureWidget", (go.FigureWidget,), {"_esm": url, "__module__": __name__})


def fig_widget(fig: go.Figure) -> go.FigureWidget:
    """A FigureWidget that follows its container's width (no fixed width in its layout). Under
    ``lm-explorer demo`` (``LM_EXPLORER_PLOTLY_ESM`` set) its module is served by URL."""
    url = os.environ.get("LM_EXPLORER_PLOTLY_ESM")
    widget = (_served(url) if url else go.FigureWidget)(fig)
    widget.layout.autosize = True
    widget.layout.width = None
    widget._config = {"responsive": True, "displaylogo": False}  # follow the window's width when it changes
    return widget
