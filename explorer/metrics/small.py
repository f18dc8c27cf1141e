"""Empty and small samples: one rule for every metric and summary.

- **No data is an error.** A metric or summary of nothing raises :class:`~explorer.errors.NoItemsError`
  (``brier_multiclass([], [])`` is not a number).
- **An interval over few items says so.** Over fewer than :data:`MIN_INTERVAL_ITEMS` items a bootstrap
  interval is computed with a :class:`SmallSampleWarning` (one per summary) and a note in the
  summary; over a single item it has zero width by construction, so it is undefined: None in a
  dict summary (NaN in a frame), with the reason.
- **An undefined value has a reason.** A value the data cannot define (a correlation over fewer than
  three items or of a constant, a Brier score over options that Platt scaling leaves undefined) is
  None in a dict summary with a note saying why, and NaN in a frame with a warning naming the column.
- **A fit at its bound is flagged.** Recalibration whose parameter ends at its search bound warns
  (:class:`RecalibrationWarning`) and sets ``*_at_bound`` in the summary.
"""

from __future__ import annotations

import warnings

MIN_INTERVAL_ITEMS = 10


class SmallSampleWarning(UserWarning):
    """An interval over fewer than 10 items (too narrow to trust), or a value the sample leaves undefined."""


class RecalibrationWarning(UserWarning):
    """A recalibration parameter ended at its search bound: the fit says more about the data than the model."""


def interval_note(n: int, what: str = "items") -> str | None:
    """The reason an interval over ``n`` units is not to be trusted (None from 10 on)."""
    if n < 2:
        return f"intervals are undefined over {n} {what[:-1] if n == 1 else what} (a bootstrap of one has zero width)"
    if n < MIN_INTERVAL_ITEMS:
        return (f"intervals over {n} {what} (fewer than {MIN_INTERVAL_ITEMS}) are too narrow to trust: the bootstrap "
                "cannot see the spread of a larger sample")
    return None


def warn_small(n: int, what: str = "items", *, where: str = "", stacklevel: int = 3) -> str | None:
    """Warn (once for the caller) when an interval over ``n`` units is untrustworthy; the note, or None."""
    note = interval_note(n, what)
    if note is not None:
        warnings.warn(f"{where}{': ' if where else ''}{note}", SmallSampleWarning, stacklevel=stacklevel)
    return note
