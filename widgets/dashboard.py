"""The explorer dashboard: one model, one data set (built-in, a hub benchmark or an upload), every probe
view, linked.

The frame (controls, tabs, a progress line) is built before torch is imported, and every tab's view on the
kernel's main thread, empty, while the model loads (served, just after the frame is on the page); the model and
the items are then handed to the open tab (the others get them when opened). A change of data (a new set, or
one edited item) is handed to the views without rebuilding them: every control stays, and the engine's result cache makes unchanged items free. A
selected item is selected in every view that has it (``SharedState.selected_item``); head scaling set
in the Heads tab applies to the others when its switch is on, and each of them says so in a banner.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from explorer.errors import ExplorerError, ModelLoadError
from explorer.items.item import Item
from explorer.models.names import DEFAULT_MODEL, canonical
from explorer.models.registry import ModelRegistry
from explorer.serve import Policy, current_policy
from explorer.serve.remote import host_loader
from widgets._runner import Job, Runner
from widgets._setup import Setup
from widgets._shown import Shown
from widgets._state import SharedState
from widgets._text import esc, one_line
from widgets.data_panel import DataPanel
from widgets.export import export_bar
from widgets.registry import VIEWS, View
from widgets.run_view import RunView
from widgets.side_by_side import MAX_MODELS, Compared, header_html, linked_state, model_list, panel

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel


SHOWN_TIMEOUT_S = 10.0  # a page that has not shown the frame by then gets its model loading anyway


class Dashboard:
    """The app behind ``notebooks/explorer.ipynb``; ``Dashboard().widget`` is what Voila shows.

    ``policy``: what may be loaded (:class:`~explorer.serve.Policy`); by default the one
    :func:`~explorer.serve.current_policy` finds: open in a notebook, served under Voila. The frame is built
    before torch is imported; the model loads in the background (in a kernel Voila pre-heats for a page not
    yet opened, once a page takes it, so a spare kernel holds no model); beside a model host (``explorer.serve.
    host``: the demo, Binder) it loads there, shared by every page, and the kernel never imports torch.
    ``frame_first`` (default: when served): the tabs' views are built just after the frame is on the page."""

    def __init__(self, *, model: str | None = None, dataset: str = "capitals", n_items: int = 12,
                 start: bool = True, run: str | None = None, policy: Policy | None = None,
                 frame_first: bool | None = None) -> None:
        self.policy = policy if policy is not None else current_policy()
        self.state = SharedState()
        self.models = ModelRegistry(host_loader(), capacity=self.policy.max_models)  # one copy per checkpoint
        self.model: LoadedModel | None = None
        self.model_spec: str | None = None  # the load_model argument of the model in use (None: the bundled one)
        self.static = None  # the static copy of the figures, once displayed in a notebook (not under Voila)
        model = model or os.environ.get("LM_EXPLORER_MODEL") or DEFAULT_MODEL  # `lm-explorer demo --model` sets it
        self.model_name = W.Combobox(value=model, options=self.policy.model_choices(), description="model",
                                     placeholder="alias, folder, .gguf or hub id" if self.policy.any_model else
                                     "a model this dashboard offers", ensure_option=False)
        self.load_button = W.Button(description="Load model", layout=W.Layout(width="auto"))
        self.load_button.on_click(lambda _: self.load())
        self.message = W.HTML()
        self.message.add_class("lmx-message")
        self.runner = Runner("model")
        self.data = DataPanel(self.state, self._items_changed, self.show_error, dataset=dataset, n_items=n_items,
                              policy=self.policy)
        self.views: dict[str, Any] = {}  # view key -> its widget, once built
        self._given: dict[str, tuple] = {}  # view key -> (model, items, setup) it was last configured with
        self._built = threading.Event()
        self.data.widget.add_class("lmx-data")
        # the frame is on the page once the open tab's placeholder is drawn: the tab bar is drawn with it
        self.shown = Shown()  # served: the views and the model follow it
        self.shown.then(self._release)
        self._released = False  # frame_first: whether the views may go into their tabs yet
        self._opened = {VIEWS[0].key}  # the tabs opened so far
        waiting = [W.VBox([W.HTML(f"<i>preparing the {esc(v.title)} view…</i>"), *([self.shown] if n == 0 else [])])
                   for n, v in enumerate(VIEWS)]
        self.tabs = W.Tab(children=waiting, titles=[v.title for v in VIEWS], selected_index=0)
        self.tabs.observe(lambda _: self._show_tab(), "selected_index")
        title = W.HTML("<h2 style='margin:4px 0'>lm-explorer</h2>"
                       "<span>How does the model answer multiple-choice questions? Pick a model and data, "
                       "then open a tab. Hover a term with a dotted underline for its definition.</span>")
        self.runs = RunView(run or "", state=self.state, policy=self.policy)  # a finished run's scores, no model
        runs = W.Accordion(children=[self.runs.widget], titles=["Open a finished run (no model needed)"],
                           selected_index=0 if run else None)
        self._boxes: dict[str, W.HBox] = {}  # view key -> its tab's content (a row of panels, one per model), once built
        self.compared: dict[str, Compared] = {}  # models shown beside the one in use, by name (widgets.side_by_side)
        self.compare_name = W.Combobox(value="", options=self.policy.model_choices(), description="compare with",
                                       placeholder="another model, shown beside", ensure_option=False,
                                       style={"description_width": "initial"})
        self.compare_button = W.Button(description="Add model", layout=W.Layout(width="auto"))
        self.compare_button.on_click(lambda _: self.add_model())
        self.model_row = W.HBox([], layout=W.Layout(flex_flow="row wrap"))
        comparing = self.policy.max_models is None or self.policy.max_models > 1  # served: one model in memory
        self.compare_row = W.HBox([self.compare_name, self.compare_button, self.model_row],
                                  layout=W.Layout(flex_flow="row wrap", display=None if comparing else "none"))
        self.widget = W.VBox([title, W.HBox([self.model_name, self.load_button, self.runner.widget],
                                            layout=W.Layout(flex_flow="row wrap")), self.compare_row, self.message,
                              self.data.widget, self.tabs, runs], layout=W.Layout(width="100%"))
        loop = self._loop = _kernel_loop() if (frame_first if frame_first is not None else self.policy.served) else None
        self.frame_first = loop is not None  # in a kernel, served (or asked): the frame reaches the page first
        if loop is None:
            for v in VIEWS:
                self._build_view(v)
            self._views_built()
        else:
            threading.Thread(target=self._prepare_views, args=(loop,), daemon=True, name="lm-explorer-views").start()
        if start:
            self.start()

    # --- the views --------------------------------------------------------------------------------
    def _prepare_views(self, loop: asyncio.AbstractEventLoop) -> None:
        """Import the views' modules here (seconds: plotly's widget, scipy), then build each view on the kernel's
        main thread between its messages: the page shows the frame meanwhile, and no widget is ever created
        while the kernel sends a page the state of every widget."""
        try:
            for v in VIEWS:
                v.prepare()
        finally:
            for v in VIEWS:
                loop.call_soon_threadsafe(self._build_view, v)
            loop.call_soon_threadsafe(self._views_built)

    def _new_view(self, v: View, state: SharedState) -> Any:
        """An empty view of ``v`` (the policy's pass budget), waiting for a model and data."""
        widget = v.build(state)
        widget.token_budget = self.policy.token_budget
        widget.note.value = "<i>waiting for the model and the data…</i>"
        return widget

    def _build_view(self, v: View) -> None:
        widget = self.views[v.key] = self._new_view(v, self.state)
        first = panel("", 0, (export_bar(v, widget), widget.widget))
        first.children[0].layout.display = "none"  # the model's header: shown once another model is beside it
        self._boxes[v.key] = W.HBox([first], layout=W.Layout(width="100%", align_items="flex-start"))
        self._attach()

    def _attach(self) -> None:
        """Put the built views in their tabs. With ``frame_first`` only once the page shows the frame
        (:meth:`_release`), and only the tabs opened so far: a page drawing a few hundred widgets and a dozen plots
        at once would show its frame, or answer a click, seconds later; each other tab's view is drawn when opened."""
        if self.frame_first and not self._released:
            return
        for key, row in self._boxes.items():  # into each tab's own box: the tab bar is not drawn again
            page = self.tabs.children[[v.key for v in VIEWS].index(key)]
            if not self.frame_first or key in self._opened:
                if page.children != (row,):
                    page.children = (row,)
                page.add_class(f"lmx-view-{key}")  # for styling and the browser test
                self._fill_row(key)

    def _fill_row(self, key: str) -> None:
        """A tab's row: the model in use, then a panel per compared model (built when the tab is first opened
        with it). Panels are only ever added to the row, and a removed model's hidden: the page then never
        draws a figure again (plotly's widget leaves a redrawn figure's old view listening to its model)."""
        row = self._boxes[key]
        first = row.children[0]
        first.children[0].value = header_html(self.model.name if self.model is not None else "", 0)
        first.children[0].layout.display = None if self.compared else "none"
        if key not in self._opened:
            return
        v = next(v for v in VIEWS if v.key == key)
        for c in self.compared.values():
            if key not in c.panels:
                c.views[key] = widget = self._new_view(v, c.state)
                c.panels[key] = panel(c.model.name, c.slot, (export_bar(v, widget), widget.widget))
                row.children = (*row.children, c.panels[key])

    def _release(self) -> None:
        """The frame is on the page (or no page said so in time): the views may follow."""
        self._released = True
        self._attach()

    def _views_built(self) -> None:
        self._built.set()
        self._show_tab()

    def start(self) -> None:
        """Load the model named in the box: now in a notebook; served (``frame_first``), once the page shows
        the frame (:class:`~widgets._shown.Shown`, at most ``SHOWN_TIMEOUT_S`` later), so the page's request for
        the widgets' state is not kept waiting behind torch's import; in a kernel Voila pre-heated (a spare
        waiting for a page) only once a page has taken it, so a spare holds the frame but no model."""
        preheated = os.environ.get("VOILA_PREHEAT") == "True"
        if not (preheated or self.frame_first):
            self.load()
            return
        self.show_message("waiting for the page…")

        def when_shown() -> None:
            if preheated:
                from voila.utils import wait_for_request  # noqa: PLC0415 - only pre-heated Voila kernels get here

                wait_for_request()
            if not self.shown.wait(SHOWN_TIMEOUT_S) and self._loop is not None:
                self._loop.call_soon_threadsafe(self._release)
            self.load()

        threading.Thread(target=when_shown, daemon=True, name="lm-explorer-page").start()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        from widgets._static import StaticCopy, wanted  # noqa: PLC0415

        display(self.widget)
        if wanted() and self._built.is_set():  # a notebook (Voila pages run their widgets, and build views later)
            copy = self.static = StaticCopy(lambda: [(v.title, self.views[v.key].figures) for v in VIEWS
                                       if self.views[v.key].shown is not None])
            copy.show(now=not any(w.runner.busy for w in self.views.values()))
            for widget in self.views.values():
                widget.drawn_callbacks.append(copy.refresh)

    # --- model ------------------------------------------------------------------------------------
    def load(self) -> Job | None:
        """Load (or switch back to) the model named in the model box, off the message loop. Every alias of a
        checkpoint is one copy; a second click while a load runs waits for it rather than loading beside it;
        Cancel stops the load between its steps. Served, only the models the policy offers load, one at a time."""
        typed = self.model_name.value.strip() or DEFAULT_MODEL
        try:
            name = self.policy.check_model(typed)
        except ExplorerError as e:
            self.show_error(str(e) + self._in_use())
            return None
        if self.models.capacity is not None and self.models.get(name) is None:
            self._release_model()  # served: the old copy goes before the new one loads, so memory holds one
        self.show_message(f"loading {name}…")

        def work(job: Job) -> tuple[str, LoadedModel]:
            job.progress(0, 1)
            model = self.models.load(name, cancel=job.cancelled)
            job.progress(1, 1)
            return name, model

        def failed(e: BaseException) -> None:
            self.show_error((str(e) if isinstance(e, ModelLoadError) else f"could not load model {typed!r}: {e}")
                            + self._in_use())

        return self.runner.start(work, on_result=lambda r: self._model_loaded(r[1], r[0]), on_error=failed,
                                 on_cancel=lambda: self.show_message(f"cancelled loading {name}" + self._in_use()))

    def _in_use(self) -> str:
        return f"; the views keep using {self.model.name}" if self.model is not None else ""

    def _release_model(self) -> None:
        """Let go of the model in use everywhere (its memory is freed once no view holds it)."""
        old, self.model = self.model, None
        if old is None:
            return
        for key, widget in self.views.items():
            widget.runner.cancel()
            if getattr(widget, "model", None) is old:
                widget.model = None
            self._given.pop(key, None)

    def _model_loaded(self, model: LoadedModel, name: str | None = None) -> None:
        self.model = model
        self.model_spec = None if name is None or canonical(name) == canonical(DEFAULT_MODEL) else name
        info = model.info()
        self.show_message(f"{info['name']}: {info['architecture']}, {info['parameters']:,} parameters, "
                          f"{info['layers']} layers x {info['heads']} heads")
        if self.compared:
            self._models_changed()  # the first panel is this model's now
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
        if view.key not in self._opened:
            self._opened.add(view.key)
            self._attach()
        if view.key not in self.views:
            return  # being built: _views_built calls again
        self.views[view.key].fit()
        if self.model is None or not self.data.items:
            return
        self._hand(self.views[view.key], self._given, view.key, self.model, self.setup())
        for c in self.compared.values():
            widget = c.views.get(view.key)
            if widget is not None:
                widget.fit()
                self._hand(widget, c.given, view.key, c.model, self.data.setup(c.setup_spec))

    def _hand(self, widget: Any, given: dict[str, tuple], key: str, model: LoadedModel, setup: Setup) -> None:
        """Configure ``widget`` with ``model`` and the current items unless it already has them (``given``)."""
        now = (model, tuple(self.data.items), setup)
        if given.get(key) != now:
            given[key] = now
            widget.configure(model, list(self.data.items), setup)

    # --- models side by side ----------------------------------------------------------------------
    def add_model(self, name: str | None = None) -> Job | None:
        """Load the model named in the compare box (or ``name``) and show it beside the one in use in every
        tab, up to three models; off the message loop, cancellable like a load."""
        typed = (name if name is not None else self.compare_name.value).strip()
        try:
            if self.policy.max_models is not None and self.policy.max_models < 2:
                raise ExplorerError("this dashboard holds one model at a time (served within its memory)")
            if not typed:
                raise ExplorerError("name a model to compare with in the box")
            if self.model is None:
                raise ExplorerError("load the first model before comparing another with it")
            if len(self.compared) + 1 >= MAX_MODELS:
                raise ExplorerError(f"at most {MAX_MODELS} models side by side. Fix: remove one from the list first")
            spec = self.policy.check_model(typed)
        except ExplorerError as e:
            self.show_error(str(e))
            return None
        self.show_message(f"loading {spec} to compare…")

        def work(job: Job) -> LoadedModel:
            job.progress(0, 1)
            model = self.models.load(spec, cancel=job.cancelled)
            job.progress(1, 1)
            return model

        return self.runner.start(work, on_result=lambda m: self._compared_loaded(spec, m),
                                 on_error=lambda e: self.show_error(f"could not load model {typed!r}: {e}"),
                                 on_cancel=lambda: self.show_message(f"cancelled loading {spec}"))

    def _compared_loaded(self, spec: str, model: LoadedModel) -> None:
        if model.name in self.compared or (self.model is not None and model.name == self.model.name):
            self.show_error(f"{model.name} is already shown")
            return
        state, link = linked_state(self.state)
        taken = {c.slot for c in self.compared.values()}
        slot = min(n for n in range(1, MAX_MODELS) if n not in taken)  # its colour, kept while it is shown
        self.compared[model.name] = Compared(spec=spec, model=model, state=state, slot=slot, link=link)
        self.show_message(f"comparing {', '.join([self.model.name, *self.compared])}" if self.model else "")
        self._models_changed()

    def remove_model(self, name: str) -> None:
        """Stop showing ``name`` beside the model in use and let its copy go."""
        c = self.compared.pop(name, None)
        if c is None:
            return
        c.release()
        self.models.unload(c.spec)
        self._models_changed()
        gc.collect()

    def _models_changed(self) -> None:
        names = [(self.model.name if self.model is not None else "model", 0, False)]
        names += [(n, c.slot, True) for n, c in self.compared.items()]
        old = self.model_row.children
        self.model_row.children = model_list(names, self.remove_model) if self.compared else []
        for row in old:  # the previous list's tags and buttons
            for part in getattr(row, "children", ()):
                part.close()
            row.close()
        self._attach()
        self._show_tab()

    def build(self, view: View) -> Any:
        """The view's widget, handed the current model and items (for tests and scripts)."""
        if not self._built.wait(120):
            raise TimeoutError("the dashboard's views were not built within 120 s")
        self.tabs.selected_index = VIEWS.index(view)
        self._show_tab()
        return self.views[view.key]

    def code_for(self, view: View) -> str:
        """A snippet reproducing what ``view`` shows (its model, data, controls and intervention)."""
        return self.views[view.key].code()

    # --- messages ---------------------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.message.value = f"<div style='color:#b00;padding:4px'>⚠ {esc(one_line(text, 800))}</div>" if text else ""

    def show_message(self, text: str) -> None:
        self.message.value = f"<div style='color:#333;padding:4px'>{esc(one_line(text, 800))}</div>"


def _kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of the kernel running this code (None outside one: then everything is built at once)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
