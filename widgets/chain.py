"""The chain widget: two conditions compared item by item at each link of log p_vocab(gold) ->
p_vocab(gold) -> p_choices(gold) -> correct / Brier, so the link where they stop agreeing shows.

A thin view: the numbers come from :mod:`explorer.probes.chain` and :mod:`explorer.metrics.chain_summary`.
Give a model and items (the widget scores a comparison chosen from a menu), or a ready chain frame
(``frame=``, e.g. two models compared by :func:`explorer.probes.chain_probe`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ipywidgets as W
import pandas as pd

from explorer import columns as C
from explorer.items.item import Item
from explorer.metrics.chain_summary import chain_agreement, chain_means, conditions
from explorer.prompts.demos import split_pool
from explorer.serve.calls import run
from widgets._plot import refresh
from widgets._runner import Job
from widgets._setup import Setup, heads_label
from widgets._state import SharedState
from widgets._text import esc
from widgets._view import ProbeView, fig_widget, given_code, side_by_side
from widgets.figures import chain as F
from widgets.specs import COMPARISONS, HEADS, ChainSpec

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel
    from explorer.probes.conditions import Condition


class ChainWidget(ProbeView):
    """Controls (comparison; conditions A and B), per link a scatter of B against A over items with
    its rank correlation, the correlations along the chain, each condition's means, and the
    selected item's chain under A and B. Clicking a point selects its item everywhere."""

    TERMS = ("Spearman ρ", "same direction", "Brier")

    def __init__(self, model: LoadedModel | None = None, items: Sequence[Item] = (), *,
                 frame: pd.DataFrame | None = None, frame_code: str | None = None, pool: Sequence[Item] = (),
                 state: SharedState | None = None, setup: Setup | None = None, comparison: str = "letters vs cloze",
                 run: bool = True) -> None:
        self.model, self.items, self.pool = model, list(items), list(pool)
        self._init_view(state, setup)
        self.scored, self.given = frame, given_code(frame, frame_code, "ChainWidget")
        self.frame = pd.DataFrame(columns=C.CHAIN_COLUMNS)
        self.agreement = pd.DataFrame(columns=C.CHAIN_AGREEMENT_COLUMNS)
        self.numbers: dict = {}
        self._quiet = False
        self.comparison = W.Dropdown(options=list(COMPARISONS), value=comparison, description="compare",
                                     disabled=frame is not None, layout=W.Layout(width="340px"))
        self.a = W.Dropdown(options=[], description="A")
        self.b = W.Dropdown(options=[], description="B")
        self.means = W.HTML()
        self.detail = W.HTML()
        self.scatter_fig = fig_widget(F.link_scatter_figure(self.frame, "", ""))
        self.agreement_fig = fig_widget(F.agreement_figure(self.agreement))
        self.figures = [self.scatter_fig, self.agreement_fig]
        self._watch_clicks()
        self.comparison.observe(lambda _: self.run(), "value")
        for control in (self.a, self.b):
            control.observe(lambda _: self.update(), "value")
        self.state.observe(lambda _: self._select(), "selected_item")
        if frame is None:
            self.state.observe(lambda _: self.run(), ["heads", "apply_intervention"])
        self.results = W.VBox([self.scatter_fig, side_by_side((self.agreement_fig, 45),
                                                              (W.VBox([self.means, self.detail]), 55))])
        self.widget = W.VBox([self.style,
                              W.HBox([self.comparison, self.a, self.b], layout=W.Layout(flex_flow="row wrap")),
                              self.runner.widget, self.banner, self.note, self.numbers_tag, self.results, self.caption])
        if frame is not None:
            self._arrive(frame, self.spec(), True)
        elif run and model is not None:
            self.run()

    # --- work (the only place the model runs) -----------------------------------------------------
    def spec(self) -> ChainSpec:
        heads = dict(self.state.heads) if COMPARISONS[self.comparison.value] == HEADS else self.state.applied()
        return ChainSpec(setup=self.current_setup(self.items), heads={} if self.given else heads,
                         comparison=self.comparison.value, pool=tuple(self.pool), a=self.a.value or "",
                         b=self.b.value or "", given=self.given)

    def plan(self, spec: ChainSpec | None = None) -> tuple[list[Condition], list[Item], list[Item], bool]:
        """(conditions, scored items, demonstration pool, whether the spec's head scaling applies to all)."""
        from explorer.probes.conditions import chain_conditions  # noqa: PLC0415

        spec = spec or self.spec()
        comparison = COMPARISONS[spec.comparison]
        if comparison == HEADS:
            if not spec.heads:
                raise ValueError("no heads are scaled yet: set a scaling in the Heads tab, then compare again")
            label = "scaled " + ",".join(f"L{l}H{h}x{f:g}" for (l, h), f in sorted(spec.heads.items()))
            return chain_conditions(interventions={"not scaled": {}, label: dict(spec.heads)}), \
                self.items, self.pool, False
        pool, items = self.pool, self.items
        if max(comparison.get("shots", [0])) > len(pool):  # keep a few items apart as demonstrations
            pool, items = split_pool(self.items, max(1, min(4, len(self.items) // 3)), seed=0)
        return chain_conditions(**comparison), items, pool, True

    def run(self) -> Job | None:
        """Score the chosen comparison in the background (inside the shared intervention, except when the
        comparison is that intervention)."""
        spec = self.spec()
        if self.model is None and self.scored is None:
            return self.start(spec, lambda job: None)  # says it waits for the model (runs nothing)
        try:
            plan = self.plan(spec)
        except ValueError as e:
            self.runner.cancel()
            self._failed(e, spec)
            return None
        return self.start(spec, lambda job: self._work(job, spec, *plan))

    def _work(self, job: Job, spec: ChainSpec, conds: list[Condition], items: list[Item], pool: list[Item],
              shared: bool) -> pd.DataFrame:
        return run(self.model, "chain_probe", items, conds, heads=spec.heads if shared else {}, pool=pool,
                   progress=job.progress, cancel=job.cancelled, batch_size=self.rows_per_pass())

    def _show_banner(self, spec: ChainSpec) -> None:
        if COMPARISONS[spec.comparison] == HEADS and spec.heads:
            self.banner.value = (f"<div class='lmx-banner'>⚠ Intervention compared: condition B scales attention "
                                 f"heads <b>{esc(heads_label(spec.heads))}</b> (set in the Heads tab); A is "
                                 "the model as loaded.</div>")
            self.banner.layout.display = None
        else:
            super()._show_banner(spec)

    # --- views (no model calls) -------------------------------------------------------------------
    def _show(self, frame: pd.DataFrame, spec: ChainSpec, final: bool) -> None:
        self.frame = frame
        names = conditions(frame)
        self._quiet = True  # one redraw once both are set, not one per control
        try:
            if list(self.a.options) != names:
                self.a.options, self.b.options = names, names
                self.a.value, self.b.value = names[0], names[1] if len(names) > 1 else names[0]
        finally:
            self._quiet = False
        self.means.value = _table(chain_means(frame))
        self.update()

    def shown_numbers(self) -> dict:
        return self.numbers

    def _clear(self) -> None:
        self.frame, self.agreement = self.frame.iloc[0:0], self.agreement.iloc[0:0]
        refresh(self.scatter_fig, F.link_scatter_figure(self.frame, "", ""))
        refresh(self.agreement_fig, F.agreement_figure(self.agreement))
        self.means.value = self.detail.value = ""

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
        self.numbers = {"means": chain_means(self.frame).to_dict("records"),
                        "spearman": dict(zip(self.agreement[C.LINK], self.agreement[C.SPEARMAN]))}
        self._show_item()
        self.redraw_spec(a=a, b=b)

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
        head = "".join(f"<th>{esc(c)}</th>" for c in [C.CONDITION, *cols, C.CHOICE_PROBS])
        body = "".join("<tr>" + "".join(f"<td>{_fmt(r[c])}</td>" for c in [C.CONDITION, *cols]) +
                       f"<td>{' '.join(f'{p:.3g}' for p in r[C.CHOICE_PROBS])} (gold {int(r[C.ANSWER])})</td></tr>"
                       for _, r in rows.iterrows())
        self.detail.value = (f"<b>{esc(self.state.selected_item)}</b><table style='font-size:12px'>"
                             f"<tr>{head}</tr>{body}</table><pre style='font-size:11px'>"
                             f"{esc(str(rows[C.PROMPT].iloc[0]))}</pre>")


def _table(means: pd.DataFrame) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in means.columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in means.itertuples(index=False))
    return f"<table style='font-size:12px'><tr>{head}</tr>{body}</table>"


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else esc(str(value))
