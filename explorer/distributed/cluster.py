"""Ray, optional: imported only when a distributed run starts, with a clear error when missing."""

from __future__ import annotations

import os
from types import ModuleType

from explorer.errors import ExplorerError

INSTALL_HINT = 'pip install "lm-explorer[scale]"'


class RayMissingError(ExplorerError, ImportError):
    """Ray is not installed; distributed runs need the ``scale`` extra."""


def require_ray() -> ModuleType:
    """The ``ray`` module (with Ray Data), or an error saying how to install it."""
    try:
        import ray  # noqa: PLC0415
        import ray.data  # noqa: F401, PLC0415
    except ImportError as e:
        raise RayMissingError(f"distributed runs need Ray (with Ray Data), which is not installed ({e}). "
                              f"Fix: {INSTALL_HINT}; everything else in lm-explorer works without it") from None
    return ray


def connect(address: str | None = "local", *, num_cpus: int | None = None) -> ModuleType:
    """Join the Ray cluster at ``address`` (``ray://host:10001``, ``host:6379``, ``auto``), or start one
    on this machine for ``"local"``/None. An already initialised Ray (a notebook, a test) is reused.
    Actors' output (warnings such as a reduced-precision report) reaches this terminal."""
    ray = require_ray()
    if ray.is_initialized():
        return ray
    if address in (None, "", "local"):
        ray.init(address="local", num_cpus=num_cpus or os.cpu_count(), include_dashboard=False)
    else:
        ray.init(address=address)
    return ray
