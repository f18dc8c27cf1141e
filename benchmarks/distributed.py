"""Benchmark: the permutation probe over a local Ray cluster (2 actors) against the same probe in-process.

Both score the same items under the same orders with the bundled model, result cache off, in one
process: first in-process (model load included), then over Ray (actors start, each loads the
model, rows stream to a run folder). The ratio is the distributed run's wall time over the
in-process one; starting the Ray cluster itself is timed apart (a cluster outlives many runs).
The machine's load average is printed before and after, since other work shares its cores.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/distributed.py [--items 100] [--orders all] [--actors 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["RAY_ADDRESS"] = ""  # never join an outside cluster

from common import hundred_items  # noqa: E402

from explorer import columns as C  # noqa: E402
from explorer import load_model  # noqa: E402
from explorer.distributed import connect, run_probe  # noqa: E402
from explorer.probes.permutation import permutation_probe  # noqa: E402


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--orders", default="all")
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--model", default="smollm2-135m")
    args = parser.parse_args()
    items = hundred_items(args.items)
    print(f"before: {load()}", flush=True)

    t = time.perf_counter()
    model = load_model(args.model)
    load_s = time.perf_counter() - t
    frame = permutation_probe(model, items, orders=args.orders, cache=None)
    local_s = time.perf_counter() - t
    n = frame.groupby([C.ITEM_ID, C.ORDER_ID]).ngroups
    print(f"in-process: {local_s:6.1f} s (model load {load_s:.1f} s, torch threads {torch.get_num_threads()}), "
          f"{n} prompts, {n / (local_s - load_s):.1f} prompts/s scoring", flush=True)
    del model

    t = time.perf_counter()
    connect("local", num_cpus=os.cpu_count())
    start_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        result = run_probe("permutation", args.model, items, Path(out) / "run", options={"orders": args.orders},
                           actors=args.actors)
        ray_s = time.perf_counter() - t
        rows = result.rows()
    assert result.complete and len(rows) == len(frame)
    diff = float(np.abs(rows[C.PROB].to_numpy() - frame[C.PROB].to_numpy()).max())
    workers = rows[C.WORKER].nunique()
    print(f"Ray cluster start: {start_s:6.1f} s (once per cluster, not counted below)")
    print(f"Ray, {args.actors} actors: {ray_s:6.1f} s (actors start and load the model, {len(result.folder.parts())} "
          f"parts written, {workers} actors scored items)")
    print(f"ratio distributed / in-process: {ray_s / local_s:.2f}x (with the cluster start: "
          f"{(ray_s + start_s) / local_s:.2f}x); max |p_ray - p_in-process| = {diff:.1e}")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
