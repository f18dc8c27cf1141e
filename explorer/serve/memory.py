"""Handing freed memory back to the system after a run, in a page's kernel and in the model host alike."""

from __future__ import annotations

import ctypes
import functools
import gc


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
        return libc
    except (OSError, AttributeError):
        return None


def release_memory() -> None:
    """Hand the memory a finished run freed back to the system (glibc keeps freed heap pages otherwise: a
    process that ran a large forward pass would hold its peak for good), after collecting the cycles that still
    hold a finished run's tensors and frames. Tens of milliseconds; nothing elsewhere."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
