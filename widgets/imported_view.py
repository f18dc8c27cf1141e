"""Views of runs made elsewhere (lm-eval, the Open LLM Leaderboard, Inspect), one run or several side by side.

Thin: every number comes from :mod:`explorer.runs` (the run frames and :func:`explorer.runs.summarize_run`);
the calibration and chain tabs are the dashboard's own widgets given the runs' rows (several runs as
conditions), the positions tab draws the engine's position summaries of each run in one figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as W
import pandas as pd

from explorer import columns as C
from explorer.runs.store import conditions_frame
from explorer.runs.summary import position_summary
from explorer.runs.views import chain_frame, letters
from widgets._plot import refresh
from widgets._state import SharedState
from widgets._text import esc, literal
from widgets._view import fig_widget
from widgets.figures.runs import positions_figure

ALL = "(all label tasks)"
ROWS = [("questions", "n_items"), ("accuracy", "accuracy"), ("ECE", ("calibration", "ece")),
        ("smooth ECE", ("calibration", "smece")), ("Brier", ("calibration", "brier")),
        ("selective AUC", ("calibration", "selective_auc")), ("PMA (mass on the labels)", ("attentiveness", "pma_mean")),
        ("greedy token not a label", ("attentiveness", "invalid_share"))]


def _get(summary: Mapping, key) -> Any:
    if isinstance(key, str):
        return summary.get(key)
    block = summary.get(key[0])
    return block.get(key[1]) if isinstance(block, Mapping) else None


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return esc(value)


def loader_code(paths: list[str]) -> dict[str, str]:
    """The code that loads what each tab shows (for "Show code"): the calibration tab's rows (several runs as
    conditions) and the chain tab's frame."""
    runs = f"load_runs({literal(list(paths))})"
    single = f"from explorer.runs import load_run\n\nload_run({literal(paths[0])})"
    several = f"from explorer.runs import conditions_frame, load_runs\n\nconditions_frame({runs})"
    return {"calibration": single if len(paths) == 1 else several,
            "chain": f"from explorer.runs import chain_frame, load_runs\n\nchain_frame({runs})"}


class SummaryView:
    """One column per run: its model and source, and the headline numbers of its summary; then the run's own
    reported metrics beside the same recomputed, per task."""

    def __init__(self, summaries: Mapping[str, dict]) -> None:
        self.summaries = dict(summaries)
        self.numbers = {name: {label: _get(s, key) for label, key in ROWS} for name, s in self.summaries.items()}
        self.widget = W.HTML(self._html())

    def _html(self) -> str:
        names = list(self.summaries)
        head = "<tr><th></th>" + "".join(f"<th>{esc(n)}</th>" for n in names) + "</tr>"
        body = "<tr><td>source</td>" + "".join(f"<td>{_cell(s.get('source'))}</td>" for s in self.summaries.values())
        body += "</tr>" + "".join(f"<tr><td>{esc(label)}</td>" + "".join(
            f"<td>{_cell(self.numbers[n][label])}</td>" for n in names) + "</tr>" for label, _ in ROWS)
        for k in sorted({k for s in self.summaries.values() for k in (s.get("positions") or {})}, key=int):
            for label, key in (("A-share (first position)", "first"), ("RStd (×100)", "rstd")):
                cells = []
                for s in self.summaries.values():
                    pos = (s.get("positions") or {}).get(k)
                    cells.append(_cell(None if pos is None else (pos["position_share"][0] if key == "first"
                                                                 else pos["rstd"])))
                body += f"<tr><td>{esc(label)}, k = {k}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        table = f"<table class='lmx-table' style='font-size:12px'>{head}{body}</table>"
        return table + "".join(self._reported(n, s) for n, s in self.summaries.items())

    @staticmethod
    def _reported(name: str, summary: dict) -> str:
        rows = []
        for task, metrics in (summary.get("reported") or {}).items():
            parts = [f"{esc(m)} {_cell(v['logged'])} (log) → {_cell(v['reproduced'])}" for m, v in metrics.items()]
            rows.append(f"<tr><td>{esc(task)}</td><td>{' · '.join(parts)}</td></tr>")
        notes = "".join(f"<li>{esc(n)}</li>" for n in summary.get("notes") or [])
        return (f"<details><summary>{esc(name)}: per task, the run's own metric and the same recomputed"
                f"</summary><table style='font-size:12px'>{''.join(rows)}</table>"
                f"{f'<ul style=font-size:11px>{notes}</ul>' if notes else ''}</details>")

    def shown_numbers(self) -> dict:
        return self.numbers


