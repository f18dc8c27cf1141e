"""The ipywidgets + plotly UI: thin views over the ``explorer`` engine (no probe logic here)."""

from widgets._runner import Debouncer, Job, Runner, in_chunks

__all__ = ["Runner", "Job", "Debouncer", "in_chunks"]

from widgets.permutation import PermutationWidget  # noqa: E402

__all__ += ["PermutationWidget"]

from widgets.attentiveness import AttentivenessWidget  # noqa: E402

__all__ += ["AttentivenessWidget"]

from widgets.calibration import CalibrationWidget  # noqa: E402

__all__ += ["CalibrationWidget"]

from widgets.heads import HeadsWidget  # noqa: E402

__all__ += ["HeadsWidget"]

from widgets.chain import ChainWidget  # noqa: E402

__all__ += ["ChainWidget"]

from widgets.run_view import RunView  # noqa: E402

__all__ += ["RunView"]
