"""Progress reporting and cooperative cancellation for long scoring runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from explorer.errors import Cancelled

ProgressFn = Callable[[int, int], None]  # (done, total)


class CancelToken(Protocol):
    def is_set(self) -> bool: ...


def check_cancel(cancel: CancelToken | Callable[[], bool] | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` (a ``threading.Event`` or a callable) says so."""
    if cancel is None:
        return
    stop = cancel.is_set() if hasattr(cancel, "is_set") else cancel()
    if stop:
        raise Cancelled("cancelled; results finished before the cancel are cached and will not be recomputed")


def tqdm_progress(desc: str = "scoring") -> ProgressFn:
    """A progress callback drawing a tqdm bar (for the CLI and scripts)."""
    from tqdm.auto import tqdm  # noqa: PLC0415

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, unit="prompt", leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update
