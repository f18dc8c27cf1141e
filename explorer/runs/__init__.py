"""Runs researchers already have, as sources of every diagnostic: lm-evaluation-harness sample logs, Open LLM
Leaderboard details and Inspect eval logs, read into the engine's frame (one row per question x choice).

::

    from explorer.runs import load_run, summarize_run
    frame = load_run("lm-eval-out/")            # or a run folder, a leaderboard id, an Inspect log
    summary = summarize_run(frame, logged=frame.attrs["logged"])

One module per source (``lmeval``, ``leaderboard``, ``inspect_logs``), one that builds the frame
(``frame``), the frames the metric functions read (``views``), the summary (``summary``) and the run
folders (``store``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.runs.frame import docs_frame, run_frame
    from explorer.runs.inspect_logs import read_inspect
    from explorer.runs.leaderboard import read_leaderboard
    from explorer.runs.lmeval import read_lmeval
    from explorer.runs.record import RunLog, ScoredDoc
    from explorer.runs.sources import read_run, source_kind
    from explorer.runs.store import conditions_frame, import_run, load_run, load_runs, run_names
    from explorer.runs.summary import summarize_run
    from explorer.runs.views import chain_frame, letters, prompt_rows

_EXPORTS = {
    "RunLog": "explorer.runs.record",
    "ScoredDoc": "explorer.runs.record",
    "read_lmeval": "explorer.runs.lmeval",
    "read_leaderboard": "explorer.runs.leaderboard",
    "read_inspect": "explorer.runs.inspect_logs",
    "read_run": "explorer.runs.sources",
    "source_kind": "explorer.runs.sources",
    "run_frame": "explorer.runs.frame",
    "docs_frame": "explorer.runs.frame",
    "prompt_rows": "explorer.runs.views",
    "chain_frame": "explorer.runs.views",
    "letters": "explorer.runs.views",
    "summarize_run": "explorer.runs.summary",
    "import_run": "explorer.runs.store",
    "load_run": "explorer.runs.store",
    "load_runs": "explorer.runs.store",
    "run_names": "explorer.runs.store",
    "conditions_frame": "explorer.runs.store",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
