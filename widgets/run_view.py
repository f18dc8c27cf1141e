"""Open a finished run's folder and explore its scores, without loading the model.

A run done on a cluster (``lm-explorer ... --ray``) is a folder of parquet parts and a manifest;
this view reads it with pandas alone (:class:`explorer.distributed.RunFolder`, no Ray needed) and
shows it in the score-only probe views: order bias (a permutation run, also in the calibration
view grouped by order), attentiveness, and calibration. The head probe's views need the model.
"""

from __future__ import annotations

from collections.abc import Callable
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
    from explorer.distributed.folder import Manifest


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


class RunView:
    """A folder box and an Open button; the run's manifest in a line; its views in tabs. Served
    (``policy``), only the run folders its operator lists open; nothing typed is looked up on disk first."""

    def __init__(self, path: str | Path = "", *, state: SharedState | None = None, policy: Policy = OPEN) -> None:
        self.state, self.policy = state if state is not None else SharedState(), policy
        self.path = W.Combobox(value=str(path), options=list(policy.runs), description="run folder",
                               placeholder="a folder a --ray run wrote" if policy.any_data else
                               "a run this dashboard offers", ensure_option=False, layout=W.Layout(width="520px"))
        self.open_button = W.Button(description="Open run", icon="folder-open")
        self.open_button.on_click(lambda _: self.open())
        self.info = W.HTML()
        self.info.add_class("lmx-run-info")
        self.runner = Runner("reading")
        self.tabs = W.Tab()
        self.manifest: Manifest | None = None
        self.rows = pd.DataFrame()
        self.views: dict[str, Any] = {}
        self.widget = W.VBox([W.HBox([self.path, self.open_button, self.runner.widget]), self.info, self.tabs])
        if str(path):
            self.open()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # noqa: PLC0415

        display(self.widget)

    def open(self, path: str | Path | None = None) -> Job | None:
        """Read the run in the background, then show it (an unfinished run shows what it holds)."""
        if path is not None:
            self.path.value = str(path)
        try:
            where = self.policy.check_run(self.path.value)
        except ExplorerError as e:
            self._error(e)
            return None

        def work(job: Job) -> tuple[Manifest, pd.DataFrame, list[str], str]:
            from explorer.distributed.folder import RunFolder, RunFolderError  # noqa: PLC0415 - pyarrow: on open

            job.progress(0, 1)
            folder = RunFolder(where)
            manifest = folder.manifest()
            if manifest.probe not in RUN_VIEWS:
                raise RunFolderError(f"{folder.path} holds a {manifest.probe!r} run; its views need the model. "
                                     f"Runs that open without it: {sorted(RUN_VIEWS)}")
            rows = folder.rows()
            if rows.empty:
                raise RunFolderError(f"{folder.path} holds no rows yet. Fix: let the run write some, then open it")
            return manifest, rows, folder.problems(rows), rows_code(folder.path)

        return self.runner.start(work, on_result=self._show, on_error=self._error)

    def _show(self, result: tuple[Manifest, pd.DataFrame, list[str], str]) -> None:
        manifest, rows, problems, code = result
        self.manifest, self.rows = manifest, rows
        self.views = RUN_VIEWS[manifest.probe](rows, self.state, code)
        model = manifest.model
        state = ("complete" if not problems else
                 f"<span style='color:#b00'>not finished: {esc(problems[0])}; showing the rows so far</span>")
        self.info.value = (f"<b>{esc(manifest.probe)}</b> run of <b>{esc(str(model.get('name')))}</b> "
                           f"({esc(str(model.get('dtype')))}, fingerprint "
                           f"{esc((manifest.fingerprint or '?')[:12])}) · {rows[manifest.unit_key].nunique()} "
                           f"of {manifest.n_units} units · {len(rows)} rows · {state}")
        self.tabs.children = [v.widget for v in self.views.values()]
        self.tabs.titles = list(self.views)
        if C.WORKER in rows.columns:
            self.info.value += f" · computed by {rows[C.WORKER].nunique()} actor(s)"

    def _error(self, e: BaseException) -> None:
        self.info.value = f"<div style='color:#b00'>⚠ could not open the run: {esc(one_line(e, 600))}</div>"
