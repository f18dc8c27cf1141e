"""The actor of a distributed run: it loads the model once, then runs the project's own probe on
each batch of units it is handed (Ray Data's ``map_batches`` with a callable class)."""

from __future__ import annotations

import os
import socket
from typing import Any

import pandas as pd
import pyarrow as pa

from explorer import columns as C
from explorer.distributed.spec import ModelSpec
from explorer.distributed.tasks import task
from explorer.distributed.units import loads
from explorer.scoring.engine import DEFAULT

UNIT = "unit"  # input column: one unit as JSON
FINGERPRINT = "_fingerprint"  # output column the driver checks against the manifest, then drops


class ProbeWorker:
    """Holds one model; ``__call__`` maps a batch of units to their rows (whole units only)."""

    def __init__(self, *, model: dict[str, Any], probe: str, options: dict[str, Any], batch_size: int = 32,
                 cache: bool = False) -> None:
        self.model = ModelSpec(**model).load()
        self.task = task(probe)
        self.options = options
        self.batch_size = batch_size
        self.cache = DEFAULT if cache else None  # the result cache of the node the actor runs on, if asked
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, batch: pd.DataFrame) -> pa.Table:
        """The rows as an Arrow table that remembers their pandas dtypes (nullable integers and booleans
        come back as the in-process frame has them)."""
        units = [loads(self.task.kind, text) for text in batch[UNIT]]
        rows = self.task.compute(self.model, units, self.options, batch_size=self.batch_size, cache=self.cache)
        rows[C.WORKER] = self.name
        rows[FINGERPRINT] = self.model.fingerprint
        return pa.Table.from_pandas(rows, preserve_index=False)
