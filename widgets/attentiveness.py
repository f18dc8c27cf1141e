"""The attentiveness widget: how much next-token mass lands on the valid choices, by format and
number of demonstrations, where the rest goes, and from which layer on. A thin view: the numbers
come from :mod:`explorer.probes.attentiveness`, :mod:`explorer.probes.layers` and
:mod:`explorer.metrics.attentiveness`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C
from explorer.errors import ExplorerError
from explorer.items.item import Item
from explorer.metrics.attentiveness import summarize_attentiveness
from explorer.prompts.format import get_format
from explorer.serve.calls import run
from widgets._plot import refresh
from widgets._runner import Debouncer, Job, Runner, in_chunks
from widgets._setup import Setup
from widgets._state import SharedState
from widgets._text import esc
from widgets._view import ProbeView, fig_widget, given_code, side_by_side
from widgets.figures import attentiveness as F
from widgets.figures.groups import group_bars
from widgets.glossary import term
from widgets.specs import ATTENTIVENESS_NUMBERS, AttentivenessSpec

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

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


class AttentivenessWidget(ProbeView):
    """Format toggles and a demonstrations slider; per-item stacked bars of the mass on each choice
    against the top invalid tokens; PMA against correctness; the layer curve (the mean over the first
    ``layer_items`` items, and the selected item's, computed for whichever item is selected); per-group
    bars ("group by" any metadata column, e.g. subject) against the pooled value; an editable item.

    Give a model and items (scored as the controls change), or scored rows (``frame=``, e.g. a finished
    run's, with ``frame_code``: the expression that loads them, for "Show code"): then the controls pick
    among the rows' formats and shots (first seed), nothing is scored, and what needs the model (layer
    curve, editing) stays empty."""

    TERMS = ("PMA", "accuracy", "PMI", "length-normalised", "resolved", "greedy token invalid")

    def __init__(self, model: LoadedModel | None = None, items: Sequence[Item] = (), *,
                 frame: pd.DataFrame | None = None, frame_code: str | None = None, pool: Sequence[Item] = (),
                 state: SharedState | None = None, setup: Setup | None = None, max_shots: int = 4, seed: int = 0,
                 chunk_size: int = 8, layer_items: int = 16, run: bool = True) -> None:
        self.model, self.items, self.pool = model, list(items), list(pool)
        self._init_view(state, setup, "items")
        self.scored, self.given = frame, given_code(frame, frame_code, "AttentivenessWidget")
        self.seed, self.chunk_size, self.layer_items = seed, chunk_size, layer_items
        self.rows = pd.DataFrame(columns=C.ATTENTIVENESS_COLUMNS)
        self.layers = pd.DataFrame(columns=C.LAYER_PMA_COLUMNS)
        self.numbers: dict = {}
        self._layer_memo: dict[tuple, pd.DataFrame] = {}  # (model, heads, options, item) -> its layer rows
        self.edited_rows = self.rows
        self.edited_layers = self.layers
        formats = FORMATS if frame is None else [str(f) for f in pd.unique(frame[C.FORMAT])]
        self.format = W.ToggleButtons(options=formats, value=formats[0], description="format",
                                      style={"button_width": "auto"})
        top = min(max_shots, len(self.pool)) if frame is None else int(frame[C.SHOTS].max())
        self.shots = W.IntSlider(value=0 if frame is None else int(frame[C.SHOTS].min()), min=0, max=top,
                                 description="demos", disabled=top == 0)
        self.shots_hint = W.HTML("" if top else "<span style='color:#777;font-size:11px' title='demonstrations "
                                 "need a pool of items kept apart from the scored ones (pool=...)'>demos off: no "
                                 "demonstration pool</span>")
        self.item = W.Dropdown(options=self.item_ids(), description="item")
        self.group = W.Dropdown(options=[NO_GROUP], value="", description="group by")
        self.metric = W.Dropdown(options=GROUP_METRICS, value="pma_mean", description="metric")
        self.question = W.Text(description="question", layout=W.Layout(width="95%"))
        self.choices = W.Textarea(description="choices", placeholder="one per line; mark the gold one with *",
                                  layout=W.Layout(width="95%", height="110px"))
        self.headline, self.edit_note = W.HTML(), W.HTML()
        self.item_runner, self.layer_runner = Runner("edited item"), Runner("layer curve")
        self.bars_fig = fig_widget(self._bars())
        self.scatter_fig = fig_widget(F.pma_scatter(self.rows))
        self.layer_fig = fig_widget(F.layer_curve(self.layers))
        self.group_fig = fig_widget(group_bars(pd.DataFrame(), None, "pma_mean", None))
        self.figures = [self.bars_fig, self.scatter_fig, self.layer_fig, self.group_fig]
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
        edit = W.VBox([W.HTML("<b>Try an edited item</b> — scored as you type, shown beside the others (the data "
                              "set is unchanged)"), self.question, self.choices, self.item_runner.widget,
                       self.edit_note], layout=W.Layout(display="none" if frame is not None else None))
        self.results = W.VBox([self.headline, self.bars_fig,
                               side_by_side((self.scatter_fig, 50), (self.layer_fig, 50)),
                               self.layer_runner.widget, W.HBox([self.group, self.metric]), self.group_fig])
        self.widget = W.VBox([self.style, W.HBox([self.format, self.shots, self.shots_hint],
                                                 layout=W.Layout(flex_flow="row wrap")),
                              self.runner.widget, self.banner, self.note, self.numbers_tag, self.results, self.item,
                              edit,
                              self.caption])
        if self.item.options:
            start = self._item_shown() or self.item.options[0]
            self.item.value = start
            if frame is None:
                self._fill(start)
        if frame is not None or (run and model is not None):
            self.run()

    # --- work -------------------------------------------------------------------------------------
    def spec(self) -> AttentivenessSpec:
        return AttentivenessSpec(setup=self.current_setup(self.items), heads={} if self.given else self.state.applied(),
                                 fmt=self.format.value, shots=self.shots.value, seed=self.seed, pool=tuple(self.pool),
                                 group=self.group.value, metric=self.metric.value, given=self.given)

    def options(self) -> dict:
        return dict(fmt=self.format.value, shots=self.shots.value, seed=self.seed, pool=self.pool)

    def _offer_items(self) -> None:
        """The item menu lists the new items; the chosen item stays when it is still there."""
        keep, ids = self.item.value, self.item_ids()
        self.item.options = ids
        self.item.value = keep if keep in ids else (ids[0] if ids else None)

    def run(self) -> Job | None:
        """Score every item under the current format and shots in the background, streamed per chunk;
        then the layer curves. Re-scores the edited item too. Given rows: show those of the current
        format and shots (their first seed)."""
        spec, items = self.spec(), list(self.items)
        if self.scored is not None:
            self._pick_rows(spec)
            return None
        selected = self._item_shown()
        job = self.start(spec, lambda job: self._work(job, spec, items, selected))
        if self.edited_rows is not None and len(self.edited_rows):
            self.run_edited()
        return job

    def _pick_rows(self, spec: AttentivenessSpec) -> None:
        f = self.scored
        rows = f[(f[C.FORMAT] == spec.fmt) & (f[C.SHOTS] == spec.shots)]
        if rows.empty:
            self._failed(LookupError(f"the rows hold no {spec.fmt} prompts with {spec.shots} demonstrations"), spec)
            return
        self._arrive((rows[rows[C.SEED] == rows[C.SEED].min()].reset_index(drop=True), None), spec, True)

    def run_edited(self) -> Job | None:
        """Score the item in the edit box (called by the debouncer)."""
        try:
            item = parse_item(self.question.value, self.choices.value)
            get_format(self.format.value).check(item)
        except ExplorerError as e:
            self.edit_note.value = f"<span style='color:#b00'>{esc(str(e))}</span>"
            return None
        self.edit_note.value = "<i>scoring the edited item…</i>"
        spec = self.spec()
        return self.item_runner.start(lambda job: self._score(job, spec, [item], [item]),
                                      on_result=self._show_edited)

    def _work(self, job: Job, spec: AttentivenessSpec, items: list[Item], selected: str
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
        layer_items = items[: self.layer_items] + [i for i in items[self.layer_items:] if i.id == selected]
        return self._score(job, spec, items, layer_items)

    def _score(self, job: Job, spec: AttentivenessSpec, items: list[Item], layer_items: list[Item]
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Rows of every item (emitted per chunk), then the layer rows of ``layer_items`` (memoised)."""
        chunks, frames = in_chunks(items, self.chunk_size), []
        steps = len(chunks) + 1
        for n, chunk in enumerate(chunks):
            frames.append(run(self.model, "attentiveness", chunk, [spec.fmt], heads=spec.heads, shots=[spec.shots],
                              seeds=[spec.seed], pool=list(spec.pool), cancel=job.cancelled,
                              batch_size=self.rows_per_pass(),
                              progress=lambda d, t, n=n: job.progress(100 * n + 100 * d // max(t, 1), 100 * steps)))
            job.emit((pd.concat(frames, ignore_index=True), None))
        layers = self._layers(job, spec, layer_items)
        job.progress(100 * steps, 100 * steps)
        return pd.concat(frames, ignore_index=True), layers

    def _layers(self, job: Job, spec: AttentivenessSpec, items: list[Item]) -> pd.DataFrame:
        """Layer rows of ``items``, computed once per (model, intervention, options, item content)."""
        from explorer.interventions.describe import describe_heads  # noqa: PLC0415

        base = (id(self.model), self.model.fingerprint, describe_heads(spec.heads) if spec.heads else "",
                spec.fmt, spec.shots, spec.seed, tuple(i.id for i in spec.pool))
        key = lambda i: (*base, i.id, i.question, i.choices, i.answer)  # noqa: E731
        missing = [i for i in items if key(i) not in self._layer_memo]
        if missing:
            rows = run(self.model, "layer_pma", missing, spec.fmt, heads=spec.heads, shots=spec.shots,
                       pool=list(spec.pool), seed=spec.seed, cancel=job.cancelled, **self.pass_budget())
            for i in missing:
                self._layer_memo[key(i)] = rows[rows[C.ITEM_ID] == i.id]
        parts = [self._layer_memo[key(i)] for i in items]
        return pd.concat(parts, ignore_index=True) if parts else self.layers.iloc[0:0]

    # --- views ------------------------------------------------------------------------------------
    def _bars(self) -> go.Figure:
        both = pd.concat([self.edited_rows, self.rows], ignore_index=True) if len(self.edited_rows) else self.rows
        ks = [i.k for i in self.items] if self.scored is None else [int(self.scored[C.K].max())]
        k_max = max(ks + [int(k) for k in self.edited_rows[C.K]] + [2])
        choices = {i.id: i.choices for i in self.items}
        if len(self.edited_rows):
            edited = parse_item(self.question.value, self.choices.value) if self.choices.value.strip() else None
            if edited is not None:
                choices[EDITED] = edited.choices
        return F.mass_bars(both, k_max=k_max, labels=get_format(self.format.value).labels
                           if self.format.value == "letters" else (), choices=choices)

    def _show(self, result: tuple[pd.DataFrame, pd.DataFrame | None], spec: AttentivenessSpec, final: bool) -> None:
        rows, layers = result
        self.rows = rows
        refresh(self.bars_fig, self._bars())
        refresh(self.scatter_fig, F.pma_scatter(rows))
        options = [NO_GROUP, *((c, c) for c in C.group_columns(rows))]
        if list(self.group.options) != options:
            self.group.options = options
        self._show_groups()
        if layers is not None:
            self.layers = layers
            self._show_layers()
        s = summarize_attentiveness(rows, n_boot=200 if final else 0).iloc[0]
        self.numbers = {key: float(s[key]) for key in ATTENTIVENESS_NUMBERS}
        acc = lambda v: "–" if pd.isna(v) else f"{v:.2f}"  # noqa: E731
        self.headline.value = (f"<b>{int(s['n_items'])}</b> items{'' if final else ' (so far)'} · "
                               f"{term('PMA')} <b>{s['pma_mean']:.3f}</b> · {term('accuracy')} "
                               f"<b>{acc(s['accuracy'])}</b> ({term('PMI')} {acc(s['accuracy_pmi'])}, "
                               f"{term('length-normalised')} {acc(s['accuracy_norm'])}) · {term('resolved')} "
                               f"<b>{s['resolved_share']:.2f}</b> · {term('greedy token invalid')} "
                               f"<b>{s['invalid_share']:.2f}</b>")

    def shown_numbers(self) -> dict:
        bars = self.group_fig.data[0]
        group = {f"{self.metric.value} by {self.group.value}": dict(zip(bars.x, bars.y))} if self.group.value else {}
        return {**self.numbers, **group}

    def _clear(self) -> None:
        self.rows, self.layers, self.numbers = self.rows.iloc[0:0], self.layers.iloc[0:0], {}
        refresh(self.bars_fig, self._bars())
        refresh(self.scatter_fig, F.pma_scatter(self.rows))
        refresh(self.layer_fig, F.layer_curve(self.layers))
        refresh(self.group_fig, group_bars(pd.DataFrame(), None, self.metric.value, None))
        self.headline.value = ""

    def _partial_count(self) -> str:
        return f" ({self.rows[C.ITEM_ID].nunique()} of {len(self.item_ids())} items scored)"

    def _show_groups(self) -> None:
        """Per-group bars of the chosen metric against its value over all items (from the kept rows)."""
        if self.rows.empty:
            return
        col, metric = self.group.value or None, self.metric.value
        pooled = summarize_attentiveness(self.rows, n_boot=0)[metric].iloc[0]
        table = summarize_attentiveness(self.rows, by=[col], n_boot=0) if col else pd.DataFrame()
        refresh(self.group_fig, group_bars(table, col, metric, None if pd.isna(pooled) else float(pooled)))
        self.redraw_spec(group=self.group.value, metric=metric)

    def _show_edited(self, result: tuple[pd.DataFrame, pd.DataFrame]) -> None:
        self.edited_rows, self.edited_layers = result
        refresh(self.bars_fig, self._bars())
        self._show_layers()
        r = self.edited_rows.iloc[0]
        token = esc(repr(r[C.GREEDY_TOKEN]))
        self.edit_note.value = (f"{term('PMA')} <b>{r[C.PMA]:.3f}</b> · greedy token <code>{token}"
                                f"</code> ({'valid' if r[C.GREEDY_VALID] else 'invalid'}) · {term('resolved')} "
                                f"<b>{bool(r[C.RESOLVED])}</b><pre style='font-size:11px'>"
                                f"{esc(r[C.PROMPT])}</pre>")

    def _show_layers(self) -> None:
        extra = self.edited_layers if len(self.edited_layers) else None
        n_mean = min(self.layer_items, len(self.items))
        refresh(self.layer_fig, F.layer_curve(self.layers, self._item_shown(), extra=extra, n_mean=n_mean))

    def _layer_for(self, item_id: str) -> None:
        """Draw the selected item's layer curve, computing it first when it is not among those computed."""
        if self.shown is None or self.model is None or item_id in set(self.layers[C.ITEM_ID]):
            self._show_layers()
            return
        spec, item = self.shown, next(i for i in self.items if i.id == item_id)

        def done(rows: pd.DataFrame) -> None:
            if self.shown == spec:
                self.layers = pd.concat([self.layers, rows], ignore_index=True)
                self._show_layers()

        self.layer_runner.start(lambda job: self._layers(job, spec, [item]), on_result=done)

    # --- selection and editing --------------------------------------------------------------------
    def _point_clicked(self, trace, points, _state) -> None:
        if points.point_inds:
            self.state.selected_item = str(trace.customdata[points.point_inds[0]])

    def _selected(self, change) -> None:
        """Follow a selection made elsewhere, if this view has that item (else keep its own)."""
        if change["new"] in self.item.options:
            if self.item.value != change["new"]:
                self.item.value = change["new"]
            if self.scored is None:
                self._fill(change["new"])
            self.edited_rows, self.edited_layers = self.rows.iloc[0:0], self.layers.iloc[0:0]
            self.edit_note.value = ""
            refresh(self.bars_fig, self._bars())
            self._layer_for(change["new"])

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
