"""Benchmark: the permutation probe on all 24 orders of 100 four-choice items, on the bundled model.

Times :func:`explorer.probes.permutation.permutation_probe` (orders="all", result cache off)
against a plain batched transformers loop (batch 32, left padding, full logits) on the same
prompts, in the same process; checks both give the same probabilities, and times the summary.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/permutation.py [--items 100]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import plain_batched, setup  # noqa: E402

from explorer import columns as C  # noqa: E402
from explorer.metrics.permutation_summary import summarize_permutation  # noqa: E402
from explorer.probes.permutation import permutation_probe  # noqa: E402


def main() -> None:
    s = setup(__doc__.splitlines()[0])
    model, items, ids, start, load_s = s.model, s.items, s.label_ids, s.start, s.load_s
    warm = permutation_probe(model, items[:1], orders="cyclic", cache=None)  # first passes are slow: warm both up
    plain_batched(model, warm[C.PROMPT].unique().tolist(), ids)

    t = time.perf_counter()
    frame = permutation_probe(model, items, orders="all", cache=None)
    probe_s = time.perf_counter() - t
    per_prompt = frame.groupby([C.ITEM_ID, C.ORDER], sort=False)
    prompts = per_prompt[C.PROMPT].first().tolist()
    probe_p = np.stack([g[C.PROB].to_numpy() for _, g in per_prompt])
    n_tok = sum(len(model.tokenizer(p).input_ids) for p in prompts)
    print(f"model {model.name}, torch threads {torch.get_num_threads()}, {len(items)} items x 24 orders = "
          f"{len(prompts)} prompts ({n_tok} tokens), load {load_s:.1f} s")

    t = time.perf_counter()
    plain = plain_batched(model, prompts, ids)
    plain_s = time.perf_counter() - t
    t = time.perf_counter()
    summary = summarize_permutation(frame, n_boot=1000)
    summary_s = time.perf_counter() - t

    diff = float(np.abs(probe_p - np.exp(plain)).max())
    print(f"plain batched loop : {plain_s:7.1f} s  ({len(prompts) / plain_s:6.1f} prompts/s)")
    print(f"permutation probe  : {probe_s:7.1f} s  ({len(prompts) / probe_s:6.1f} prompts/s)")
    print(f"speed-up           : {plain_s / probe_s:7.2f}x   max |p_probe - p_plain| = {diff:.2e}")
    print(f"summary (1000 bootstrap resamples): {summary_s:.1f} s; A-bias {summary['a_bias']:.3f}, "
          f"accuracy {summary['accuracy']:.3f}, order-averaged {summary['order_avg_accuracy']:.3f}")
    print(f"whole process      : {time.perf_counter() - start:7.1f} s")


if __name__ == "__main__":
    main()
