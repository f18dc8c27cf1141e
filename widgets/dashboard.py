"""The explorer dashboard: one model, one data set (built-in, a hub benchmark or an upload), every probe
view, linked.

A selected item is selected in every view (``SharedState.selected_item``); head scaling set in
the Heads tab applies to the others when its switch is on. Views are built when their tab is
first opened; loading a model and building a view run off the message loop. Loaded models are
kept, so switching back is instant (and the engine's result cache is keyed per model).
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
from widgets._state import SharedState
from widgets.data_panel import DataPanel
from widgets.export import download_link, figure_html, frame_bytes
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
        self.views: dict[str, Any] = {}  # probe widgets built for the current model and items
        self._version = 0  # bumped whenever the model or the items change; stale builds are dropped
        model = model or os.environ.get("LM_EXPLORER_MODEL") or DEFAULT_MODEL  # `lm-explorer demo --model` sets it
        self.model_name = W.Combobox(value=model, options=MODEL_CHOICES, description="model",
                                     placeholder="alias, folder, .gguf or hub id", ensure_option=False)
        self.load_button = W.Button(description="Load", icon="download")
        self.load_button.on_click(lambda _: self.load())
        self.message = W.HTML()
        self.runner = Runner("model")
        self.data = DataPanel(self.state, self._items_changed, self.show_error, dataset=dataset, n_items=n_items)
        # Each tab's status line lives as long as the dashboard: replacing widgets while a page
        # (re)connects makes the front end look up closed models.
        self.status = {v.key: W.HTML(self._waiting(v)) for v in VIEWS}
        self.tabs = W.Tab(children=[W.VBox([self.status[v.key]]) for v in VIEWS], titles=[v.title for v in VIEWS],
                          selected_index=0)
        self.tabs.observe(lambda _: self._show_tab(), "selected_index")
        self.builders = {v.key: Runner(v.title) for v in VIEWS}  # one per tab: switching tabs cancels nothing
        self._building: dict[str, int] = {}  # view key -> version it is being built for
        title = W.HTML("<h2 style='margin:4px 0'>lm-explorer</h2>"
                       "<span>How does the model answer multiple-choice questions? Pick a model and data, "
                       "then open a tab.</span>")
        self.runs = RunView(run or "", state=self.state)  # a finished run's scores, without the model
        runs = W.Accordion(children=[self.runs.widget], titles=["Open a finished run (no model needed)"],
                           selected_index=0 if run else None)
        self.widget = W.VBox([title, W.HBox([self.model_name, self.load_button, self.runner.widget]), self.message,
                              self.data.widget, self.tabs, runs])
        if start:
            self.load()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        display(self.widget)

    # --- model ------------------------------------------------------------------------------------
    def load(self) -> Job:
        """Load (or switch back to) the model named in the model box."""
        name = self.model_name.value.strip() or DEFAULT_MODEL

        def work(job: Job) -> LoadedModel:
            job.progress(0, 1)
            if name not in self.models:
                self.models[name] = load_model(None if name == DEFAULT_MODEL else name)
            job.progress(1, 1)
            return self.models[name]

        return self.runner.start(work, on_result=self._model_loaded,
                                 on_error=lambda e: self.show_error(
                                     str(e) if isinstance(e, ModelLoadError) else f"could not load model {name!r}: {e}"))

    def _model_loaded(self, model: LoadedModel) -> None:
        self.model = model
        info = model.info()
        self.show_message(f"{info['name']}: {info['architecture']}, {info['parameters']:,} parameters, "
                          f"{info['layers']} layers x {info['heads']} heads")
        if not self.data.items:
            self.data.load_builtin()  # calls _items_changed
        else:
            self._items_changed(self.data.items)

    # --- data and views ---------------------------------------------------------------------------
    def _items_changed(self, items: list[Item]) -> None:
        self._version += 1
        for widget in self.views.values():
            widget.runner.cancel()
        self.views = {}
        for box, view in zip(self.tabs.children, VIEWS):
            self.status[view.key].value = self._waiting(view)
            box.children = [self.status[view.key]]
        self._show_tab()

    def _show_tab(self) -> None:
        if self.model is None or not self.data.items:
            return
        view = VIEWS[self.tabs.selected_index or 0]
        if view.key not in self.views and self._building.get(view.key) != self._version:
            self.build(view)

    def build(self, view: View) -> Job:
        """Build ``view`` for the current model and items (off the message loop)."""
        model, items, box = self.model, list(self.data.items), self.tabs.children[VIEWS.index(view)]
        version = self._building[view.key] = self._version
        builder = self.builders[view.key]
        status = self.status[view.key]
        status.value = f"<i>preparing {html.escape(view.title)}…</i>"
        box.children = [status, builder.widget]

        def done(widget: Any) -> None:
            self._building.pop(view.key, None)
            if version == self._version:
                self.views[view.key] = widget
                box.children = [self._export_bar(view, widget), widget.widget]
            else:
                widget.runner.cancel()

        def failed(e: BaseException) -> None:
            self._building.pop(view.key, None)
            status.value = f"<p style='color:#b00'>{html.escape(view.title)} could not start: {html.escape(str(e))}</p>"
            box.children = [status]

        return builder.start(lambda job: view.build(model, items, self.state), on_result=done, on_error=failed)

    # --- export -----------------------------------------------------------------------------------
    def _export_bar(self, view: View, widget: Any) -> W.Widget:
        out = W.HTML()
        code = W.Textarea(layout=W.Layout(width="100%", height="150px", display="none"))

        def export(kind: str) -> None:
            if kind == "html":
                out.value = download_link(figure_html(view.figure(widget)), f"{view.key}.html", "html")
            else:
                out.value = download_link(frame_bytes(view.data(widget), kind), f"{view.key}.{kind}", kind)

        def show_code(_: Any) -> None:
            code.value = self.code_for(view)
            code.layout.display = None if code.layout.display == "none" else "none"

        buttons = []
        for kind, label in (("csv", "Data as CSV"), ("parquet", "Data as parquet"), ("html", "Figure as HTML")):
            b = W.Button(description=label, icon="save", layout=W.Layout(width="150px"))
            b.on_click(lambda _, k=kind: export(k))
            buttons.append(b)
        show = W.Button(description="Show code", icon="code", layout=W.Layout(width="120px"))
        show.on_click(show_code)
        return W.VBox([W.HBox([*buttons, show, out]), code])

    def code_for(self, view: View) -> str:
        """A snippet reproducing ``view`` with the library, for the current model and data."""
        name = self.model_name.value.strip() or DEFAULT_MODEL
        model_arg = "" if name == DEFAULT_MODEL else repr(name)
        return view.code.format(model=model_arg, data=self.data.code())

    # --- messages ---------------------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.message.value = f"<div style='color:#b00;padding:4px'>⚠ {html.escape(text)}</div>"

    def show_message(self, text: str) -> None:
        self.message.value = f"<div style='color:#333;padding:4px'>{html.escape(text)}</div>"

    @staticmethod
    def _waiting(view: View) -> str:
        return f"<i>{html.escape(view.title)}: waiting for a model and data…</i>"
