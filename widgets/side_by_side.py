"""Models side by side in the dashboard: up to three models, each tab drawing one panel per model.

Each compared model gets its own copy of every view it is shown in (built when its tab is first opened),
configured with the same items; the panels sit next to each other under a header in the model's colour,
the same colour in every tab (``MODEL_COLOURS``, by the order the models were added). A selected item is
selected in every panel (the models' states are linked); head scaling stays with its model: heads differ
in number and meaning between models, so the Heads panel of one scales only that model's views. Show code
in a panel reproduces that panel, its model included. A model is loaded when added and let go when removed
from the list (its memory is freed once no panel holds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import traitlets as T

from widgets._state import SharedState
from widgets._text import esc

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

MAX_MODELS = 3  # the model in use and two compared with it
MODEL_COLOURS = ("#1f77b4", "#d62728", "#2ca02c")  # first, second and third model, in every tab


@dataclass
class Compared:
    """A model shown beside the one in use: its name (the ``load_model`` argument), the model, its own state
    (selection linked to the dashboard's, head scaling its own) and its views, by view key."""

    spec: str
    model: LoadedModel
    state: SharedState
    slot: int  # its place in MODEL_COLOURS
    views: dict[str, Any] = field(default_factory=dict)
    panels: dict[str, tuple] = field(default_factory=dict)  # view key -> (export bar, widget)
    given: dict[str, tuple] = field(default_factory=dict)
    link: Any = None

    @property
    def setup_spec(self) -> str | None:
        """The ``load_model`` argument Show code writes (None: the bundled default)."""
        from explorer.models.names import DEFAULT_MODEL, canonical  # noqa: PLC0415

        return None if canonical(self.spec) == canonical(DEFAULT_MODEL) else self.spec

    def release(self) -> None:
        """Hide its panels (kept in their rows: nothing else on the page is drawn again) and let the model go."""
        for box in self.panels.values():
            box.layout.display = "none"
            box.add_class("lmx-removed")
        for widget in self.views.values():
            widget.runner.cancel()
            widget.model = None
        if self.link is not None:
            self.link.unlink()
        self.views.clear()
        self.panels.clear()
        self.given.clear()


def linked_state(main: SharedState) -> tuple[SharedState, T.link]:
    """A state for a compared model whose selected item follows the dashboard's, both ways."""
    state = SharedState()
    return state, T.link((main, "selected_item"), (state, "selected_item"))


def header_html(name: str, slot: int) -> str:
    colour = MODEL_COLOURS[slot % len(MODEL_COLOURS)]
    return f"<div style='border-left:6px solid {colour};padding:2px 8px;font-weight:600;color:{colour}'>{esc(name)}</div>"


def header(name: str, slot: int) -> W.HTML:
    """The model's name in its colour, above its panel (and in the model list)."""
    box = W.HTML(header_html(name, slot))
    box.add_class(f"lmx-model-{slot}")
    return box


def panel(name: str, slot: int, content: tuple[W.Widget, ...]) -> W.VBox:
    """One model's column of a tab: its header, then the view (export bar and widget)."""
    box = W.VBox([header(name, slot), *content], layout=W.Layout(flex="1 1 0", min_width="0"))
    box.add_class("lmx-panel")
    return box


def model_list(entries: list[tuple[str, int, bool]], on_remove) -> list[W.Widget]:
    """The models shown, in their colours; each compared one (``removable``) with a button that unloads it."""
    row: list[W.Widget] = []
    for name, slot, removable in entries:
        tag = header(name, slot)
        if removable:
            button = W.Button(description=f"remove {name}"[:40], tooltip=f"unload {name} and remove its panels",
                              layout=W.Layout(width="auto"))
            button.on_click(lambda _, n=name: on_remove(n))
            row.append(W.HBox([tag, button]))
        else:
            row.append(tag)
    return row
