"""The chain widget: two conditions compared item by item at each link of log p_vocab(gold) ->
p_vocab(gold) -> p_choices(gold) -> correct / Brier, so the link where they stop agreeing shows.

A thin view: the numbers come from :mod:`explorer.probes.chain` and :mod:`explorer.metrics.chain_summary`.
Give a model and items (the widget scores a comparison chosen from a menu), or a ready chain frame
(``frame=``, e.g. two models compared by :func:`explorer.probes.chain_probe`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from contextlib import nullcontext

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C
from explorer.items.item import Item
from explorer.metrics.chain_summary import chain_agreement, chain_means, conditions
from explorer.models.handle import LoadedModel
from explorer.probes.chain import Condition, chain_conditions, chain_probe
from explorer.prompts.demos import split_pool
from widgets._plot import model_lock, refresh
from widgets._runner import Job, Runner
from widgets._state import SharedState
from widgets.figures import chain as F

HEADS = "heads"  # the comparison that scales the heads set in the Heads view
COMPARISONS = {"letters vs cloze": dict(formats=["letters", "cloze"]),
               "letters vs string": dict(formats=["letters", "string"]),
               "0 vs 1 demonstration": dict(shots=[0, 1]),
               "heads scaled (Heads tab) vs not": HEADS}


class ChainWidget:
    """Controls (comparison; conditions A and B), per link a scatter of B against A over items with
    its rank correlation, the correlations along the chain, each condition's means, and the
    selected item's chain under A and B. Clicking a point selects its item everywhere."""

    def __init__(self, model: LoadedModel | None = None, items: Sequence[Item] = (), *,
                 frame: pd.DataFrame | None = None, pool: Sequence[Item] = (), state: SharedState | None = None,
                 comparison: str = "letters vs cloze", run: bool = True) -> None:
        if frame is None and (model is None or not items):
            raise ValueError("give a model and items to score, or a chain frame (frame=)")
        self.model, self.items, self.pool = model, list(items), list(pool)
        self.state = state if state is not None else SharedState()
        self.frame = frame if frame is not None else pd.DataFrame(columns=C.CHAIN_COLUMNS)
        self.agreement = pd.DataFrame(columns=C.CHAIN_AGREEMENT_COLUMNS)
        self._quiet = False
        self.comparison = W.Dropdown(options=list(COMPARISONS), value=comparison, description="compare",
                                     disabled=frame is not None, layout=W.Layout(width="340px"))
        self.a = W.Dropdown(options=[], description="A")
        self.b = W.Dropdown(options=[], description="B")
        self.message = W.HTML()
        self.means = W.HTML()
        self.detail = W.HTML()
        self.runner = Runner("scoring")
        self.scatter_fig = go.FigureWidget(F.link_scatter_figure(self.frame, "", ""))
        self.agreement_fig = go.FigureWidget(F.agreement_figure(self.agreement))
        self._watch_clicks()
        self.comparison.observe(lambda _: self.run(), "value")
        for control in (self.a, self.b):
            control.observe(lambda _: self.update(), "value")
        self.state.observe(lambda _: self._select(), "selected_item")
        if frame is None:
            self.state.observe(lambda _: self.run(), ["heads", "apply_intervention"])
        self.widget = W.VBox([W.HBox([self.comparison, self.a, self.b]), self.runner.widget, self.message,
                              self.scatter_fig, W.HBox([self.agreement_fig, W.VBox([self.means, self.detail])])])
        if frame is not None:
            self._scored(frame)
        elif run:
            self.run()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        display(self.widget)

    # --- work (the only place the model runs) -----------------------------------------------------
    def plan(self) -> tuple[list[Condition], list[Item], list[Item], bool]:
        """(conditions, scored items, demonstration pool, whether the shared head scaling applies)."""
        spec = COMPARISONS[self.comparison.value]
        if spec == HEADS:
            if not self.state.heads:
                raise ValueError("no heads are scaled yet: set a scaling in the Heads tab, then compare again")
            label = "scaled " + ",".join(f"L{l}H{h}x{f:g}" for (l, h), f in sorted(self.state.heads.items()))
            return chain_conditions(interventions={"not scaled": {}, label: dict(self.state.heads)}), \
                self.items, self.pool, False
        pool, items = self.pool, self.items
        if max(spec.get("shots", [0])) > len(pool):  # keep a few items apart as demonstrations
            pool, items = split_pool(self.items, max(1, min(4, len(self.items) // 3)), seed=0)
        return chain_conditions(**spec), items, pool, True

    def run(self) -> Job | None:
        """Score the chosen comparison in the background (inside the shared intervention, except when the
        comparison is that intervention)."""
        try:
            plan = self.plan()
        except ValueError as e:
            self.message.value = f"<span style='color:#b00'>{html.escape(str(e))}</span>"
            return None
        self.message.value = ""
        return self.runner.start(lambda job: self._work(job, *plan), on_result=self._scored)

    def _work(self, job: Job, conds: list[Condition], items: list[Item], pool: list[Item], shared: bool
              ) -> pd.DataFrame:
        with model_lock(self.model):
            with self.state.intervention(self.model) if shared else nullcontext():
                return chain_probe(self.model, items, conds, pool=pool, progress=job.progress, cancel=job.cancelled)

    # --- views (no model calls) -------------------------------------------------------------------
    def _scored(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        names = conditions(frame)
        self._quiet = True  # one redraw once both are set, not one per control
        try:
            self.a.options, self.b.options = names, names
            self.a.value, self.b.value = names[0], names[1] if len(names) > 1 else names[0]
        finally:
            self._quiet = False
        self.means.value = _table(chain_means(frame))
        self.update()

    def update(self) -> None:
        """Redraw for the chosen pair of conditions."""
        a, b = self.a.value, self.b.value
        if self.frame.empty or a is None or b is None or self._quiet:
            return
        self.agreement = chain_agreement(self.frame, [(a, b)]) if a != b else self.agreement.iloc[:0]
        if refresh(self.scatter_fig, F.link_scatter_figure(self.frame, a, b, agreement=self.agreement,
                                                           selected=self.state.selected_item)):
            self._watch_clicks()
        refresh(self.agreement_fig, F.agreement_figure(self.agreement))
        self._show_item()

    def _watch_clicks(self) -> None:
        for trace in self.scatter_fig.data[::3]:  # the item traces (items, diagonal, selected per link)
            trace.on_click(self._clicked)

    def _clicked(self, trace, points, _state) -> None:
        if points.point_inds:
            self.state.selected_item = str(trace.customdata[points.point_inds[0]])

    def _select(self) -> None:
        if not self.frame.empty:
            self.update()

    def _show_item(self) -> None:
        rows = self.frame[(self.frame[C.ITEM_ID] == self.state.selected_item)
                          & self.frame[C.CONDITION].isin([self.a.value, self.b.value])]
        if rows.empty:
            self.detail.value = "<i>click a point to see that item's chain under A and B</i>"
            return
        cols = [C.LOGP_VOCAB_GOLD, C.P_VOCAB_GOLD, C.P_CHOICES_GOLD, C.P_VOCAB_WRONG, C.CORRECT, C.BRIER]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in [C.CONDITION, *cols, C.CHOICE_PROBS])
        body = "".join("<tr>" + "".join(f"<td>{_fmt(r[c])}</td>" for c in [C.CONDITION, *cols]) +
                       f"<td>{' '.join(f'{p:.3g}' for p in r[C.CHOICE_PROBS])} (gold {int(r[C.ANSWER])})</td></tr>"
                       for _, r in rows.iterrows())
        self.detail.value = (f"<b>{html.escape(self.state.selected_item)}</b><table style='font-size:12px'>"
                             f"<tr>{head}</tr>{body}</table><pre style='font-size:11px'>"
                             f"{html.escape(str(rows[C.PROMPT].iloc[0]))}</pre>")


def _table(means: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in means.columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in means.itertuples(index=False))
    return f"<table style='font-size:12px'><tr>{head}</tr>{body}</table>"


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))
