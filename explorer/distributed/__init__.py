"""Scale-out: probes over a Ray cluster, as resumable runs written to a folder.

Ray is optional (``pip install "lm-explorer[scale]"``): this package imports without it, and a
run folder is read (``RunFolder(path).rows()``) with pandas alone, so a cluster run is explored on
a laptop. ``run_probe`` needs Ray and says how to install it when it is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.distributed.runner import DistributedRunError, run_probe, RunResult
    from explorer.distributed.folder import Manifest, RunFolder, RunFolderError
    from explorer.distributed.spec import ModelSpec
    from explorer.distributed.tasks import Task, TASKS
    from explorer.distributed.cluster import connect, INSTALL_HINT, RayMissingError, require_ray

_EXPORTS = {
    "run_probe": "explorer.distributed.runner",
    "RunResult": "explorer.distributed.runner",
    "DistributedRunError": "explorer.distributed.runner",
    "RunFolder": "explorer.distributed.folder",
    "Manifest": "explorer.distributed.folder",
    "RunFolderError": "explorer.distributed.folder",
    "ModelSpec": "explorer.distributed.spec",
    "TASKS": "explorer.distributed.tasks",
    "Task": "explorer.distributed.tasks",
    "connect": "explorer.distributed.cluster",
    "require_ray": "explorer.distributed.cluster",
    "RayMissingError": "explorer.distributed.cluster",
    "INSTALL_HINT": "explorer.distributed.cluster",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
