"""Scale-out: probes over a Ray cluster, as resumable runs written to a folder.

Ray is optional (``pip install "lm-explorer[scale]"``): this package imports without it, and a
run folder is read (``RunFolder(path).rows()``) with pandas alone, so a cluster run is explored on
a laptop. ``run_probe`` needs Ray and says how to install it when it is missing.
"""

from explorer.distributed.cluster import INSTALL_HINT, RayMissingError, connect, require_ray
from explorer.distributed.folder import Manifest, RunFolder, RunFolderError
from explorer.distributed.runner import DistributedRunError, RunResult, run_probe
from explorer.distributed.spec import ModelSpec
from explorer.distributed.tasks import TASKS, Task

__all__ = ["run_probe", "RunResult", "DistributedRunError", "RunFolder", "Manifest", "RunFolderError", "ModelSpec", "TASKS", "Task",
           "connect", "require_ray", "RayMissingError", "INSTALL_HINT"]
