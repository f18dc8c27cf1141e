"""The explorer dashboard: one model, one data set (built-in, a hub benchmark or an upload), every probe
view, linked.

Every tab is built at once, empty, on the kernel's main thread, so the page shows the whole frame
while the model loads; the model and the items are then handed to the open tab (the others get them
when opened). A change of data (a new set, or one edited item) is handed to the views without
rebuilding them: every control stays, and the engine's result cache makes unchanged items free. A
selected item is selected in every view that has it (``SharedState.selected_item``); head scaling set
in the Heads tab applies to the others when its switch is on, and each of them says so in a banner.
"""

from __future__ import annotations

import html
import os
from typing import Any

import ipywidgets as W

from explorer.errors import ModelLoadError
from explorer.items import Item
from explorer.models import DEFAULT_MODEL, LoadedModel, load_model
from widgets._runner import Job, Runner
from widgets._setup import Setup
from widgets._state import SharedState
from widgets.data_panel import DataPanel
from widgets.export import export_bar
from widgets.registry import VIEWS, View
from widgets.run_view import RunView

MODEL_CHOICES = [DEFAULT_MODEL, "gemma-3-270m"]


class Dashboard:
    """The app behind ``notebooks/explorer.ipynb``; ``Dashboard().widget`` is what Voila shows."""

    def __init__(self, *, model: str | None = None, dataset: str = "capitals", n_items: int = 12,
                 start: bool = True, run: str | None = None) -> None:
        self.state = SharedState()
        self.models: dict[str, LoadedModel] = {}
        self.model: LoadedModel | None = None
        self.model_spec: str | None = None  # the load_model argument of the model in use (None: the bundled one)
        self.static = None  # the static copy of the figures, once displayed in a notebook (not under Voila)
        model = model or os.environ.get("LM_EXPLORER_MODEL") or DEFAULT_MODEL  # `lm-explorer demo --model` sets it
        self.model_name = W.Combobox(value=model, options=MODEL_CHOICES, description="model",
                                     placeholder="alias, folder, .gguf or hub id", ensure_option=False)
        self.load_button = W.Button(description="Load model", layout=W.Layout(width="auto"))
        self.load_button.on_click(lambda _: self.load())
        self.message = W.HTML()
        self.runner = Runner("model")
        self.data = DataPanel(self.state, self._items_changed, self.show_error, dataset=dataset, n_items=n_items)
        self.views: dict[str, Any] = {v.key: v.build(self.state) for v in VIEWS}
        self._given: dict[str, tuple] = {}  # view key -> (model, items, setup) it was last configured with
        for key, widget in self.views.items():
            widget.note.value = "<i>waiting for the model and the data…</i>"
        self.data.widget.add_class("lmx-data")
        boxes = [W.VBox([export_bar(v, self.views[v.key]), self.views[v.key].widget]) for v in VIEWS]
        for v, box in zip(VIEWS, boxes):
            box.add_class(f"lmx-view-{v.key}")  # for styling and the browser test
        self.tabs = W.Tab(children=boxes, titles=[v.title for v in VIEWS], selected_index=0)
        self.tabs.observe(lambda _: self._show_tab(), "selected_index")
        title = W.HTML("<h2 style='margin:4px 0'>lm-explorer</h2>"
                       "<span>How does the model answer multiple-choice questions? Pick a model and data, "
                       "then open a tab. Hover a term with a dotted underline for its definition.</span>")
        self.runs = RunView(run or "", state=self.state)  # a finished run's scores, without the model
        runs = W.Accordion(children=[self.runs.widget], titles=["Open a finished run (no model needed)"],
                           selected_index=0 if run else None)
        self.widget = W.VBox([title, W.HBox([self.model_name, self.load_button, self.runner.widget],
                                            layout=W.Layout(flex_flow="row wrap")), self.message,
                              self.data.widget, self.tabs, runs], layout=W.Layout(width="100%"))
        if start:
            self.load()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        from widgets._static import StaticCopy, wanted  # noqa: PLC0415

        display(self.widget)
        if wanted():
            copy = self.static = StaticCopy(lambda: [(v.title, self.views[v.key].figures) for v in VIEWS
                                       if self.views[v.key].shown is not None])
            copy.show(now=not any(w.runner.busy for w in self.views.values()))
            for widget in self.views.values():
                widget.drawn_callbacks.append(copy.refresh)

    # --- model ------------------------------------------------------------------------------------
    def load(self) -> Job:
        """Load (or switch back to) the model named in the model box."""
        name = self.model_name.value.strip() or DEFAULT_MODEL

        def work(job: Job) -> tuple[str, LoadedModel]:
            job.progress(0, 1)
            if name not in self.models:
                self.models[name] = load_model(None if name == DEFAULT_MODEL else name)
            job.progress(1, 1)
            return name, self.models[name]

        def failed(e: BaseException) -> None:
            in_use = f"; the views keep using {self.model.name}" if self.model is not None else ""
            self.show_error((str(e) if isinstance(e, ModelLoadError) else f"could not load model {name!r}: {e}")
                            + in_use)

        return self.runner.start(work, on_result=lambda r: self._model_loaded(r[1], r[0]), on_error=failed)

    def _model_loaded(self, model: LoadedModel, name: str | None = None) -> None:
        self.model = model
        self.model_spec = None if name in (None, DEFAULT_MODEL) else name
        info = model.info()
        self.show_message(f"{info['name']}: {info['architecture']}, {info['parameters']:,} parameters, "
                          f"{info['layers']} layers x {info['heads']} heads")
        if not self.data.items:
            self.data.load_builtin()  # calls _items_changed
        else:
            self._items_changed(self.data.items)

    # --- data and views ---------------------------------------------------------------------------
    def setup(self) -> Setup:
        """The model and data as code, as they are now."""
        return self.data.setup(self.model_spec)

    def _items_changed(self, items: list[Item]) -> None:
        if self.message.value.startswith("<div style='color:#b00"):
            self.message.value = ""  # an error about earlier data no longer applies
        self._show_tab()

    def _show_tab(self) -> None:
        """Size the open tab's figures to the page, and hand it the current model and items if it does not
        have them yet."""
        view = VIEWS[self.tabs.selected_index or 0]
        self.views[view.key].fit()
        if self.model is None or not self.data.items:
            return
        given = (self.model, tuple(self.data.items), self.setup())
        if self._given.get(view.key) != given:
            self._given[view.key] = given
            self.views[view.key].configure(self.model, list(self.data.items), given[2])

    def build(self, view: View) -> Any:
        """The view's widget, handed the current model and items (for tests and scripts)."""
        self.tabs.selected_index = VIEWS.index(view)
        self._show_tab()
        return self.views[view.key]

    def code_for(self, view: View) -> str:
        """A snippet reproducing what ``view`` shows (its model, data, controls and intervention)."""
        return self.views[view.key].code()

    # --- messages ---------------------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.message.value = f"<div style='color:#b00;padding:4px'>⚠ {html.escape(text)}</div>" if text else ""

    def show_message(self, text: str) -> None:
        self.message.value = f"<div style='color:#333;padding:4px'>{html.escape(text)}</div>"
