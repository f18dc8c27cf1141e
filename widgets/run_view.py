"""Open a finished run's folder and explore its scores, without loading the model.

A run done on a cluster (``lm-explorer ... --ray``) is a folder of parquet parts and a manifest;
this view reads it with pandas alone (:class:`explorer.distributed.RunFolder`, no Ray needed) and
shows it in the score-only probe views: order bias (a permutation run, also in the calibration
view grouped by order), attentiveness, and calibration. The head probe's views need the model.

Runs made elsewhere open the same way: a folder ``lm-explorer import`` wrote, or the run where it lies
(an lm-eval ``--log_samples`` output folder, a leaderboard details copy, Inspect logs), in the summary,
calibration, positions and chain views (:mod:`widgets.imported_view`); several of them (one per line, or
``RunView([a, b])``) side by side, one per model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import pandas as pd

from explorer import columns as C
from explorer.errors import ExplorerError
from explorer.serve import OPEN, Policy
from widgets._runner import Job, Runner
from widgets._state import SharedState
from widgets._text import esc, literal, one_line

if TYPE_CHECKING:
    from explorer.distributed.folder import Manifest, RunFolder


def _permutation(rows: pd.DataFrame, state: SharedState, code: str) -> dict[str, Any]:
    from widgets.calibration import CalibrationWidget  # noqa: PLC0415
    from widgets.permutation import PermutationWidget  # noqa: PLC0415

    return {"Order bias": PermutationWidget(frame=rows, frame_code=code, state=state, n_boot=100),
            "Calibration by order": CalibrationWidget(frame=rows, frame_code=code, state=state)}


def _attentiveness(rows: pd.DataFrame, state: SharedState, code: str) -> dict[str, Any]:
    from widgets.attentiveness import AttentivenessWidget  # noqa: PLC0415

    return {"Attentiveness": AttentivenessWidget(frame=rows, frame_code=code, state=state)}


def _calibration(rows: pd.DataFrame, state: SharedState, code: str) -> dict[str, Any]:
    from widgets.calibration import CalibrationWidget  # noqa: PLC0415

    return {"Calibration": CalibrationWidget(frame=rows, frame_code=code, state=state)}


def rows_code(folder: str | Path) -> str:
    """What "Show code" loads a run's rows with: the same reader as the view, with pandas alone."""
    return f"from explorer.distributed import RunFolder\n\nRunFolder({literal(str(Path(folder).resolve()))}).rows()"


# probe of a run -> its score-only views, by title; each gets the rows and the code that loads them
RUN_VIEWS: dict[str, Callable[[pd.DataFrame, SharedState, str], dict[str, Any]]] = {
    "permutation": _permutation, "attentiveness": _attentiveness, "calibration": _calibration}


Paths = str | Path | Sequence[str | Path]


