"""The calibration widget: reliability diagram with bin counts, by condition, raw or recalibrated.

A thin view: the model is scored once per set of conditions (formats) in the background; moving the
bins slider, the strategy, the grouping or the recalibration only recomputes metrics from the kept
frame (:mod:`explorer.probes.calibration`), never the model. Clicking a bin lists its prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ipywidgets as W
import pandas as pd

from explorer import columns as C
from explorer.items.item import Item
from explorer.serve.calls import run
from widgets._plot import refresh
from widgets._runner import Job
from widgets._setup import Setup
from widgets._state import SharedState
from widgets._text import esc
from widgets._view import ProbeView, fig_widget, given_code
from widgets.figures import calibration as F
from widgets.figures.groups import group_bars
from widgets.glossary import ALIASES, DEFINITIONS, term
from widgets.specs import CALIBRATION_NUMBERS, GROUPABLE, SMECE_BOOTSTRAP, CalibrationSpec

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

NONE = "(none)"
GROUP_METRICS = [("ECE", C.ECE), ("accuracy", C.ACCURACY), ("mean confidence", C.MEAN_CONFIDENCE),
                 ("Brier", C.BRIER), ("balance", C.BALANCE)]
RECALIBRATION = {"none": "as scored", "temperature": "temperature-scaled", "platt": "Platt-scaled"}


class CalibrationWidget(ProbeView):
    """Controls (bins, strategy, group by, recalibration, confidence), the reliability diagram, a
    per-group score table, per-group bars of a score against its pooled value (group by a condition
    or any metadata column, e.g. subject), and the prompts of a clicked bin.

    Give a model and items (scored under ``formats``), or a ready choice frame from any probe
    (``frame=``; e.g. the permutation probe's, to group by ``order_id``), with ``frame_code``: the Python
    expression that loads it, for "Show code"."""

    TERMS = ("ECE", "MCE", "smECE", "Brier", "brier_top", "balance", "selective AUC", "mean confidence")

    def __init__(self, model: LoadedModel | None = None, items: Sequence[Item] = (), *,
                 frame: pd.DataFrame | None = None, frame_code: str | None = None,
                 formats: Sequence[str] = ("letters", "cloze"), state: SharedState | None = None,
                 setup: Setup | None = None, folds: int = 5, run: bool = True) -> None:
        self.model, self.items, self.formats, self.folds = model, list(items), list(formats), folds
        self._init_view(state, setup)
        self.scored, self.given = frame, given_code(frame, frame_code, "CalibrationWidget")
        self.frame = pd.DataFrame(columns=C.CHOICE_COLUMNS)
        self.scoring_runs = 0
        self._recal_cache: dict[tuple, pd.DataFrame] = {}
        self.items_frame = self._bin_rows = pd.DataFrame()
        self.summary = pd.DataFrame()
        self._quiet, self._keep = False, []
        self.bins = W.IntSlider(value=10, min=2, max=30, description="bins", continuous_update=False)
        self.strategy = W.ToggleButtons(options=[("equal width", "uniform"), ("equal mass", "quantile")],
                                        value="uniform", description="bins are", style={"button_width": "auto"})
        self.group = W.Dropdown(options=[NONE], value=NONE, description="group by")
        self.metric = W.Dropdown(options=GROUP_METRICS, value=C.ECE, description="bars of")
        self.recalibration = W.ToggleButtons(options=[("as scored", "none"), ("temperature", "temperature"),
                                                      ("Platt", "platt")], value="none", description="recalibrate",
                                             tooltip=f"cross-fitted with {folds} folds within each group",
                                             style={"button_width": "auto"})
        self.source = W.ToggleButtons(options=[("renormalised", C.PROB_NORM), ("raw", C.PROB)], value=C.PROB_NORM,
                                      description="confidence", style={"button_width": "auto"})
        self.smooth = W.Checkbox(value=False, description="smoothed curve with 95% band (relplot)", indent=False)
        self.table = W.HTML()
        self.bin_items = W.Select(options=[], description="in bin", rows=8, layout=W.Layout(width="95%"))
        self.detail = W.HTML()
        self.fig = fig_widget(F.reliability_figure(pd.DataFrame(columns=C.RELIABILITY_COLUMNS)))
        self.group_fig = fig_widget(group_bars(pd.DataFrame(), None, C.ECE, None, count=C.N))
        self.figures = [self.fig, self.group_fig]
        for control in (self.bins, self.strategy, self.group, self.recalibration, self.source, self.smooth,
                        self.metric):
            control.observe(lambda _: self.update(), "value")
        self.bin_items.observe(self._picked, "value")
        self.state.observe(lambda ch: self._show_item(ch["new"]), "selected_item")
        if frame is None:
            self.state.observe(lambda _: self.run(), ["heads", "apply_intervention"])
        wrap = W.Layout(flex_flow="row wrap")
        controls = W.VBox([W.HBox([self.bins, self.group, self.metric], layout=wrap),
                           W.HBox([self.strategy, self.recalibration], layout=wrap),
                           W.HBox([self.source, self.smooth], layout=wrap)])
        self.results = W.VBox([self.fig, W.Box([self.table], layout=W.Layout(width="100%", overflow="auto")),
                               self.group_fig, self.bin_items, self.detail])
        self.widget = W.VBox([self.style, controls, self.runner.widget, self.banner, self.note, self.numbers_tag,
                              self.results,
                              self.caption])
        if frame is not None:
            spec = self.spec()
            self._arrive(frame, spec, True)
        elif run and model is not None:
            self.run()

    # --- work (the only place the model runs) -----------------------------------------------------
    def spec(self) -> CalibrationSpec:
        return CalibrationSpec(setup=self.current_setup(self.items), heads={} if self.given else self.state.applied(),
                               formats=tuple(self.formats), folds=self.folds, bins=self.bins.value,
                               strategy=self.strategy.value, group="" if self.group.value == NONE else self.group.value,
                               metric=self.metric.value, recalibration=self.recalibration.value,
                               source=self.source.value, smooth=self.smooth.value, given=self.given)

    def run(self) -> Job:
        """Score the items under every format in the background (inside the shared intervention)."""
        spec, items = self.spec(), list(self.items)
        return self.start(spec, lambda job: self._work(job, spec, items))

    def _work(self, job: Job, spec: CalibrationSpec, items: list[Item]) -> pd.DataFrame:
        frames = []
        for n, fmt in enumerate(spec.formats):
            def progress(d: int, t: int, n: int = n) -> None:
                job.progress(n * 100 + (100 * d // t if t else 100), 100 * len(spec.formats))

            frames.append(run(self.model, "score_choices", items, fmt, heads=spec.heads, progress=progress,
                              cancel=job.cancelled, batch_size=self.rows_per_pass()))
        return pd.concat(frames, ignore_index=True)

    def _show(self, frame: pd.DataFrame, spec: CalibrationSpec, final: bool) -> bool:
        from explorer.probes.calibration import recalibrated  # noqa: PLC0415 - with the first results, not the frame

        self.scoring_runs += int(not self.given)
        self.frame, self._recal_cache = frame, {}
        self.bin_items.options, self.detail.value = [], ""  # the bins listed before belong to the old scores
        self._keep = [c for c in GROUPABLE if c in frame.columns]
        items = recalibrated(frame, "none", keep=self._keep)
        options = [NONE] + [c for c in GROUPABLE if c in items.columns and items[c].nunique(dropna=False) > 1]
        options += [c for c in C.group_columns(frame) if c not in options]  # k and metadata (subject, ...)
        current = self.group.value if len(self.group.options) > 1 else C.FORMAT  # first scoring: by format
        self._quiet = True
        try:
            self.group.options = options
            self.group.value = current if current in options else (C.FORMAT if C.FORMAT in options else NONE)
        finally:
            self._quiet = False
        return self._draw()

    def shown_numbers(self) -> list[dict]:
        return self.summary[[*self.by, *CALIBRATION_NUMBERS]].to_dict("records")

    def _clear(self) -> None:
        self.frame, self.items_frame, self.summary = self.frame.iloc[0:0], pd.DataFrame(), pd.DataFrame()
        refresh(self.fig, F.reliability_figure(pd.DataFrame(columns=C.RELIABILITY_COLUMNS)))
        refresh(self.group_fig, group_bars(pd.DataFrame(), None, self.metric.value, None, count=C.N))
        self.table.value, self.detail.value, self.bin_items.options = "", "", []

    # --- metrics and views (no model calls) -------------------------------------------------------
    @property
    def by(self) -> list[str]:
        return [] if self.group.value == NONE else [self.group.value]

    def _items(self) -> pd.DataFrame:
        from explorer.probes.calibration import recalibrated  # noqa: PLC0415

        fit_by = tuple(c for c in self.by if c in self.frame.columns)  # recalibrate within conditions, not by answer
        key = (self.recalibration.value, fit_by, self.source.value)
        if key not in self._recal_cache:
            self._recal_cache[key] = recalibrated(self.frame, self.recalibration.value, by=fit_by, keep=self._keep,
                                                  folds=self.folds, prob=self.source.value)
        return self._recal_cache[key]

    def update(self) -> None:
        """Recompute the metrics from the kept frame under the controls and redraw (no model work)."""
        if self.frame.empty or self._quiet:
            return
        if self._draw():
            self.redraw_spec(**{k: v for k, v in vars(self.spec()).items() if k in CalibrationSpec.VIEW_FIELDS})

    def _draw(self) -> bool:
        """Draw under the current view controls; on an error clear the figures and say why."""
        from explorer.probes.calibration import reliability_frame, smooth_reliability_frame, summarize, with_bins  # noqa: PLC0415

        opts = dict(by=self.by, n_bins=self.bins.value, strategy=self.strategy.value)
        try:
            items = self._items()
            self.items_frame = with_bins(items, **opts)
            rel = reliability_frame(items, **opts)
        except (ValueError, KeyError) as e:  # e.g. a group too small to cross-fit
            spec = self.spec()
            self._clear()
            self.shown = None
            self._set_condition("error", f"Nothing shown for {spec.describe()} with {self.recalibration.value} "
                                         f"recalibration by {self.group.value}: {e}")
            return False
        smooth = smooth_reliability_frame(items, by=self.by) if self.smooth.value else None
        bins = f"{self.bins.value} equal-{'width' if self.strategy.value == 'uniform' else 'mass'} bins"
        title = f"Reliability: {RECALIBRATION[self.recalibration.value]}, {bins}"
        if refresh(self.fig, F.reliability_figure(rel, group=self.by[0] if self.by else None, title=title,
                                                  smooth=smooth)):
            for trace in self.fig.data[1:]:
                if trace.customdata is not None:  # the bins' curves and counts, not the smoothed curves
                    trace.on_click(self._clicked)
        self.summary = summarize(items, **opts, n_boot=SMECE_BOOTSTRAP)
        self.table.value = _table(self.summary)
        pooled = summarize(items, n_bins=self.bins.value, strategy=self.strategy.value,
                           n_boot=0)[self.metric.value].iloc[0]
        refresh(self.group_fig, group_bars(self.summary, self.by[0] if self.by else None, self.metric.value,
                                           float(pooled), count=C.N))
        if self.condition == "error" and self.frame is not None and not self.frame.empty:
            self.shown = self.spec()
            self._set_condition("fresh", "")
        return True

    def _clicked(self, trace, points, _state) -> None:
        if points.point_inds and trace.customdata is not None:
            group, b = trace.customdata[points.point_inds[0]]
            self.show_bin(group, int(b))

    def show_bin(self, group: str, b: int) -> pd.DataFrame:
        """List the predictions in bin ``b`` of ``group`` ("all" without grouping); returns them."""
        rows = self.items_frame[self.items_frame[C.BIN] == b]
        if self.by:
            rows = rows[rows[self.by[0]].map(F.group_label) == group]
        self._bin_rows = rows.reset_index(drop=True)
        self.bin_items.options = [(f"{r[C.ITEM_ID]} · {r[C.FORMAT]} · conf {r[C.CONFIDENCE]:.3f} · "
                                   f"{'right' if r[C.CORRECT] else 'wrong'}", i) for i, r in self._bin_rows.iterrows()]
        self.detail.value = "".join(_prompt_block(r) for _, r in self._bin_rows.head(20).iterrows())
        return self._bin_rows

    def _picked(self, change) -> None:
        if change["new"] is not None:
            self.state.selected_item = str(self._bin_rows.loc[change["new"], C.ITEM_ID])

    def _show_item(self, item_id: str) -> None:
        if not self.items_frame.empty and item_id and item_id in set(self.items_frame[C.ITEM_ID]):
            rows = self.items_frame[self.items_frame[C.ITEM_ID] == item_id]
            self.detail.value = "".join(_prompt_block(r) for _, r in rows.iterrows())


def _table(summary: pd.DataFrame) -> str:
    cols = [c for c in summary.columns if c != C.N]
    known = lambda c: ALIASES.get(c, c) in DEFINITIONS  # noqa: E731
    head = "".join(f"<th>{term(c, c) if known(c) else esc(c)}</th>" for c in [*cols, C.N])
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r[c])}</td>" for c in [*cols, C.N]) + "</tr>"
                   for _, r in summary.iterrows())
    return f"<table style='font-size:12px'><tr>{head}</tr>{body}</table>"


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else esc(str(value))


def _prompt_block(r: pd.Series) -> str:
    probs = " ".join(f"{'<b>' if i == r[C.PRED] else ''}{p:.3f}{'</b>' if i == r[C.PRED] else ''}"
                     f"{'✓' if i == r[C.ANSWER] else ''}" for i, p in enumerate(r[C.CHOICE_PROBS]))
    return (f"<div style='margin:4px 0'><b>{esc(str(r[C.ITEM_ID]))}</b> ({esc(str(r[C.FORMAT]))}) "
            f"confidence {r[C.CONFIDENCE]:.3f}, {'right' if r[C.CORRECT] else 'wrong'}; p by position: {probs}"
            f"<pre style='font-size:11px'>{esc(str(r[C.PROMPT]))}</pre></div>")
