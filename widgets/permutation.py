"""The permutation widget: how much of each answer is position, and what is left once the order is
averaged out. A thin view: the numbers come from :mod:`explorer.probes.permutation` and
:mod:`explorer.metrics.permutation`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ipywidgets as W
import pandas as pd

from explorer import columns as C
from explorer.items.item import Item
from explorer.metrics.permutation_summary import group_table, summarize_permutation
from explorer.serve.calls import run
from widgets._plot import refresh
from widgets._runner import Job, in_chunks
from widgets._setup import Setup
from widgets._state import SharedState
from widgets._text import esc
from widgets._view import ProbeView, fig_widget, given_code, side_by_side
from widgets.figures import permutation as F
from widgets.figures.groups import group_bars
from widgets.glossary import term
from widgets.specs import PERMUTATION_NUMBERS, PermutationSpec

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

ORDER_MODES = [("cyclic shifts (k)", "cyclic"), ("all orders (k!)", "all"), ("6 random orders", "6"),
               ("12 random orders", "12")]
LABEL_SETS = ["ABCD", "abcd", "1234"]
TEMPLATES = {"Question: … Answer:": None, "Q: … A:": "Q: {question}\n{choices}\nA:",
             "plain … Answer:": "{question}\n{choices}\nAnswer:"}
GROUP_METRICS = [("accuracy", "accuracy"), ("order-averaged accuracy", "order_avg_accuracy"),
                 ("consistency", "consistency"), ("A-bias (one k)", "a_bias"), ("PriDe accuracy (one k)",
                                                                                  "pride_accuracy")]
NO_GROUP = ("(no grouping)", "")
NO_POOL = "demonstrations need a pool of items kept apart from the scored ones (pool=...); none was given"


class PermutationWidget(ProbeView):
    """Controls (orders, labels, template, demonstrations), the position-level response against
    uniform, the item x order grid of predictions, accuracy before/after debiasing, the selected
    item's prompt under each order, and per-group bars ("group by": k or any metadata column, e.g.
    subject) against the pooled value. With several numbers of choices, the position views show one
    k at a time (the "k" control).

    Give a model and items (scored under the controls), or a scored permutation frame (``frame=``, e.g. a
    finished run's rows, with ``frame_code``: the expression that loads it, for "Show code"): then nothing
    is scored and the scoring controls are hidden."""

    TERMS = ("A-bias", "accuracy", "order-averaged", "circular", "PriDe", "consistency", "RStd (×100)", "χ² p")

    def __init__(self, model: LoadedModel | None = None, items: Sequence[Item] = (), *,
                 frame: pd.DataFrame | None = None, frame_code: str | None = None, pool: Sequence[Item] = (),
                 state: SharedState | None = None, setup: Setup | None = None, chunk_size: int = 4,
                 n_boot: int = 200, run: bool = True) -> None:
        self.model, self.items, self.pool = model, list(items), list(pool)
        self._init_view(state, setup)
        self.scored, self.given = frame, given_code(frame, frame_code, "PermutationWidget")
        self.chunk_size, self.n_boot = chunk_size, n_boot
        self.frame = pd.DataFrame(columns=C.PERMUTATION_COLUMNS)
        self.summary: dict | None = None
        self.orders = W.Dropdown(options=ORDER_MODES, value="cyclic", description="orders")
        self.labels = W.Dropdown(options=LABEL_SETS, value="ABCD", description="labels")
        self.template = W.Dropdown(options=list(TEMPLATES), description="template")
        self.shots = W.IntSlider(value=0, min=0, max=min(3, len(self.pool)), description="demos",
                                 disabled=not self.pool,
                                 tooltip=NO_POOL if not self.pool else "in-context demonstrations")
        self.shots_hint = W.HTML("" if self.pool else f"<span title='{NO_POOL}' style='color:#777;font-size:11px'>"
                                 "demos off: no demonstration pool</span>")
        self.item = W.Dropdown(options=self.item_ids(), description="item")
        self.k = W.Dropdown(options=[], description="k", layout=W.Layout(width="140px", display="none"))
        self.group = W.Dropdown(options=[NO_GROUP], value="", description="group by")
        self.metric = W.Dropdown(options=GROUP_METRICS, value="accuracy", description="metric")
        self.headline = W.HTML()
        self.detail = W.HTML()
        self.position_fig = fig_widget(F.position_response_figure(self.frame))
        self.grid_fig = fig_widget(F.prediction_grid_figure(self.frame))
        self.accuracy_fig = fig_widget(F.accuracy_figure(None))
        self.item_fig = fig_widget(F.item_orders_figure(self.frame, ""))
        self.group_fig = fig_widget(group_bars(pd.DataFrame(), None, "accuracy", None))
        self.figures = [self.position_fig, self.accuracy_fig, self.grid_fig, self.group_fig, self.item_fig]
        self.grid_fig.data[0].on_click(self._grid_clicked)
        for control in (self.orders, self.labels, self.template, self.shots):
            control.observe(lambda _: self.run(), "value")
        self.k.observe(lambda _: self._show_k(), "value")
        for control in (self.group, self.metric):
            control.observe(lambda _: self._show_groups(), "value")
        self.item.observe(lambda ch: self._pick(ch["new"]), "value")
        self.state.observe(self._selected, "selected_item")
        if frame is None:
            self.state.observe(lambda _: self.run(), ["heads", "apply_intervention"])
        self.results = W.VBox([self.headline, side_by_side((self.position_fig, 50), (self.accuracy_fig, 50)),
                               self.grid_fig, W.HBox([self.group, self.metric]), self.group_fig,
                               self.item, self.item_fig, self.detail], layout=W.Layout(width="100%"))
        for fig in (self.position_fig, self.accuracy_fig):
            fig.layout.width = None
        scoring = [self.orders, self.labels, self.template, self.shots, self.shots_hint]
        for control in scoring if frame is not None else ():
            control.layout.display = "none"  # given rows: nothing to score
        controls = W.HBox([*scoring, self.k], layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox([self.style, controls, self.runner.widget, self.banner, self.note, self.numbers_tag,
                              self.results,
                              self.caption])
        if self.state.selected_item in self.item.options:
            self.item.value = self.state.selected_item
        if frame is not None or (run and model is not None):
            self.run()

    # --- work -------------------------------------------------------------------------------------
    def spec(self) -> PermutationSpec:
        """The state of the controls (what a run now would show)."""
        return PermutationSpec(setup=self.current_setup(self.items), heads={} if self.given else self.state.applied(),
                               orders=self.orders.value, labels=self.labels.value,
                               template=TEMPLATES[self.template.value], shots=self.shots.value, pool=tuple(self.pool),
                               k=self.k.value, group=self.group.value, metric=self.metric.value, given=self.given)

    def options(self) -> dict:
        """The probe options the controls stand for."""
        return self.spec().options()

    def _offer_items(self) -> None:
        """The item menu lists the new items; the chosen item stays when it is still there."""
        keep, ids = self.item.value, self.item_ids()
        self.item.options = ids
        self.item.value = keep if keep in ids else (ids[0] if ids else None)

    def run(self) -> Job | None:
        """Score the items under the current controls in the background, streaming per chunk (given rows:
        show them)."""
        spec, items = self.spec(), list(self.items)
        if self.scored is not None:
            self._arrive(self.scored, spec, True)
            return None
        return self.start(spec, lambda job: self._work(job, spec, items))

    def _work(self, job: Job, spec: PermutationSpec, items: list[Item]) -> pd.DataFrame:
        from explorer.items.orders import orders_for  # noqa: PLC0415

        options = spec.options()
        per_k = orders_for(items, options["orders"])
        total = sum(len(per_k[i.k]) for i in items)
        chunks = in_chunks(items, self.chunk_size)
        frames, done = [], 0
        for chunk in chunks:
            size = sum(len(per_k[i.k]) for i in chunk)

            def progress(d: int, t: int, offset: int = done, size: int = size) -> None:
                job.progress(offset + (size * d // t if t else size), total)

            frames.append(run(self.model, "permutation_probe", chunk, heads=spec.heads, **options, progress=progress,
                              cancel=job.cancelled))
            done += size
            job.progress(done, total)
            if len(frames) < len(chunks):
                job.emit(pd.concat(frames, ignore_index=True))
        return pd.concat(frames, ignore_index=True)

    # --- views ------------------------------------------------------------------------------------
    def _show(self, frame: pd.DataFrame, spec: PermutationSpec, final: bool) -> None:
        self.frame = frame
        self._final = final
        self.summary = summarize_permutation(frame, n_boot=self.n_boot if final else 0)
        ks = [int(k) for k in self.summary["by_k"]]
        keep = self.k.value if self.k.value in ks else ks[0]
        if list(self.k.options) != ks:
            self.k.options = ks
        self.k.value = keep
        self.k.layout.display = None if len(ks) > 1 else "none"
        options = [NO_GROUP, *((c, c) for c in C.group_columns(frame))]
        if list(self.group.options) != options:
            self.group.options = options
        self._show_k()
        self._show_groups()
        self.headline.value = self._headline(self.summary, final)
        self._show_item(self._item_shown())

    def shown_numbers(self) -> dict:
        bars = self.group_fig.data[0]
        group = {f"{self.metric.value} by {self.group.value}": dict(zip(bars.x, bars.y))} if self.group.value else {}
        return {**{key: self.summary[key] for key in PERMUTATION_NUMBERS}, **group}

    def _clear(self) -> None:
        self.frame, self.summary = pd.DataFrame(columns=C.PERMUTATION_COLUMNS), None
        refresh(self.position_fig, F.position_response_figure(self.frame))
        refresh(self.grid_fig, F.prediction_grid_figure(self.frame))
        refresh(self.accuracy_fig, F.accuracy_figure(None))
        refresh(self.group_fig, group_bars(pd.DataFrame(), None, self.metric.value, None))
        refresh(self.item_fig, F.item_orders_figure(self.frame, ""))
        self.headline.value = self.detail.value = ""

    def _partial_count(self) -> str:
        return f" ({self.frame[C.ITEM_ID].nunique()} of {len(self.item_ids())} items scored)"

    def _show_k(self) -> None:
        """The position views for the chosen number of choices (all items when there is one k)."""
        if self.summary is None or self.k.value is None:
            return
        rows = self.frame[self.frame[C.K] == self.k.value]
        refresh(self.position_fig, F.position_response_figure(rows))
        refresh(self.grid_fig, F.prediction_grid_figure(rows))
        refresh(self.accuracy_fig, F.accuracy_figure(self.summary["by_k"][str(self.k.value)]))
        self.redraw_spec(k=self.k.value)

    def _show_groups(self) -> None:
        """Per-group bars of the chosen metric against its pooled value (computed from the kept frame)."""
        if self.summary is None:
            return
        col, metric = self.group.value or None, self.metric.value
        table = group_table(summarize_permutation(self.frame, by=[col], n_boot=0), [metric, "n_items"]) if col \
            else pd.DataFrame()
        refresh(self.group_fig, group_bars(table, col, metric, self.summary.get(metric)))
        self.redraw_spec(group=self.group.value, metric=metric)

    def _headline(self, s: dict, final: bool) -> str:
        f = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        rstd = "–" if s["rstd"] is None else f"{s['rstd']:.1f}"
        orders = f"<b>{s['n_orders']}</b> orders" if s["k"] else f"k = {', '.join(map(str, s['ks']))}"
        parts = [f"<b>{s['n_items']}</b> items × {orders}{'' if final else ' (so far)'}",
                 f"{term('A-bias')} <b>{f(s['a_bias'])}</b>", f"{term('accuracy')} <b>{f(s['accuracy'])}</b>",
                 f"{term('order-averaged')} <b>{f(s['order_avg_accuracy'])}</b>",
                 f"{term('circular')} <b>{f(s['circular_accuracy'])}</b>",
                 f"{term('PriDe')} <b>{f(s['pride_accuracy_before'])} → {f(s['pride_accuracy'])}</b>",
                 f"{term('consistency')} <b>{f(s['consistency'])}</b>",
                 f"{term('RStd (×100)')} <b>{rstd}</b>",
                 f"{term('χ² p')} = " + ("–" if s["chi2_p"] is None else f"{s['chi2_p']:.2g}")]
        notes = "".join(f"<br><i>{esc(n)}</i>" for n in s["notes"])
        return " · ".join(parts) + notes

    # --- selection --------------------------------------------------------------------------------
    def _pick(self, item_id: str | None) -> None:
        if item_id:
            self.state.selected_item = item_id
            self._show_item(item_id)

    def _grid_clicked(self, trace, points, _state) -> None:
        if points.point_inds:
            row = points.point_inds[0]
            self.state.selected_item = str(trace.y[row[0] if isinstance(row, (list, tuple)) else row])

    def _selected(self, change) -> None:
        """Follow a selection made elsewhere, if this view has that item (else keep its own)."""
        if change["new"] in self.item.options:
            if self.item.value != change["new"]:
                self.item.value = change["new"]
            self._show_item(change["new"])

    def _show_item(self, item_id: str) -> None:
        refresh(self.item_fig, F.item_orders_figure(self.frame, item_id))
        rows = self.frame[self.frame[C.ITEM_ID] == item_id] if not self.frame.empty else self.frame
        blocks = []
        for order, g in rows.groupby(C.ORDER, sort=False):
            table = "".join(
                f"<tr><td>{esc(str(r[C.LABEL]))}</td><td>{esc(str(r[C.CHOICE]))}"
                f"{' ✓' if _true(r[C.IS_GOLD]) else ''}</td><td>{r[C.PROB_NORM]:.3f}</td><td>{r[C.PROB]:.3f}</td>"
                f"<td>{'◀' if r[C.IS_PRED] else ''}</td></tr>" for _, r in g.iterrows())
            blocks.append(f"<div style='margin:4px 12px 4px 0'><b>order {esc(order)}</b><pre style='font-size:11px'>"
                          f"{esc(g[C.PROMPT].iloc[0])}</pre><table><tr><th>label</th><th>choice</th>"
                          f"<th>p (renorm.)</th><th>p (vocab)</th><th></th></tr>{table}</table></div>")
        self.detail.value = f"<div style='display:flex;flex-wrap:wrap'>{''.join(blocks)}</div>"


def _true(value) -> bool:
    """True for a true boolean cell, False for false or missing (pd.NA)."""
    return value is not pd.NA and bool(value)
