"""The heads widget: which attention heads decide target vs foil, and what scaling one does.

A thin view over :mod:`explorer.probes.heads` (attribution) and :mod:`explorer.probes.sweep`
(scaling). Click a cell of the layer x head map to pick a head; the curve shows the target rate
at each factor of a coarse grid (computed in one batched pass); moving the slider moves the
current point and fills the table (an off-grid factor costs one more pass). The switch hands
the current scaling to every other view through the shared state. This view's own attribution
map is always the unscaled model: it is where the intervention is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from explorer import columns as C
from explorer.models.handle import LoadedModel
from explorer.probes.counterfactual import Counterfactual
from explorer.probes.heads import head_attribution, mean_attribution
from explorer.probes.sweep import sweep_heads, sweep_summary
from widgets._runner import Job, Runner
from widgets._plot import model_lock, refresh
from widgets._state import SharedState
from widgets.figures import heads as F

GRID = (-10.0, -5.0, -2.0, -1.0, 0.0, 1.0, 2.0, 5.0, 10.0)
Head = tuple[int, int]


class HeadsWidget:
    """Attribution map, factor slider, target-rate curve, per-prompt table, and the apply switch."""

    def __init__(self, model: LoadedModel, records: Sequence[Counterfactual], *, state: SharedState | None = None,
                 grid: Sequence[float] = GRID, batch_size: int = 16, attribution: pd.DataFrame | None = None,
                 run: bool = True) -> None:
        """``attribution``: a :func:`head_attribution` frame of these records, to skip recomputing it."""
        self.model, self.records = model, list(records)
        self.state = state if state is not None else SharedState()
        self.grid, self.batch_size = [float(a) for a in grid], batch_size
        self.attribution = pd.DataFrame(columns=C.HEAD_ATTRIBUTION_COLUMNS)
        self._given = attribution
        self.sweeps: dict[Head, pd.DataFrame] = {}  # per head: per prompt x factor rows computed so far
        self.head: Head | None = None
        self._lock = model_lock(model)

        self.slider = W.FloatSlider(value=1.0, min=-10, max=10, step=0.5, description="factor",
                                    continuous_update=False, readout_format=".1f")
        self.prompt = W.Dropdown(options=[("mean over prompts", "")] + [(r.id, r.id) for r in self.records],
                                 description="map of")
        self.apply = W.ToggleButton(value=self.state.apply_intervention, description="apply to other views",
                                    icon="share", tooltip="run every other view with this head scaled by this factor")
        self.headline = W.HTML()
        self.table = W.HTML()
        self.runner = Runner("heads")
        self.heat_fig = go.FigureWidget(F.attribution_heatmap(mean_attribution(self.attribution)))
        self.curve_fig = go.FigureWidget(F.sweep_figure(pd.DataFrame(columns=C.SWEEP_SUMMARY_COLUMNS)))
        self.heat_fig.data[0].on_click(self._clicked)
        self.slider.observe(lambda _: self._factor_changed(), "value")
        self.prompt.observe(lambda ch: self._prompt_changed(ch["new"]), "value")
        self.apply.observe(lambda _: self._share(), "value")
        self.state.observe(self._selected, "selected_item")
        self.widget = W.VBox([W.HBox([self.prompt, self.slider, self.apply]), self.runner.widget, self.headline,
                              W.HBox([self.heat_fig, W.VBox([self.curve_fig, self.table])])])
        if run:
            self.run()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        display(self.widget)

    # --- work -------------------------------------------------------------------------------------
    def run(self) -> Job:
        """Attribution for every head (one pass per batch), then the sweep of the strongest head."""
        return self.runner.start(self._attribute, on_result=self._show_sweep, on_partial=self._show_attribution)

    def _attribute(self, job: Job) -> tuple[Head, pd.DataFrame]:
        frame = self._given
        if frame is None:
            with self._lock:
                frame = head_attribution(self.model, self.records, batch_size=self.batch_size,
                                         progress=job.progress, cancel=job.cancelled)
        job.emit(frame)
        mean = mean_attribution(frame)
        top = mean.loc[mean[C.ATTRIBUTION].abs().idxmax()]
        head = (int(top[C.LAYER]), int(top[C.HEAD]))
        self.head = head
        return head, self._sweep(job, head, self._wanted())

    def _wanted(self) -> list[float]:
        return sorted({*self.grid, 1.0, float(self.slider.value)})

    def _sweep(self, job: Job, head: Head, factors: list[float]) -> pd.DataFrame:
        done = self.sweeps.get(head)
        missing = [a for a in factors if done is None or a not in set(done[C.FACTOR])]
        if missing:
            with self._lock:
                new = sweep_heads(self.model, self.records, [head], missing, batch_size=self.batch_size * len(missing),
                                  progress=job.progress, cancel=job.cancelled)
            done = new if done is None else pd.concat([done, new], ignore_index=True)
        return done

    def select_head(self, layer: int, head: int) -> Job:
        """Pick a head: outline it and compute its sweep (grid and current factor) in the background."""
        self.head = (int(layer), int(head))
        refresh(self.heat_fig, F.attribution_heatmap(self._map_frame(), selected=self.head))
        self._share()
        chosen = self.head
        return self.runner.start(lambda job: (chosen, self._sweep(job, chosen, self._wanted())),
                                 on_result=self._show_sweep)

    # --- views ------------------------------------------------------------------------------------
    def _map_frame(self) -> pd.DataFrame:
        frame = self.attribution
        if self.prompt.value:
            frame = frame[frame[C.PROMPT_ID] == self.prompt.value]
        return mean_attribution(frame)

    def _show_attribution(self, frame: pd.DataFrame) -> None:
        self.attribution = frame
        refresh(self.heat_fig, F.attribution_heatmap(self._map_frame(), selected=self.head))

    def _show_sweep(self, result: tuple[Head, pd.DataFrame]) -> None:
        head, frame = result
        self.sweeps[head] = frame
        if head == self.head:
            refresh(self.heat_fig, F.attribution_heatmap(self._map_frame(), selected=self.head))
            self._show_factor()

    def _show_factor(self) -> None:
        frame = self.sweeps.get(self.head) if self.head is not None else None
        if frame is None:
            return
        summary = sweep_summary(frame)
        base = summary.loc[summary[C.FACTOR] == 1.0, C.TARGET_RATE]
        factor = float(self.slider.value)
        refresh(self.curve_fig, F.sweep_figure(summary, current=factor, base_rate=float(base.iloc[0]) if len(base)
                                               else None, head=self.head))
        rows = frame[frame[C.FACTOR] == factor]
        self.table.value = F.prompt_table(rows, selected=self.state.selected_item)
        mean = mean_attribution(self.attribution)
        att = mean[(mean[C.LAYER] == self.head[0]) & (mean[C.HEAD] == self.head[1])][C.ATTRIBUTION]
        rate = summary.loc[summary[C.FACTOR] == factor, C.TARGET_RATE]
        self.headline.value = (f"<b>{len(self.records)}</b> prompts · head <b>L{self.head[0]}H{self.head[1]}</b> "
                               f"mean attribution <b>{float(att.iloc[0]) if len(att) else float('nan'):+.3f}</b> · "
                               f"target rate unscaled <b>{float(base.iloc[0]) if len(base) else float('nan'):.2f}</b>"
                               f" → ×{factor:g}: <b>{float(rate.iloc[0]) if len(rate) else float('nan'):.2f}</b>")

    # --- events -----------------------------------------------------------------------------------
    def _clicked(self, trace, points, _selector) -> None:
        if points.xs and points.ys:
            self.select_head(int(points.ys[0]), int(points.xs[0]))

    def _factor_changed(self) -> None:
        self._share()
        frame = self.sweeps.get(self.head) if self.head is not None else None
        if frame is not None and float(self.slider.value) in set(frame[C.FACTOR]):
            self._show_factor()  # on the computed grid: redraw only
        elif self.head is not None:
            chosen = self.head
            self.runner.start(lambda job: (chosen, self._sweep(job, chosen, self._wanted())),
                              on_result=self._show_sweep)

    def _prompt_changed(self, prompt_id: str) -> None:
        if prompt_id:
            self.state.selected_item = prompt_id
        refresh(self.heat_fig, F.attribution_heatmap(self._map_frame(), selected=self.head))

    def _selected(self, change) -> None:
        if change["new"] in [r.id for r in self.records] and self.prompt.value != change["new"]:
            self.prompt.value = change["new"]
        self._show_factor()

    def _share(self) -> None:
        """Hand the current scaling to the other views (only while the switch is on)."""
        if self.apply.value and self.head is not None:
            self.state.heads = {self.head: float(self.slider.value)}
        self.state.apply_intervention = bool(self.apply.value)
