"""The permutation widget: how much of each answer is position, and what is left once the order is
averaged out. A thin view: the numbers come from :mod:`explorer.probes.permutation` and
:mod:`explorer.metrics.permutation`."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C
from explorer.items.item import Item
from explorer.metrics.permutation_summary import group_table, summarize_permutation
from explorer.models.handle import LoadedModel
from explorer.probes.permutation import orders_for, permutation_probe
from widgets._plot import model_lock, refresh
from widgets._runner import Job, Runner, in_chunks
from widgets._state import SharedState
from widgets.figures import permutation as F
from widgets.figures.groups import group_bars

ORDER_MODES = [("cyclic shifts (k)", "cyclic"), ("all orders (k!)", "all"), ("6 random orders", "6"),
               ("12 random orders", "12")]
LABEL_SETS = ["ABCD", "abcd", "1234"]
TEMPLATES = {"Question: … Answer:": None, "Q: … A:": "Q: {question}\n{choices}\nA:",
             "plain … Answer:": "{question}\n{choices}\nAnswer:"}
GROUP_METRICS = [("accuracy", "accuracy"), ("order-averaged accuracy", "order_avg_accuracy"),
                 ("consistency", "consistency"), ("A-bias (one k)", "a_bias"), ("PriDe accuracy (one k)",
                                                                                  "pride_accuracy")]
NO_GROUP = ("(no grouping)", "")


class PermutationWidget:
    """Controls (orders, labels, template, demonstrations), the position-level response against
    uniform, the item x order grid of predictions, accuracy before/after debiasing, the selected
    item's prompt under each order, and per-group bars ("group by": k or any metadata column, e.g.
    subject) against the pooled value. With several numbers of choices, the position views show one
    k at a time (the "k" control).

    Give a model and items (scored under the controls), or a scored permutation frame (``frame=``,
    e.g. a finished run's rows): then nothing is re-scored and the scoring controls are hidden."""

    def __init__(self, model: LoadedModel | None = None, items: Sequence[Item] = (), *,
                 frame: pd.DataFrame | None = None, pool: Sequence[Item] = (), state: SharedState | None = None,
                 chunk_size: int = 4, n_boot: int = 200, run: bool = True) -> None:
        if frame is None and (model is None or not items):
            raise ValueError("give a model and items to score, or a scored permutation frame (frame=)")
        self.model, self.items, self.pool = model, list(items), list(pool)
        self.item_ids = [i.id for i in self.items] if frame is None else pd.unique(frame[C.ITEM_ID]).tolist()
        self.state = state if state is not None else SharedState()
        self.chunk_size, self.n_boot = chunk_size, n_boot
        self.frame = pd.DataFrame(columns=C.PERMUTATION_COLUMNS)
        self.summary: dict | None = None
        self.orders = W.Dropdown(options=ORDER_MODES, value="cyclic", description="orders")
        self.labels = W.Dropdown(options=LABEL_SETS, value="ABCD", description="labels")
        self.template = W.Dropdown(options=list(TEMPLATES), description="template")
        self.shots = W.IntSlider(value=0, min=0, max=min(3, len(self.pool)), description="demos",
                                 disabled=not self.pool, tooltip="in-context demonstrations (needs a pool)")
        self.item = W.Dropdown(options=self.item_ids, description="item")
        self.k = W.Dropdown(options=[], description="k", layout=W.Layout(width="140px", display="none"))
        self.group = W.Dropdown(options=[NO_GROUP], value="", description="group by")
        self.metric = W.Dropdown(options=GROUP_METRICS, value="accuracy", description="metric")
        self.headline = W.HTML()
        self.detail = W.HTML()
        self.runner = Runner("scoring")
        self.position_fig = go.FigureWidget(F.position_response_figure(self.frame))
        self.grid_fig = go.FigureWidget(F.prediction_grid_figure(self.frame))
        self.accuracy_fig = go.FigureWidget(F.accuracy_figure(None))
        self.item_fig = go.FigureWidget(F.item_orders_figure(self.frame, ""))
        self.group_fig = go.FigureWidget(group_bars(pd.DataFrame(), None, "accuracy", None))
        self.grid_fig.data[0].on_click(self._grid_clicked)
        for control in (self.orders, self.labels, self.template, self.shots):
            control.observe(lambda _: self.run(), "value")
        self.k.observe(lambda _: self._show_k(), "value")
        for control in (self.group, self.metric):
            control.observe(lambda _: self._show_groups(), "value")
        self.item.observe(lambda ch: setattr(self.state, "selected_item", ch["new"] or ""), "value")
        self.state.observe(self._selected, "selected_item")
        if frame is None:
            self.state.observe(lambda _: self.run(), ["heads", "apply_intervention"])
        scoring = W.HBox([self.orders, self.labels, self.template, self.shots],
                         layout=W.Layout(display="none" if frame is not None else None))
        controls = W.HBox([scoring, self.k])
        self.widget = W.VBox([controls, self.runner.widget, self.headline,
                              W.HBox([self.position_fig, self.accuracy_fig]), self.grid_fig,
                              W.HBox([self.group, self.metric]), self.group_fig,
                              self.item, self.item_fig, self.detail])
        if self.state.selected_item in self.item.options:
            self.item.value = self.state.selected_item
        if frame is not None:
            self._show(frame)
        elif run:
            self.run()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        display(self.widget)

    # --- work -------------------------------------------------------------------------------------
    def options(self) -> dict:
        """The probe options the controls stand for."""
        mode = self.orders.value
        return dict(orders=int(mode) if mode.isdigit() else mode, labels=self.labels.value,
                    template=TEMPLATES[self.template.value], shots=self.shots.value, pool=self.pool)

    def run(self) -> Job:
        """Score the items under the current controls in the background, streaming per chunk."""
        options = self.options()
        return self.runner.start(lambda job: self._work(job, options), on_result=self._show,
                                 on_partial=self._show)

    def _work(self, job: Job, options: dict) -> pd.DataFrame:
        per_k = orders_for(self.items, options["orders"])
        total = sum(len(per_k[i.k]) for i in self.items)
        frames, done = [], 0
        lock = model_lock(self.model)
        for chunk in in_chunks(self.items, self.chunk_size):
            size = sum(len(per_k[i.k]) for i in chunk)

            def progress(d: int, t: int, offset: int = done, size: int = size) -> None:
                job.progress(offset + (size * d // t if t else size), total)

            with lock, self.state.intervention(self.model):
                frames.append(permutation_probe(self.model, chunk, **options, progress=progress,
                                                cancel=job.cancelled))
            done += size
            if len(frames) < len(in_chunks(self.items, self.chunk_size)):
                job.emit(pd.concat(frames, ignore_index=True))
        return pd.concat(frames, ignore_index=True)

    # --- views ------------------------------------------------------------------------------------
    def _show(self, frame: pd.DataFrame) -> None:
        final = frame[C.ITEM_ID].nunique() == len(self.item_ids)
        self.frame = frame
        self.summary = summarize_permutation(frame, n_boot=self.n_boot if final else 0)
        ks = [int(k) for k in self.summary["by_k"]]
        keep = self.k.value if self.k.value in ks else ks[0]
        if list(self.k.options) != ks:
            self.k.options = ks
        self.k.value = keep
        self.k.layout.display = None if len(ks) > 1 else "none"
        self.group.options = [NO_GROUP, *((c, c) for c in C.group_columns(frame))]
        self._show_k()
        self._show_groups()
        self.headline.value = self._headline(self.summary, final)
        self._show_item(self.state.selected_item or self.item_ids[0])

    def _show_k(self) -> None:
        """The position views for the chosen number of choices (all items when there is one k)."""
        if self.summary is None or self.k.value is None:
            return
        rows = self.frame[self.frame[C.K] == self.k.value]
        refresh(self.position_fig, F.position_response_figure(rows))
        refresh(self.grid_fig, F.prediction_grid_figure(rows))
        refresh(self.accuracy_fig, F.accuracy_figure(self.summary["by_k"][str(self.k.value)]))

    def _show_groups(self) -> None:
        """Per-group bars of the chosen metric against its pooled value (computed from the kept frame)."""
        if self.summary is None:
            return
        col, metric = self.group.value or None, self.metric.value
        table = group_table(summarize_permutation(self.frame, by=[col], n_boot=0), [metric, "n_items"]) if col \
            else pd.DataFrame()
        refresh(self.group_fig, group_bars(table, col, metric, self.summary.get(metric)))

    def _headline(self, s: dict, final: bool) -> str:
        f = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        orders = f"<b>{s['n_orders']}</b> orders" if s["k"] else f"k = {', '.join(map(str, s['ks']))}"
        parts = [f"<b>{s['n_items']}</b> items × {orders}{'' if final else ' (so far)'}",
                 f"A-bias <b>{f(s['a_bias'])}</b>", f"accuracy <b>{f(s['accuracy'])}</b>",
                 f"order-averaged <b>{f(s['order_avg_accuracy'])}</b>",
                 f"circular <b>{f(s['circular_accuracy'])}</b>",
                 f"PriDe <b>{f(s['pride_accuracy_before'])} → {f(s['pride_accuracy'])}</b>",
                 f"consistency <b>{f(s['consistency'])}</b>", f"RStd <b>{f(s['rstd'])}</b>",
                 "χ² p = " + ("–" if s["chi2_p"] is None else f"{s['chi2_p']:.2g}")]
        notes = "".join(f"<br><i>{html.escape(n)}</i>" for n in s["notes"])
        return " · ".join(parts) + notes

    def _grid_clicked(self, trace, points, _state) -> None:
        if points.point_inds:
            row = points.point_inds[0]
            self.state.selected_item = str(trace.y[row[0] if isinstance(row, (list, tuple)) else row])

    def _selected(self, change) -> None:
        if change["new"] in self.item.options and self.item.value != change["new"]:
            self.item.value = change["new"]
        self._show_item(change["new"])

    def _show_item(self, item_id: str) -> None:
        refresh(self.item_fig, F.item_orders_figure(self.frame, item_id))
        rows = self.frame[self.frame[C.ITEM_ID] == item_id] if not self.frame.empty else self.frame
        blocks = []
        for order, g in rows.groupby(C.ORDER, sort=False):
            table = "".join(
                f"<tr><td>{html.escape(str(r[C.LABEL]))}</td><td>{html.escape(str(r[C.CHOICE]))}"
                f"{' ✓' if _true(r[C.IS_GOLD]) else ''}</td><td>{r[C.PROB_NORM]:.3f}</td><td>{r[C.PROB]:.3f}</td>"
                f"<td>{'◀' if r[C.IS_PRED] else ''}</td></tr>" for _, r in g.iterrows())
            blocks.append(f"<div style='margin:4px 12px 4px 0'><b>order {order}</b><pre style='font-size:11px'>"
                          f"{html.escape(g[C.PROMPT].iloc[0])}</pre><table><tr><th>label</th><th>choice</th>"
                          f"<th>p (renorm.)</th><th>p (vocab)</th><th></th></tr>{table}</table></div>")
        self.detail.value = f"<div style='display:flex;flex-wrap:wrap'>{''.join(blocks)}</div>"


def _true(value) -> bool:
    """True for a true boolean cell, False for false or missing (pd.NA)."""
    return value is not pd.NA and bool(value)

