"""The attentiveness widget: how much next-token mass lands on the valid choices, by format and
number of demonstrations, where the rest goes, and from which layer on. A thin view: the numbers
come from :mod:`explorer.probes.attentiveness`, :mod:`explorer.probes.layers` and
:mod:`explorer.metrics.attentiveness`."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C
from explorer.errors import ExplorerError
from explorer.items.item import Item
from explorer.metrics.attentiveness import summarize_attentiveness
from explorer.models.handle import LoadedModel
from explorer.probes.attentiveness import attentiveness
from explorer.probes.layers import layer_pma
from explorer.prompts.format import get_format
from widgets._runner import Debouncer, Job, Runner, in_chunks
from widgets._plot import model_lock, refresh
from widgets._state import SharedState
from widgets.figures import attentiveness as F
from widgets.figures.groups import group_bars

FORMATS = ["letters", "string", "cloze"]
EDITED = "✎ edited"
GROUP_METRICS = [("mass on the choices (PMA)", "pma_mean"), ("accuracy", "accuracy"),
                 ("resolved (SFC bound)", "resolved_share"), ("greedy token invalid", "invalid_share")]
NO_GROUP = ("(no grouping)", "")


def parse_item(question: str, choices_text: str) -> Item:
    """An item from the edit box: one choice per line, the gold one marked with a leading ``*``."""
    lines = [ln.strip() for ln in choices_text.splitlines() if ln.strip()]
    gold = [n for n, ln in enumerate(lines) if ln.startswith("*")]
    if len(gold) > 1:
        raise ExplorerError("mark at most one choice as gold with a leading *")
    return Item(id=EDITED, question=question.strip(), choices=tuple(ln.lstrip("*").strip() for ln in lines),
                answer=gold[0] if gold else None)


class AttentivenessWidget:
    """Format toggles and a demonstrations slider; per-item stacked bars of the mass on each choice
    against the top invalid tokens; PMA against correctness; the layer curve; per-group bars ("group
    by" any metadata column, e.g. subject) against the pooled value; an editable item.

    Give a model and items (scored as the controls change), or scored rows (``frame=``, e.g. a
    finished run's): then the controls pick among the rows' formats and shots, nothing is
    re-scored, and the views that need the model (layer curve, editing) stay empty."""

    def __init__(self, model: LoadedModel | None = None, items: Sequence[Item] = (), *,
                 frame: pd.DataFrame | None = None, pool: Sequence[Item] = (), state: SharedState | None = None,
                 max_shots: int = 4, seed: int = 0, chunk_size: int = 8, layer_items: int = 16,
                 run: bool = True) -> None:
        if frame is None and (model is None or not items):
            raise ValueError("give a model and items to score, or scored attentiveness rows (frame=)")
        self.model, self.items, self.pool = model, list(items), list(pool)
        self.scored = frame
        ids = [i.id for i in self.items] if frame is None else pd.unique(frame[C.ITEM_ID]).tolist()
        self._k_max = max(i.k for i in self.items) if frame is None else int(frame[C.K].max())
        self.state = state if state is not None else SharedState()
        self.seed, self.chunk_size, self.layer_items = seed, chunk_size, layer_items
        self.rows = pd.DataFrame(columns=C.ATTENTIVENESS_COLUMNS)
        self.layers = pd.DataFrame(columns=C.LAYER_PMA_COLUMNS)
        self.edited_rows = self.rows
        self.edited_layers = self.layers
        formats = FORMATS if frame is None else pd.unique(frame[C.FORMAT]).tolist()
        self.format = W.ToggleButtons(options=formats, value=formats[0], description="format")
        top = min(max_shots, len(self.pool)) if frame is None else int(frame[C.SHOTS].max())
        self.shots = W.IntSlider(value=0 if frame is None else int(frame[C.SHOTS].min()), min=0, max=top,
                                 description="demos", disabled=top == 0)
        self.item = W.Dropdown(options=ids, description="item")
        self.group = W.Dropdown(options=[NO_GROUP], value="", description="group by")
        self.metric = W.Dropdown(options=GROUP_METRICS, value="pma_mean", description="metric")
        self.question = W.Text(description="question", layout=W.Layout(width="520px"))
        self.choices = W.Textarea(description="choices", placeholder="one per line; mark the gold one with *",
                                  layout=W.Layout(width="520px", height="110px"))
        self.headline, self.edit_note = W.HTML(), W.HTML()
        self.runner, self.item_runner = Runner("items"), Runner("edited item")
        self.bars_fig = go.FigureWidget(self._bars())
        self.scatter_fig = go.FigureWidget(F.pma_scatter(self.rows))
        self.layer_fig = go.FigureWidget(F.layer_curve(self.layers))
        self.group_fig = go.FigureWidget(group_bars(pd.DataFrame(), None, "pma_mean", None))
        for trace in self.scatter_fig.data[:3]:
            trace.on_click(self._point_clicked)
        self.debounce = Debouncer(self.run_edited, wait=0.5)
        self._filling = False
        for control in (self.format, self.shots):
            control.observe(lambda _: self.run(), "value")
        for control in (self.group, self.metric):
            control.observe(lambda _: self._show_groups(), "value")
        for box in (self.question, self.choices):
            box.observe(self._typed, "value")
        self.item.observe(lambda ch: setattr(self.state, "selected_item", ch["new"] or ""), "value")
        self.state.observe(self._selected, "selected_item")
        if frame is None:
            self.state.observe(lambda _: self.run(), ["heads", "apply_intervention"])
        edit = W.VBox([W.HTML("<b>Edit an item</b> — re-scored as you type"), self.question, self.choices,
                       self.item_runner.widget, self.edit_note],
                      layout=W.Layout(display="none" if frame is not None else None))
        self.widget = W.VBox([W.HBox([self.format, self.shots]), self.runner.widget, self.headline,
                              self.bars_fig, W.HBox([self.scatter_fig, self.layer_fig]),
                              W.HBox([self.group, self.metric]), self.group_fig, self.item, edit])
        start = self.state.selected_item if self.state.selected_item in self.item.options else ids[0]
        self.item.value = start
        if frame is None:
            self._fill(start)
        if run or frame is not None:
            self.run()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        display(self.widget)

    # --- work -------------------------------------------------------------------------------------
    def options(self) -> dict:
        return dict(fmt=self.format.value, shots=self.shots.value, seed=self.seed, pool=self.pool)

    def run(self) -> Job | None:
        """Score every item under the current format and shots in the background, streamed per chunk;
        then the layer curve of the first ``layer_items`` items. Re-scores the edited item too.
        With scored rows (``frame=``): show the rows of the current format and shots (first seed)."""
        if self.scored is not None:
            f = self.scored
            rows = f[(f[C.FORMAT] == self.format.value) & (f[C.SHOTS] == self.shots.value)]
            if rows.empty:
                self.headline.value = (f"<i>the rows hold no {html.escape(self.format.value)} prompts with "
                                       f"{self.shots.value} demonstrations</i>")
                return None
            self._show((rows[rows[C.SEED] == rows[C.SEED].min()].reset_index(drop=True), self.layers))
            return None
        options = self.options()
        job = self.runner.start(lambda job: self._work(job, self.items, options, self.layer_items),
                                on_result=self._show, on_partial=lambda rows: self._show((rows, None)))
        if self.edited_rows is not None and len(self.edited_rows):
            self.run_edited()
        return job

    def run_edited(self) -> Job | None:
        """Score the item in the edit box (called by the debouncer)."""
        try:
            item = parse_item(self.question.value, self.choices.value)
            get_format(self.format.value).check(item)
        except ExplorerError as e:
            self.edit_note.value = f"<span style='color:#b00'>{html.escape(str(e))}</span>"
            return None
        self.edit_note.value = ""
        options = self.options()
        return self.item_runner.start(lambda job: self._work(job, [item], options, 1), on_result=self._show_edited)

    def _work(self, job: Job, items: list[Item], o: dict, n_layer: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        lock = model_lock(self.model)
        chunks, frames = in_chunks(items, self.chunk_size), []
        steps = len(chunks) + 1
        for n, chunk in enumerate(chunks):
            with lock, self.state.intervention(self.model):
                frames.append(attentiveness(self.model, chunk, [o["fmt"]], shots=[o["shots"]], seeds=[o["seed"]],
                                            pool=o["pool"], cancel=job.cancelled,
                                            progress=lambda d, t, n=n: job.progress(100 * n + 100 * d // max(t, 1),
                                                                                    100 * steps)))
            if n < len(chunks) - 1:
                job.emit(pd.concat(frames, ignore_index=True))
        with lock, self.state.intervention(self.model):
            layers = layer_pma(self.model, items[:n_layer], o["fmt"], shots=o["shots"], pool=o["pool"],
                               seed=o["seed"], cancel=job.cancelled)
        return pd.concat(frames, ignore_index=True), layers

    # --- views ------------------------------------------------------------------------------------
    def _bars(self) -> go.Figure:
        both = pd.concat([self.edited_rows, self.rows], ignore_index=True) if len(self.edited_rows) else self.rows
        k_max = max([self._k_max] + [int(k) for k in self.edited_rows[C.K]])
        return F.mass_bars(both, k_max=k_max, labels=get_format(self.format.value).labels
                           if self.format.value == "letters" else ())

    def _show(self, result: tuple[pd.DataFrame, pd.DataFrame | None]) -> None:
        rows, layers = result
        self.rows = rows
        refresh(self.bars_fig, self._bars())
        refresh(self.scatter_fig, F.pma_scatter(rows))
        self.group.options = [NO_GROUP, *((c, c) for c in C.group_columns(rows))]
        self._show_groups()
        if layers is not None:
            self.layers = layers
            self._show_layers()
        s = summarize_attentiveness(rows, n_boot=200 if layers is not None else 0).iloc[0]
        acc = lambda v: "–" if pd.isna(v) else f"{v:.2f}"  # noqa: E731
        self.headline.value = (f"<b>{int(s['n_items'])}</b> items{'' if layers is not None else ' (so far)'} · "
                               f"PMA <b>{s['pma_mean']:.3f}</b> · accuracy <b>{acc(s['accuracy'])}</b> "
                               f"(PMI {acc(s['accuracy_pmi'])}, length-normalised {acc(s['accuracy_norm'])}) · "
                               f"resolved <b>{s['resolved_share']:.2f}</b> · greedy token invalid "
                               f"<b>{s['invalid_share']:.2f}</b>")

    def _show_groups(self) -> None:
        """Per-group bars of the chosen metric against its value over all items (from the kept rows)."""
        if self.rows.empty:
            return
        col, metric = self.group.value or None, self.metric.value
        pooled = summarize_attentiveness(self.rows, n_boot=0)[metric].iloc[0]
        table = summarize_attentiveness(self.rows, by=[col], n_boot=0) if col else pd.DataFrame()
        refresh(self.group_fig, group_bars(table, col, metric, None if pd.isna(pooled) else float(pooled)))

    def _show_edited(self, result: tuple[pd.DataFrame, pd.DataFrame]) -> None:
        self.edited_rows, self.edited_layers = result
        refresh(self.bars_fig, self._bars())
        self._show_layers()
        r = self.edited_rows.iloc[0]
        token = html.escape(repr(r[C.GREEDY_TOKEN]))
        self.edit_note.value = (f"PMA <b>{r[C.PMA]:.3f}</b> · greedy token <code>{token}"
                                f"</code> ({'valid' if r[C.GREEDY_VALID] else 'invalid'}) · resolved "
                                f"<b>{bool(r[C.RESOLVED])}</b><pre style='font-size:11px'>"
                                f"{html.escape(r[C.PROMPT])}</pre>")

    def _show_layers(self) -> None:
        extra = self.edited_layers if len(self.edited_layers) else None
        refresh(self.layer_fig, F.layer_curve(self.layers, self.state.selected_item, extra=extra))

    # --- selection and editing --------------------------------------------------------------------
    def _point_clicked(self, trace, points, _state) -> None:
        if points.point_inds:
            self.state.selected_item = str(trace.customdata[points.point_inds[0]])

    def _selected(self, change) -> None:
        if change["new"] in self.item.options:
            if self.item.value != change["new"]:
                self.item.value = change["new"]
            if self.scored is None:
                self._fill(change["new"])
            self.edited_rows, self.edited_layers = self.rows.iloc[0:0], self.layers.iloc[0:0]
            refresh(self.bars_fig, self._bars())
            self._show_layers()

    def _fill(self, item_id: str) -> None:
        item = next(i for i in self.items if i.id == item_id)
        self._filling = True
        try:
            self.question.value = item.question
            self.choices.value = "\n".join(("*" if n == item.answer else "") + c for n, c in enumerate(item.choices))
        finally:
            self._filling = False

    def _typed(self, _change) -> None:
        if not self._filling:
            self.debounce()
