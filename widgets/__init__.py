"""The ipywidgets + plotly UI: thin views over the ``explorer`` engine (no probe logic here).

Exports load on first use, so ``from widgets.dashboard import Dashboard`` shows its frame before any view
module (or torch) is imported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from widgets._runner import Debouncer, Job, Runner, in_chunks
    from widgets.attentiveness import AttentivenessWidget
    from widgets.calibration import CalibrationWidget
    from widgets.chain import ChainWidget
    from widgets.heads import HeadsWidget
    from widgets.permutation import PermutationWidget
    from widgets.run_view import RunView

_EXPORTS = {
    "Runner": "widgets._runner",
    "Job": "widgets._runner",
    "Debouncer": "widgets._runner",
    "in_chunks": "widgets._runner",
    "PermutationWidget": "widgets.permutation",
    "AttentivenessWidget": "widgets.attentiveness",
    "CalibrationWidget": "widgets.calibration",
    "HeadsWidget": "widgets.heads",
    "ChainWidget": "widgets.chain",
    "RunView": "widgets.run_view",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
