"""Run engine work off the kernel's message loop, with a progress bar, a cancel button and
results streamed to the caller as they come. Starting new work cancels stale work.

The work function receives a :class:`Job` and calls ``job.progress(done, total)`` and
``job.emit(partial)``; it passes ``job.cancelled`` to the engine as its ``cancel`` argument so the
engine stops between batches.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import ipywidgets as W

from explorer.errors import Cancelled
from explorer.serve.memory import release_memory
from widgets._text import esc, one_line

T = TypeVar("T")


class Job:
    """One run of work: its own cancel flag, so a superseded job cannot touch the views."""

    def __init__(self, runner: Runner, on_partial: Callable[[Any], None] | None = None) -> None:
        self._runner = runner
        self._on_partial = on_partial
        self._event = threading.Event()

    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()

    def progress(self, done: int, total: int) -> None:
        if not self.cancelled():
            self._runner._show_progress(done, total)

    def emit(self, partial: Any) -> None:
        """Hand a partial result to the job's ``on_partial`` (ignored once cancelled)."""
        if not self.cancelled() and self._on_partial is not None:
            self._on_partial(partial)


class Runner:
    """A progress bar, a status line and a cancel button around one background thread at a time.

    New work cancels the running job; if that job's thread is still inside a step that cannot stop (a
    forward pass, a file being read), the new work waits for it and then starts, so a runner never has two
    threads and clicks cannot pile work up: only the newest waiting work is kept. An error is shown as one
    escaped line; its traceback goes to the process's own stderr (the server's log), never to the page
    (``last_error`` keeps the exception)."""

    def __init__(self, description: str = "") -> None:
        self.bar = W.IntProgress(value=0, min=0, max=1, description=description, layout=W.Layout(width="320px"))
        self.status = W.HTML(value="")
        self.cancel_button = W.Button(description="Cancel", disabled=True, layout=W.Layout(width="auto"),
                                      tooltip="stop at the next batch; what finished stays on screen, labelled")
        self.cancel_button.on_click(lambda _: self.cancel())
        self.widget = W.HBox([self.bar, self.cancel_button, self.status])
        self._job: Job | None = None
        self._thread: threading.Thread | None = None
        self._pending: Callable[[], None] | None = None  # the newest work, waiting for the thread to end
        self._lock = threading.Lock()
        self.last_error: BaseException | None = None
        self.threads_started = 0
        _RUNNERS.add(self)

    def start(self, work: Callable[[Job], T], *, on_result: Callable[[T], None],
              on_partial: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None,
              on_cancel: Callable[[], None] | None = None) -> Job:
        """Cancel any running job, then run ``work(job)`` in a thread (once the previous one has ended);
        ``on_result`` gets its return. ``on_cancel`` runs when this job is cancelled while still the current
        one (the Cancel button), not when newer work replaces it."""
        self.cancel()
        job = self._job = Job(self, on_partial)
        self.last_error = None
        self.cancel_button.disabled = False
        self.bar.bar_style = ""
        self.bar.value = 0

        def target() -> None:
            started = time.perf_counter()
            try:
                if job.cancelled():
                    raise Cancelled("cancelled before it started")
                self.status.value = "running…"
                result = work(job)
                if not job.cancelled():
                    on_result(result)
                    self.bar.value = self.bar.max  # done is 100%, whatever the last report said
                    self.status.value = f"done in {time.perf_counter() - started:.1f} s"
                    self.bar.bar_style = "success"
                elif self._job is job:
                    raise Cancelled("cancelled")
            except Cancelled:
                if self._job is job:
                    self.status.value = "cancelled"
                    self.bar.bar_style = "warning"
                    if on_cancel is not None:
                        on_cancel()
            except Exception as e:  # noqa: BLE001 - shown to the user, kept for tests
                if self._job is not job:
                    return  # superseded: newer work owns the view; its own outcome will be shown
                self.last_error = e
                self.bar.bar_style = "danger"
                line = one_line(f"{type(e).__name__}: {e}")
                self.status.value = f"<span style='color:#b00'>error: {esc(line)}</span>"
                if on_error is not None:
                    on_error(e)
                else:
                    traceback.print_exc(file=sys.__stderr__)
            finally:
                if self._job is job:
                    self.cancel_button.disabled = True

        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._pending = target
                self.status.value = "waiting for the previous run to stop…"
            else:
                self._spawn(target)
        return job

    def _spawn(self, target: Callable[[], None]) -> None:
        """Run ``target`` in a new thread, then whatever work arrived meanwhile (called under the lock)."""
        def run() -> None:
            try:
                target()
            finally:
                with self._lock:
                    following, self._pending = self._pending, None
                    if following is not None:
                        self._spawn(following)
                if following is None:
                    release_memory()

        self._thread = threading.Thread(target=run, daemon=True, name="lm-explorer-work")
        self.threads_started += 1
        self._thread.start()

    def cancel(self) -> None:
        """Ask the running job to stop at its next batch boundary."""
        if self._job is not None:
            self._job.cancel()
        self.cancel_button.disabled = True

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._pending is not None or (self._thread is not None and self._thread.is_alive())

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current job and any waiting one end (for tests and scripts, never for the UI)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread, pending = self._thread, self._pending
            if thread is None or (not thread.is_alive() and pending is None):
                return
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0))
            if thread.is_alive():
                raise TimeoutError(f"background work still running after {timeout} s")
            with self._lock:
                if self._thread is thread and self._pending is None:
                    return

    def _show_progress(self, done: int, total: int) -> None:
        self.bar.max = max(total, 1)
        self.bar.value = min(done, self.bar.max)


_RUNNERS: weakref.WeakSet[Runner] = weakref.WeakSet()


def stop_all(timeout: float = 60) -> None:
    """Cancel every runner's job and wait for its thread (tests and kernel shutdown: a thread left
    inside a forward pass when the interpreter exits can abort the process)."""
    runners = list(_RUNNERS)
    for runner in runners:
        runner.cancel()
    for runner in runners:
        runner.wait(timeout)


def in_chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Split items into consecutive chunks, so a widget can stream one chunk's results at a time."""
    return [items[i : i + size] for i in range(0, len(items), size)]


class Debouncer:
    """Call ``fn`` once ``wait`` seconds after the last trigger (for typing into a text box)."""

    def __init__(self, fn: Callable[[], None], wait: float = 0.4) -> None:
        self._fn, self._wait = fn, wait
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __call__(self, *_: Any) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._wait, self._fn)
            self._timer.daemon = True
            self._timer.start()

    def flush(self) -> None:
        """Run a pending call now (for tests)."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            self._fn()
