"""Benchmark: the permutation probe over a local Ray cluster (2 actors) against the same probe in-process.

Both score the same items under the same orders with the bundled model, result cache off, in one
process, alternately (in-process, Ray, in-process, Ray, ...) so that a change in the machine's
load hits both: in-process includes loading the model; over Ray, the actors start, each loads the
model, and rows stream to a run folder. The ratio is the median distributed wall time over the
median in-process one; starting the Ray cluster is timed apart (a cluster outlives many runs).
The load average is printed around every measurement, since other work may share the cores.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/distributed.py [--data capitals|mmlu] [--items 40] [--orders all]
                                                                [--actors 2] [--repeats 3]

``--data mmlu`` takes a seeded sample of the bundled MMLU questions (longer prompts: a job of a
researcher's size, where the actors' fixed start weighs less).
"""

from __future__ import annotations

import argparse
import os
import statistics
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
from explorer.items import mmlu  # noqa: E402
from explorer.distributed import connect, run_probe  # noqa: E402
from explorer.probes.permutation import permutation_probe  # noqa: E402


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def in_process(name: str, items, orders: str):
    t = time.perf_counter()
    model = load_model(name)
    frame = permutation_probe(model, items, orders=orders, cache=None)
    return frame, time.perf_counter() - t


def distributed(name: str, items, orders: str, actors: int):
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        result = run_probe("permutation", name, items, Path(out) / "run", options={"orders": orders}, actors=actors)
        seconds = time.perf_counter() - t
        assert result.complete
        return result.rows(), seconds, len(result.folder.parts())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["capitals", "mmlu"], default="capitals",
                        help="built-in capitals and arithmetic, or a seeded sample of the bundled MMLU questions")
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--orders", default="all")
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="smollm2-135m")
    args = parser.parse_args()
    items = hundred_items(args.items) if args.data == "capitals" else mmlu(args.items, seed=0)
    print(f"start: {load()}; torch threads in-process {torch.get_num_threads()}, 1 per actor", flush=True)
    t = time.perf_counter()
    connect("local", num_cpus=os.cpu_count())
    print(f"Ray cluster start: {time.perf_counter() - t:.1f} s (once per cluster, not counted below)", flush=True)
    local_s, ray_s = [], []
    for r in range(args.repeats):
        frame, seconds = in_process(args.model, items, args.orders)
        local_s.append(seconds)
        print(f"[{r}] in-process      {seconds:6.1f} s  {len(frame) // 4 / seconds:5.1f} prompts/s  ({load()})",
              flush=True)
        rows, seconds, parts = distributed(args.model, items, args.orders, args.actors)
        ray_s.append(seconds)
        diff = float(np.abs(rows[C.PROB].to_numpy() - frame[C.PROB].to_numpy()).max())
        print(f"[{r}] Ray, {args.actors} actors   {seconds:6.1f} s  {len(rows) // 4 / seconds:5.1f} prompts/s  "
              f"({parts} parts, {rows[C.WORKER].nunique()} actors scored, max |p diff| {diff:.1e}; {load()})",
              flush=True)
    ratio = statistics.median(ray_s) / statistics.median(local_s)
    print(f"{len(items)} {args.data} items x {args.orders} orders = {len(frame) // 4} prompts; median in-process "
          f"{statistics.median(local_s):.1f} s, median Ray {statistics.median(ray_s):.1f} s; "
          f"ratio distributed / in-process {ratio:.2f}x (pairs: "
          f"{', '.join(f'{b / a:.2f}' for a, b in zip(local_s, ray_s))})")
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
