"""What ``lm-explorer import`` and ``lm-explorer summarize`` share for runs made elsewhere: warnings as
one-line messages, the summary written and its headline printed."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from explorer.cli.common import write_json
from explorer.errors import RunLogWarning

T = TypeVar("T")


def quietly(command: str, work: Callable[[], T]) -> T:
    """Run ``work``; what a reader left out (:class:`RunLogWarning`) is printed as
    ``lm-explorer COMMAND: warning: ...``, other warnings pass on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = work()
    for w in caught:
        if issubclass(w.category, RunLogWarning):
            print(f"lm-explorer {command}: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(summary: dict, path: str | None, *, notes: bool = False) -> None:
    """Write ``summary`` to ``path`` (when given) and print its headline and a line per task (and the
    summary's notes: what the import left out, when it was not just warned about)."""
    cal = summary.get("calibration") or {}
    print(f"{summary['model']} ({summary['source']}): {summary['n_items']} questions, {len(summary['tasks'])} task(s)")
    print(f"accuracy {_f(summary['accuracy'])}  ECE {_f(cal.get('ece'))}  smooth ECE {_f(cal.get('smece'))}  "
          f"Brier {_f(cal.get('brier'))}  selective AUC {_f(cal.get('selective_auc'))}")
    for k, pos in (summary.get("positions") or {}).items():
        shares = " ".join(f"{lab}:{share:.2f}" for lab, share in zip(pos["labels"], pos["position_share"]))
        print(f"k={k}: predictions by position {shares}  RStd {_f(pos['rstd'], 1)}  A-bias {_f(pos['a_bias'])}")
    att = summary.get("attentiveness")
    if isinstance(att, dict) and "pma_mean" in att:
        print(f"PMA (mass on the labels) {_f(att['pma_mean'])}  greedy token not a label {_f(att['invalid_share'])}")
    for task, metrics in summary.get("reported", {}).items():
        parts = [f"{m} {_f(v['logged'], 4)} (log)" + (f" = {_f(v['reproduced'], 4)}" if v["reproduced"] is not None
                                                       else "") if v["logged"] is not None
                 else f"{m} {_f(v['reproduced'], 4)}" for m, v in metrics.items()]
        print(f"  {task}: {'  '.join(parts)}")
    for note in (summary.get("notes") or []) if notes else []:
        print(f"note: {note}")
    if path:
        write_json(summary, path)
        print(f"wrote {path}")
