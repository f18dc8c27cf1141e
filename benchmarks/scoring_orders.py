"""Benchmark: score all 24 orders of 100 four-choice items on the bundled model.

Compares the engine (prefix tree + last-position logits + length sorting; result cache off)
against a plain batched transformers loop (batch 32, left padding, full logits) on the same
prompts, in the same process, and checks both give the same probabilities.

    .venv/bin/python benchmarks/scoring_orders.py [--items 100]
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

from common import all_order_prompts, plain_batched, setup  # noqa: E402

from explorer.scoring import score_next_token  # noqa: E402


def main() -> None:
    s = setup(__doc__.splitlines()[0])
    model, items, ids, start, load_s = s.model, s.items, s.label_ids, s.start, s.load_s
    prompts = all_order_prompts(items)
    n_tok = sum(len(model.tokenizer(p).input_ids) for p in prompts)
    print(f"model {model.name}, torch threads {torch.get_num_threads()}, {len(items)} items x 24 orders = "
          f"{len(prompts)} prompts ({n_tok} tokens), load {load_s:.1f} s")

    score_next_token(model, prompts[:24], ids, cache=None)  # first passes are slow: warm both up
    plain_batched(model, prompts[:24], ids)

    t = time.perf_counter()
    engine = score_next_token(model, prompts, ids, cache=None).logprobs
    engine_s = time.perf_counter() - t
    t = time.perf_counter()
    plain = plain_batched(model, prompts, ids)
    plain_s = time.perf_counter() - t

    diff = float(np.abs(np.exp(engine) - np.exp(plain)).max())
    print(f"plain batched loop : {plain_s:7.1f} s  ({len(prompts) / plain_s:6.1f} prompts/s)")
    print(f"engine             : {engine_s:7.1f} s  ({len(prompts) / engine_s:6.1f} prompts/s)")
    print(f"speed-up           : {plain_s / engine_s:7.2f}x   max |p_engine - p_plain| = {diff:.2e}")
    print(f"whole process      : {time.perf_counter() - start:7.1f} s")


if __name__ == "__main__":
    main()