class PositionsView:
    """Where each run's answers go: the share of predictions at each label position and recall by the gold
    answer's position, runs side by side, for all label tasks or one (and one number of choices at a time)."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self.frames = {name: letters(f) for name, f in frames.items()}
        tasks = sorted({t for f in self.frames.values() for t in f[C.TASK].unique()}) if self.frames else []
        self.task = W.Dropdown(options=[ALL, *tasks], value=ALL, description="tasks")
        self.k = W.Dropdown(options=[], description="k", layout=W.Layout(width="140px"))
        self.fig = fig_widget(positions_figure({name: None for name in self.frames}))
        self.line = W.HTML()
        self.summaries: dict[str, dict | None] = {}
        self.task.observe(lambda _: self.update(), "value")
        self.k.observe(lambda _: self.draw(), "value")
        self.widget = W.VBox([W.HBox([self.task, self.k]), self.line, self.fig])
        self.update()

    def update(self) -> None:
        """The engine's position summary of each run's rows of the chosen tasks."""
        chosen = {n: f if self.task.value == ALL else f[f[C.TASK] == self.task.value] for n, f in self.frames.items()}
        self.summaries = {n: position_summary(f) for n, f in chosen.items()}
        ks = sorted({k for s in self.summaries.values() for k in (s or {})}, key=int)
        keep = self.k.value if self.k.value in ks else (ks[0] if ks else None)
        self.k.options = ks
        self.k.value = keep
        self.k.layout.display = None if len(ks) > 1 else "none"
        self.draw()

    def draw(self) -> None:
        k = self.k.value
        shown = {n: (s or {}).get(k) for n, s in self.summaries.items()}
        refresh(self.fig, positions_figure(shown, title=f"Where the answers go ({esc(self.task.value)}, "
                                                         f"k = {k})"))
        parts = [f"<b>{esc(n)}</b>: " + ("no label task" if p is None else
                                                 f"{p['n_items']} questions, A-bias {p['a_bias']:.3f}, RStd "
                                                 f"{'–' if p['rstd'] is None else format(p['rstd'], '.1f')}")
                 for n, p in shown.items()]
        self.line.value = " · ".join(parts)

    def shown_numbers(self) -> dict:
        return {n: None if p is None else {"position_share": p["position_share"], "recall_by_position":
                                           p["recall_by_position"], "rstd": p["rstd"]}
                for n, p in ((n, (s or {}).get(self.k.value)) for n, s in self.summaries.items())}


def imported_views(frames: Mapping[str, pd.DataFrame], summaries: Mapping[str, dict], paths: list[str],
                   state: SharedState) -> dict[str, Any]:
    """The tabs of one or several imported runs: summary, calibration (runs as conditions), positions, and the
    quantity chain where every run has one order (several runs: compared question by question)."""
    from widgets.calibration import CalibrationWidget  # noqa: PLC0415
    from widgets.chain import ChainWidget  # noqa: PLC0415

    code = loader_code(paths)
    several = len(frames) > 1
    views: dict[str, Any] = {"Summary": SummaryView(summaries)}
    rows = conditions_frame(frames) if several else next(iter(frames.values()))
    if all(f.attrs.get("logprobs", True) for f in frames.values()):
        calibration = CalibrationWidget(frame=rows, frame_code=code["calibration"], state=state)
        if several and C.CONDITION in calibration.group.options:
            calibration.group.value = C.CONDITION
        views["Calibration"] = calibration
    views["Positions"] = PositionsView(frames)
    if "Calibration" in views and all(f[C.ORDER_ID].nunique() == 1 for f in frames.values()):
        views["Chain"] = ChainWidget(frame=chain_frame(frames), frame_code=code["chain"], state=state)
    return views