class RunView:
    """A box of run folders (one per line) and an Open button; what was opened in a line; its views in tabs.
    Served (``policy``), only the run folders its operator lists open; nothing typed is looked up on disk first."""

    def __init__(self, path: Paths = "", *, state: SharedState | None = None, policy: Policy = OPEN) -> None:
        self.state, self.policy = state if state is not None else SharedState(), policy
        offered = ("a run this dashboard offers: " + ", ".join(policy.runs) if policy.runs else
                   "this dashboard offers no runs")
        self.path = W.Textarea(value=_joined(path), description="run folder",
                               placeholder="a folder a --ray run or `lm-explorer import` wrote, or an lm-eval output "
                               "folder; several, one per line, side by side" if policy.any_data else offered,
                               layout=W.Layout(width="520px", height="32px"))
        self.open_button = W.Button(description="Open run", icon="folder-open")
        self.open_button.on_click(lambda _: self.open())
        self.info = W.HTML()
        self.info.add_class("lmx-run-info")
        self.runner = Runner("reading")
        self.tabs = W.Tab()
        self.manifest: Manifest | None = None
        self.rows = pd.DataFrame()
        self.frames: dict[str, pd.DataFrame] = {}  # imported runs by name
        self.views: dict[str, Any] = {}
        self.widget = W.VBox([W.HBox([self.path, self.open_button, self.runner.widget]), self.info, self.tabs])
        if self.paths():
            self.open()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        display(self.widget)

    def paths(self) -> list[str]:
        return [p.strip() for p in self.path.value.splitlines() if p.strip()]

    def open(self, path: Paths | None = None) -> Job | None:
        """Read the run(s) in the background, then show them (an unfinished run shows what it holds)."""
        if path is not None:
            self.path.value = _joined(path)
        try:
            paths = [self.policy.check_run(p) for p in self.paths()]
        except ExplorerError as e:
            self._error(e)
            return None

        def work(job: Job) -> tuple:
            from explorer.distributed.folder import RunFolder  # noqa: PLC0415 - pyarrow: on open

            job.progress(0, 1)
            first = RunFolder(paths[0]) if paths else RunFolder("")
            if len(paths) == 1 and first.exists() and first.manifest().probe != IMPORTED:
                return ("probe", *self._read_probe_run(first))
            return ("imported", *_read_imported(paths))

        return self.runner.start(work, on_result=self._show, on_error=self._error)

    @staticmethod
    def _read_probe_run(folder: RunFolder) -> tuple[Manifest, pd.DataFrame, list[str], str]:
        from explorer.distributed.folder import RunFolderError  # noqa: PLC0415

        manifest = folder.manifest()
        if manifest.probe not in RUN_VIEWS:
            raise RunFolderError(f"{folder.path} holds a {manifest.probe!r} run; its views need the model. "
                                 f"Runs that open without it: {sorted(RUN_VIEWS)}")
        rows = folder.rows()
        if rows.empty:
            raise RunFolderError(f"{folder.path} holds no rows yet. Fix: let the run write some, then open it")
        return manifest, rows, folder.problems(rows), rows_code(folder.path)

    def _show(self, result: tuple) -> None:
        if result[0] == "imported":
            self._show_imported(*result[1:])
            return
        _, manifest, rows, problems, code = result
        self.manifest, self.rows, self.frames = manifest, rows, {}
        self.views = RUN_VIEWS[manifest.probe](rows, self.state, code)
        model = manifest.model
        state = ("complete" if not problems else
                 f"<span style='color:#b00'>not finished: {esc(problems[0])}; showing the rows so far</span>")
        self.info.value = (f"<b>{esc(manifest.probe)}</b> run of <b>{esc(str(model.get('name')))}</b> "
                           f"({esc(str(model.get('dtype')))}, fingerprint "
                           f"{esc((manifest.fingerprint or '?')[:12])}) · {rows[manifest.unit_key].nunique()} "
                           f"of {manifest.n_units} units · {len(rows)} rows · {state}")
        self._tabs()
        if C.WORKER in rows.columns:
            self.info.value += f" · computed by {rows[C.WORKER].nunique()} actor(s)"

    def _show_imported(self, paths: list[str], frames: dict[str, pd.DataFrame], summaries: dict[str, dict]) -> None:
        from widgets.imported_view import imported_views  # noqa: PLC0415

        self.manifest, self.frames = None, frames
        self.rows = next(iter(frames.values())) if len(frames) == 1 else pd.DataFrame()
        self.views = imported_views(frames, summaries, paths, self.state)

        def described(name: str, f: pd.DataFrame) -> str:
            source = str(f.attrs.get("source"))
            return (f"<b>{esc(name)}</b> ({'' if source in name else esc(source) + ': '}"
                    f"{f[C.ITEM_ID].nunique()} questions, {f[C.TASK].nunique()} task(s))")

        runs = " · ".join(described(name, f) for name, f in frames.items())
        notes = sum(len(f.attrs.get("notes") or []) for f in frames.values())
        self.info.value = (f"imported run{'s side by side' if len(frames) > 1 else ''}: {runs}"
                           f"{f' · {notes} note(s) on what was left out (Summary)' if notes else ''}")
        self._tabs()

    def _tabs(self) -> None:
        self.tabs.children = [v.widget for v in self.views.values()]
        self.tabs.titles = list(self.views)

    def _error(self, e: BaseException) -> None:
        self.info.value = f"<div style='color:#b00'>⚠ could not open the run: {esc(one_line(e, 600))}</div>"


IMPORTED = "imported"  # explorer.runs.store.PROBE


def _joined(path: Paths) -> str:
    return "\n".join(str(p) for p in path) if isinstance(path, (list, tuple)) else str(path)


def _read_imported(paths: list[str]) -> tuple[list[str], dict[str, pd.DataFrame], dict[str, dict]]:
    """Imported runs (or runs read where they lie) by name, and their summaries (engine work, off the kernel)."""
    import warnings  # noqa: PLC0415

    from explorer.distributed.folder import RunFolderError  # noqa: PLC0415
    from explorer.errors import RunLogError, RunLogWarning  # noqa: PLC0415
    from explorer.runs.store import is_run_folder, load_runs  # noqa: PLC0415
    from explorer.runs.summary import summarize_run  # noqa: PLC0415

    if not paths:
        raise RunFolderError("no run folder given. Fix: type a folder a run wrote (one per line for several)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RunLogWarning)  # kept in each frame's notes, shown in Summary
            frames = load_runs(paths)
    except RunLogError as e:
        bad = next((p for p in paths if not is_run_folder(p)), paths[0])
        raise RunFolderError(f"{bad} is not a run folder (no manifest.json) nor a run made elsewhere that lm-explorer "
                             f"reads: {e}") from None
    summaries = {name: summarize_run(f, logged=f.attrs.get("logged"), n_boot=100) for name, f in frames.items()}
    return [str(Path(p).resolve()) if Path(p).exists() else p for p in paths], frames, summaries
