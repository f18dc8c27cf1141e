"""Benchmark: the bundled model in bfloat16 on a GPU against float32 on the CPU: speed and the
largest probability difference.

The same permutation probe (result cache off) runs on the float32 CPU model (the exact
reference) and on the reduced-precision model on ``--device``; both are warmed up first. The
difference is read two ways: on the probe's label probabilities, and over the whole next-token
distribution at every position of the first prompts (what ``load_model``'s precision check reports).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/precision.py --device cuda [--dtype bfloat16] [--items 68]

Where no GPU is lent, ``--device cpu`` runs the reduced precision on the CPU and says so: the
differences are the dtype's, the speed is not a GPU's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import hundred_items  # noqa: E402

from explorer import columns as C  # noqa: E402
from explorer import load_model  # noqa: E402
from explorer.models.precision import compare_to_reference  # noqa: E402
from explorer.probes.heads import encode_batch  # noqa: E402
from explorer.probes.permutation import permutation_probe  # noqa: E402


def timed_probe(model, items, orders: str):
    permutation_probe(model, items[:2], orders="cyclic", cache=None)  # warm-up (kernels, allocator)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    frame = permutation_probe(model, items, orders=orders, cache=None)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    return frame, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--items", type=int, default=68)
    parser.add_argument("--orders", default="cyclic")
    parser.add_argument("--check-prompts", type=int, default=16, help="prompts compared over the whole vocabulary")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device on this machine; run with --device cpu to measure the dtype on the CPU")
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else (
        f"CPU ({os.cpu_count()} cores): no GPU here, so the {args.dtype} model runs on the CPU and its speed is "
        "not a GPU's")
    print(f"device for {args.dtype}: {where}; reference: float32 on the CPU, torch threads {torch.get_num_threads()}")
    items = hundred_items(args.items)

    ref = load_model(dtype=torch.float32, device="cpu")
    ref_frame, ref_s = timed_probe(ref, items, args.orders)
    low = load_model(dtype=args.dtype, device=args.device, check_precision=False)
    low_frame, low_s = timed_probe(low, items, args.orders)
    n = ref_frame.groupby([C.ITEM_ID, C.ORDER_ID]).ngroups

    label_diff = np.abs(low_frame[C.PROB].to_numpy() - ref_frame[C.PROB].to_numpy())
    norm_diff = np.abs(low_frame[C.PROB_NORM].to_numpy() - ref_frame[C.PROB_NORM].to_numpy())
    flips = int((low_frame[C.IS_PRED].to_numpy() != ref_frame[C.IS_PRED].to_numpy()).sum() // 2)
    prompts = ref_frame[C.PROMPT].unique()[: args.check_prompts].tolist()
    ids, mask, _ = encode_batch(ref, prompts)
    sequences = [row[m.bool()].tolist() for row, m in zip(ids, mask)]
    report = compare_to_reference(low.model, ref.model, sequences, input_device=low.device)

    print(f"{len(items)} items x {args.orders} orders = {n} prompts")
    print(f"float32, CPU           : {ref_s:7.2f} s  ({n / ref_s:7.1f} prompts/s)")
    print(f"{args.dtype:<8}, {device.type:<4}        : {low_s:7.2f} s  ({n / low_s:7.1f} prompts/s)")
    print(f"speed-up               : {ref_s / low_s:7.2f}x")
    print(f"largest |p - p_float32| of the scored labels: {label_diff.max():.2e} (mean {label_diff.mean():.1e}); "
          f"renormalised over the choices: {norm_diff.max():.2e}; predictions that change: {flips} of {n}")
    print(f"largest |p - p_float32| over the whole vocabulary at every position of {report.n_prompts} prompts "
          f"({report.n_positions} positions): {report.max_prob_diff:.2e}")


if __name__ == "__main__":
    main()
