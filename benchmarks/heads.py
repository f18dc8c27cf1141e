"""Cost of per-head attribution for every head of a batch against one plain forward pass.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/heads.py [--model M] [--n 16] [--repeats 5]

Prints the median wall time of each and their ratio (target: at most about 2). The plain pass runs
on the same linear-layer kernels as the probe (oneDNN where explorer.scoring.kernels picks it).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from explorer import load_model
from explorer.probes.counterfactual import answer_tokens, capital_counterfactuals
from explorer.probes.heads import attribute, encode_batch
from explorer.scoring.kernels import fast_linears


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--n", type=int, default=16, help="prompts in the batch")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    model = load_model(args.model)
    records = capital_counterfactuals(args.n)
    prompts = [r.prompt for r in records]
    targets, foils = answer_tokens(model.tokenizer, records)
    ids, mask, positions = encode_batch(model, prompts)

    @torch.inference_mode()
    def plain() -> None:
        with fast_linears():
            model.model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=1)

    plain_s = median_time(plain, args.repeats)
    attr_s = median_time(lambda: attribute(model, prompts, targets, foils), args.repeats)
    p = model.parts
    print(f"model {model.name}: batch of {len(prompts)} prompts x {ids.shape[1]} tokens, "
          f"{p.n_layers} layers x {p.n_heads} heads, {torch.get_num_threads()} threads")
    print(f"plain forward pass (last-position logits): {plain_s * 1000:.1f} ms")
    print(f"attribution of all {p.n_layers * p.n_heads} heads:        {attr_s * 1000:.1f} ms")
    print(f"ratio: {attr_s / plain_s:.2f}")


if __name__ == "__main__":
    main()
