"""The heads widget: which attention heads decide target vs foil, and what scaling one does.

A thin view over :mod:`explorer.probes.heads` (attribution) and :mod:`explorer.probes.sweep`
(scaling). The prompts are the loaded items (target: the gold label; foil: the wrong choice the model
ranks highest, :func:`explorer.probes.item_contrasts`), so a selected item is the same item in every
view, or the built-in capital counterfactuals (their own prompt set, named as such; their ids are never
sent to the other views), or records given directly. Click a cell of the layer x head map to pick a
head; the curve shows the target rate at each factor of a coarse grid (one batched pass); moving the
slider moves the current point and fills the table (an off-grid factor costs one more pass). The switch
hands the current scaling to every other view through the shared state. This view's own attribution
map is always of the unscaled model: it is where the intervention is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ipywidgets as W
import pandas as pd

from explorer import columns as C
from explorer.items.item import Item
from explorer.metrics.heads import mean_attribution, sweep_summary
from explorer.serve.calls import run
from widgets._plot import refresh
from widgets._runner import Job
from widgets._setup import Setup, heads_label
from widgets._state import SharedState
from widgets._text import esc
from widgets._view import ProbeView, fig_widget, side_by_side
from widgets.figures import heads as F
from widgets.glossary import term
from widgets.specs import HeadsSpec

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel
    from explorer.probes.counterfactual import Counterfactual

GRID = (-10.0, -5.0, -2.0, -1.0, 0.0, 1.0, 2.0, 5.0, 10.0)
PROMPT_SETS = [("the loaded items (gold vs the model's top wrong choice)", "items"),
               ("built-in capital counterfactuals (their own prompts)", "capitals")]
Head = tuple[int, int]


class HeadsWidget(ProbeView):
    """Prompt set, attribution map, factor slider, target-rate curve, per-prompt table, the apply switch."""

    TERMS = ("attribution", "target rate")

    def __init__(self, model: LoadedModel | None = None, records: Sequence[Counterfactual] | None = None, *,
                 items: Sequence[Item] = (), prompts: str = "items", state: SharedState | None = None,
                 setup: Setup | None = None, grid: Sequence[float] = GRID, batch_size: int = 16,
                 attribution: pd.DataFrame | None = None, run: bool = True) -> None:
        """``records``: a fixed prompt set; without it the prompts come from ``items`` or the built-in
        capitals (the ``prompts`` control). ``attribution``: a :func:`head_attribution` frame of the given
        records, to skip recomputing it."""
        self.model, self.items, self.given = model, list(items), list(records) if records is not None else None
        self._init_view(state, setup, "heads")
        self.grid, self.batch_size = [float(a) for a in grid], batch_size
        self.records: list[Counterfactual] = list(self.given or [])
        self.attribution = pd.DataFrame(columns=C.HEAD_ATTRIBUTION_COLUMNS)
        self.numbers: dict = {}
        self._memo: dict[tuple, pd.DataFrame] = {}  # (model, prompt, target, foil) -> that record's attribution rows
        if attribution is not None and model is not None:
            for r in self.records:
                self._memo[self._key(r)] = attribution[attribution[C.PROMPT_ID] == r.id]
        self._records_memo: dict[tuple, list[Counterfactual]] = {}
        self.sweeps: dict[tuple, pd.DataFrame] = {}  # (records, head) -> per prompt x factor rows so far
        self.head: Head | None = None
        self.prompts = W.ToggleButtons(options=PROMPT_SETS, value=prompts, description="prompts",
                                       style={"button_width": "auto"},
                                       layout=W.Layout(display="none" if self.given is not None else None))
        self.slider = W.FloatSlider(value=1.0, min=-10, max=10, step=0.5, description="factor",
                                    continuous_update=False, readout_format=".1f")
        self.prompt = W.Dropdown(options=[("mean over prompts", "")], description="map of")
        self.apply = W.ToggleButton(value=self.state.apply_intervention, description="apply to other views",
                                    tooltip="run every other view with this head scaled by this factor",
                                    layout=W.Layout(width="auto"))
        self.headline = W.HTML()
        self.table = W.HTML()
        self.heat_fig = fig_widget(F.attribution_heatmap(pd.DataFrame(columns=C.MEAN_ATTRIBUTION_COLUMNS)))
        self.curve_fig = fig_widget(F.sweep_figure(pd.DataFrame(columns=C.SWEEP_SUMMARY_COLUMNS)))
        self.figures = [self.heat_fig, self.curve_fig]
        self.heat_fig.data[0].on_click(self._clicked)
        self.prompts.observe(lambda _: self._prompts_changed(), "value")
        self.slider.observe(lambda _: self._factor_changed(), "value")
        self.prompt.observe(lambda ch: self._prompt_changed(ch["new"]), "value")
        self.apply.observe(lambda _: self._share(), "value")
        self.state.observe(self._selected, "selected_item")
        self.state.observe(self._state_changed, ["heads", "apply_intervention"])
        self.results = W.VBox([self.headline,
                               side_by_side((self.heat_fig, 55), (W.VBox([self.curve_fig, self.table]), 45))])
        self.widget = W.VBox([self.style, self.prompts, W.HBox([self.prompt, self.slider, self.apply],
                                                               layout=W.Layout(flex_flow="row wrap")),
                              self.runner.widget, self.banner, self.note, self.numbers_tag, self.results, self.caption])
        if run and model is not None:
            self.run()

    # --- state ------------------------------------------------------------------------------------
    def spec(self) -> HeadsSpec:
        prompts = "given" if self.given is not None else self.prompts.value
        return HeadsSpec(setup=self.current_setup(self.items), heads=self.state.applied(), prompts=prompts,
                         head=self.head, factor=float(self.slider.value), map_of=self.prompt.value or "")

    def configure(self, model: LoadedModel, items: Sequence[Item], setup: Setup | None = None) -> Job | None:
        """New model or items. With the item prompts, only records that changed are attributed again; with
        the capitals or given records, items do not matter and nothing runs unless the model changed."""
        changed_model = model is not self.model
        self.model, self.items, self.setup = model, list(items), setup
        if changed_model or self.spec().prompts == "items":
            return self.run()
        if self.shown is not None:
            self.shown = self.spec()  # same prompts and results; the code names the current data
        return None

    # --- work -------------------------------------------------------------------------------------
    def run(self) -> Job:
        """The prompts, attribution for every head (per record, memoised), then the sweep of the chosen head
        (the strongest until one is clicked)."""
        spec, items = self.spec(), list(self.items)
        return self.start(spec, lambda job: self._work(job, spec, items))

    def _key(self, r: Counterfactual) -> tuple:
        return (id(self.model), self.model.fingerprint, r.id, r.prompt, r.target, r.foil)

    def _records(self, job: Job, spec: HeadsSpec, items: list[Item]) -> list[Counterfactual]:
        from explorer.probes.counterfactual import capital_counterfactuals  # noqa: PLC0415

        if spec.prompts == "given":
            return list(self.given or [])
        key = (id(self.model), spec.prompts, tuple((i.id, i.question, i.choices, i.answer) for i in items)
               if spec.prompts == "items" else ())
        if key not in self._records_memo:
            if spec.prompts == "items":
                records = run(self.model, "item_contrasts", items, cancel=job.cancelled,
                              batch_size=self.rows_per_pass())
                if not records:
                    raise ValueError("none of the loaded items has a gold answer, so no target can be set; "
                                     "choose the built-in capital counterfactuals as prompts")
            else:
                records = run(self.model, "known_facts", capital_counterfactuals(24))[:12]
                if not records:
                    raise ValueError(f"{self.model.name} knows none of the built-in capitals without context, "
                                     "so the counterfactual prompts would test nothing; try a larger model")
            self._records_memo[key] = records
        return self._records_memo[key]

    def _attribute(self, job: Job, records: list[Counterfactual]) -> pd.DataFrame:
        missing = [r for r in records if self._key(r) not in self._memo]
        if missing:
            frame = run(self.model, "head_attribution", missing, batch_size=self.batch_size, progress=job.progress,
                        cancel=job.cancelled, **self.pass_budget())
            for r in missing:
                self._memo[self._key(r)] = frame[frame[C.PROMPT_ID] == r.id]
        return pd.concat([self._memo[self._key(r)] for r in records], ignore_index=True)

    def _work(self, job: Job, spec: HeadsSpec, items: list[Item]) -> tuple:
        records = self._records(job, spec, items)
        attribution = self._attribute(job, records)
        job.emit((records, attribution, None, None))
        head = spec.head
        if head is None:
            mean = mean_attribution(attribution)
            top = mean.loc[mean[C.ATTRIBUTION].abs().idxmax()]
            head = (int(top[C.LAYER]), int(top[C.HEAD]))
        factors = sorted({*self.grid, 1.0, float(spec.factor)})
        key = (tuple(self._key(r) for r in records), head)
        done = self.sweeps.get(key)
        missing = [a for a in factors if done is None or a not in set(done[C.FACTOR])]
        if missing:
            new = run(self.model, "sweep_heads", records, [head], missing, batch_size=self.batch_size * len(missing),
                      progress=job.progress, cancel=job.cancelled, **self.pass_budget())
            done = new if done is None else pd.concat([done, new], ignore_index=True)
            self.sweeps[key] = done
        return records, attribution, head, done

    def select_head(self, layer: int, head: int) -> Job:
        """Pick a head: outline it and compute its sweep (grid and current factor) in the background."""
        self.head = (int(layer), int(head))
        refresh(self.heat_fig, F.attribution_heatmap(self._map_frame(), selected=self.head))
        self._share()
        return self.run()

    # --- views ------------------------------------------------------------------------------------
    def _show(self, result: tuple, spec: HeadsSpec, final: bool) -> None:
        records, attribution, head, sweep = result
        self.records = records
        if [v for _, v in self.prompt.options][1:] != [r.id for r in records]:
            keep = self.prompt.value
            self.prompt.options = [("mean over prompts", "")] + [(r.id, r.id) for r in records]
            self.prompt.value = keep if keep in [r.id for r in records] else ""
        self.attribution = attribution
        if head is not None:
            self.head = head
        refresh(self.heat_fig, F.attribution_heatmap(self._map_frame(), selected=self.head))
        self._sweep = sweep
        if final:
            self._show_factor()

    def shown_numbers(self) -> dict:
        return self.numbers

    def _clear(self) -> None:
        self.attribution, self._sweep, self.numbers = self.attribution.iloc[0:0], None, {}
        refresh(self.heat_fig, F.attribution_heatmap(mean_attribution(self.attribution)))
        refresh(self.curve_fig, F.sweep_figure(pd.DataFrame(columns=C.SWEEP_SUMMARY_COLUMNS)))
        self.table.value = self.headline.value = ""

    def _map_frame(self) -> pd.DataFrame:
        frame = self.attribution
        if self.prompt.value:
            frame = frame[frame[C.PROMPT_ID] == self.prompt.value]
        return mean_attribution(frame)

    def _show_factor(self) -> None:
        frame = getattr(self, "_sweep", None)
        if frame is None or self.head is None:
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
        nan = float("nan")
        self.numbers = {"n_prompts": len(self.records), "head": list(self.head),
                        "attribution": float(att.iloc[0]) if len(att) else nan,
                        "target_rate_unscaled": float(base.iloc[0]) if len(base) else nan,
                        "target_rate": float(rate.iloc[0]) if len(rate) else nan}
        n = self.numbers
        source = "the given records" if self.given is not None else \
            next(label for label, value in PROMPT_SETS if value == self.prompts.value)
        self.headline.value = (f"<b>{n['n_prompts']}</b> prompts ({esc(source)}) · head "
                               f"<b>L{self.head[0]}H{self.head[1]}</b> mean {term('attribution')} "
                               f"<b>{n['attribution']:+.3f}</b> · {term('target rate')} unscaled "
                               f"<b>{n['target_rate_unscaled']:.2f}</b> → ×{factor:g}: "
                               f"<b>{n['target_rate']:.2f}</b>")

    def _show_banner(self, spec: HeadsSpec) -> None:
        heads = self.state.applied()
        self.banner.value = (f"<div class='lmx-banner'>⚠ Intervention on: <b>{esc(heads_label(heads))}</b> "
                             "is applied to every other view. This map and curve are of the unscaled model (the "
                             "curve scales only the selected head).</div>" if heads else "")
        self.banner.layout.display = None if heads else "none"

    # --- events -----------------------------------------------------------------------------------
    def _clicked(self, trace, points, _selector) -> None:
        if points.xs and points.ys:
            self.select_head(int(points.ys[0]), int(points.xs[0]))

    def _factor_changed(self) -> None:
        self._share()
        frame = getattr(self, "_sweep", None)
        if frame is not None and float(self.slider.value) in set(frame[C.FACTOR]) and not self.runner.busy:
            self._show_factor()  # on the computed grid: redraw only
            self.redraw_spec(factor=float(self.slider.value))
        elif self.head is not None:
            self.run()

    def _prompts_changed(self) -> None:
        self.head = None  # the strongest head of the new prompt set, until one is clicked
        self.run()

    def _prompt_changed(self, prompt_id: str) -> None:
        if prompt_id and self.spec().prompts == "items":
            self.state.selected_item = prompt_id  # an item id every view has; capitals ids stay here
        refresh(self.heat_fig, F.attribution_heatmap(self._map_frame(), selected=self.head))
        self.redraw_spec(map_of=prompt_id or "")

    def _selected(self, change) -> None:
        if change["new"] in [r.id for r in self.records]:
            if self.prompt.value != change["new"]:
                self.prompt.value = change["new"]
            self._show_factor()

    def _state_changed(self, _change=None) -> None:
        """Scaling switched on or off elsewhere (another view, a script): the switch follows."""
        if _change is not None and _change["name"] == "apply_intervention" and \
                self.apply.value != self.state.apply_intervention:
            self.apply.value = self.state.apply_intervention
        self._show_banner(self.spec())

    def _share(self) -> None:
        """Hand the current scaling to the other views (only while the switch is on)."""
        with self.state.hold_trait_notifications():  # the other views hear of both changes at once
            if self.apply.value and self.head is not None:
                self.state.heads = {self.head: float(self.slider.value)}
            self.state.apply_intervention = bool(self.apply.value)
        self._show_banner(self.spec())
