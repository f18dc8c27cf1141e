"""Benchmark: MMLU questions under all 24 orders of their choices, whole processes, against
lm-evaluation-harness 0.4.13 and a length-sorted plain transformers loop, same prompts, same model.

    PYTHONPATH=. .venv/bin/python benchmarks/mmlu_orders.py [--items 20] [--repeats 1] [--device cpu]
                                                         [--setup-lm-eval]

Each contender runs as one whole process, started as a user starts it, timed (wall) and measured
(peak RSS of the process; peak GPU memory where CUDA is used):
  lm-explorer  ``lm-explorer permutation --data ITEMS --orders all`` with a fresh, empty result cache
  lm-explorer-mkl  the same with ``LM_EXPLORER_ONEDNN=0``: linear layers on PyTorch's default (MKL)
               kernels, to tell the prefix tree's share of the speed from oneDNN's (kernels.py)
  lm-eval      ``python -m lm_eval --model hf`` on a custom task of exactly these prompts (lmeval.py;
               --setup-lm-eval makes its side venv), batch size 32, the same dequantised model folder
  plain        plain.py: shortest prompts first, batches of 32, left padding, full logits
Items: a seeded sample of MMLU's test set, --items / 10 per subject from 10 seeded subjects.
Also printed: flat, prefix-tree and computed (padded) token counts; agreement of the three
(accuracy and label log-probs); and the interactive case, in process: 12 items rescored after a
dashboard control change (labels ABCD -> abcd), the engine against the plain loop.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import lmeval  # noqa: E402
import plain  # noqa: E402

from explorer import columns as C  # noqa: E402
from explorer import load_model  # noqa: E402
from explorer.items import Item, mmlu, save_jsonl  # noqa: E402
from explorer.probes.permutation import permutation_probe  # noqa: E402
from explorer.prompts import DEFAULT_FORMAT, label_token_ids  # noqa: E402
from explorer.prompts.tokens import encode_prompt  # noqa: E402
from explorer.scoring import ResultCache  # noqa: E402
from explorer.scoring.engine import CHUNK_TOKENS  # noqa: E402
from explorer.scoring.forward import SEGMENT_TOKENS, TOKEN_BUDGET  # noqa: E402
from explorer.scoring.plan import count_tokens  # noqa: E402


def sample(n: int, *, n_subjects: int = 10, seed: int = 0) -> list[Item]:
    """n MMLU test questions: n / n_subjects from each of n_subjects subjects drawn with ``seed``."""
    by_subject: dict[str, list[Item]] = {}
    for it in mmlu(full=True):
        by_subject.setdefault(it.metadata["subject"], []).append(it)
    rng = random.Random(seed)
    return [it for s in sorted(rng.sample(sorted(by_subject), n_subjects))
            for it in rng.sample(by_subject[s], n // n_subjects)]


def run(name: str, cmd: list[str], env: dict[str, str], folder: Path) -> dict:
    """One whole process in a fresh ``folder`` (its result cache lives there: what an earlier run left
    is removed first): wall seconds, peak RSS (GB) and peak GPU memory (GB); its output in a log."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    peak = folder / f"{name}.gpu"
    cmd = [cmd[0], str(HERE / "child.py"), str(peak), *cmd[1:]]
    with open(folder / f"{name}.log", "w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        log = folder / f"{name}.log"
        raise RuntimeError(f"{name} failed; the end of {log}:\n{log.read_text()[-3000:]}")
    gpu = int(peak.read_text() or 0) if peak.exists() else 0
    return {"seconds": wall, "rss_gb": usage.ru_maxrss / 2**20, "gpu_gb": gpu / 2**30}


def interactive(model, items: list[Item], batch_size: int) -> dict:
    """The dashboard's permutation tab after the label set changes: its 12 items, cyclic orders, scored
    in chunks of 4 items as the widget streams them; the plain loop on the same prompts."""
    cache = ResultCache(None)
    permutation_probe(model, items, orders="cyclic", labels="ABCD", cache=cache)  # the view before the change
    start = time.perf_counter()
    frames, first = [], None
    for i in range(0, len(items), 4):
        frames.append(permutation_probe(model, items[i : i + 4], orders="cyclic", labels="abcd", cache=cache))
        first = first or time.perf_counter() - start
    engine_s = time.perf_counter() - start
    prompts = [p for f in frames for p in f[C.PROMPT].unique()]
    ids = label_token_ids(model.tokenizer, [" a", " b", " c", " d"])
    start = time.perf_counter()
    plain.plain_batched(model.model, model.tokenizer, prompts, ids, batch_size=batch_size, sort=True)
    return {"prompts": len(prompts), "engine_s": engine_s, "first_chunk_s": first,
            "plain_s": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20, help="MMLU items, a multiple of 10 (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="as lm-explorer --model (default: the bundled SmolLM2)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (every contender runs there)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1, help="rounds of the three whole processes")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of every contender (default: "
                        "torch's own choice); 1 steadies ratios on a machine other jobs share")
    parser.add_argument("--only", nargs="*", default=["lm-explorer", "lm-explorer-mkl", "lm-eval", "plain"])
    parser.add_argument("--lm-eval-venv", type=Path, default=ROOT / ".cache" / "lm-eval-venv")
    parser.add_argument("--setup-lm-eval", action="store_true", help="create the lm-eval venv if missing")
    parser.add_argument("--out", type=lambda p: Path(p).resolve(), default=ROOT / ".cache" / "bench-mmlu-orders")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model = load_model(args.model, device=args.device)
    model_dir = model.model.name_or_path  # the dequantised folder every contender loads
    items = sample(args.items, seed=args.seed)
    shown = [it.permuted(o) for it in items for o in itertools.permutations(range(4))]
    prompts, answers = [DEFAULT_FORMAT.build(s) for s in shown], [s.answer for s in shown]
    args.out.mkdir(parents=True, exist_ok=True)
    items_file = save_jsonl(items, args.out / "items.jsonl")
    (args.out / "prompts.jsonl").write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    task = lmeval.write_task(args.out / "task", prompts, answers)
    python = lmeval.ensure_venv(args.lm_eval_venv) if args.setup_lm_eval else args.lm_eval_venv / "bin" / "python"

    seqs = [encode_prompt(model.tokenizer, p) for p in prompts]
    counts = count_tokens(seqs, batch_size=args.batch_size, token_budget=TOKEN_BUDGET, segment_tokens=SEGMENT_TOKENS,
                          chunk_tokens=CHUNK_TOKENS)
    plain_tokens = plain.padded_tokens(model.tokenizer, prompts, batch_size=args.batch_size, sort=True)
    print(f"{len(items)} MMLU items ({', '.join(sorted({i.metadata['subject'] for i in items}))}) x 24 orders = "
          f"{len(prompts)} prompts on {model.name} ({args.device}, torch threads {torch.get_num_threads()}), load "
          f"average {os.getloadavg()[0]:.1f} before the runs")
    print(f"tokens: flat {counts.flat}, tree {counts.tree} ({counts.tree / counts.flat:.1%} of flat), engine computes "
          f"{counts.computed} ({counts.computed / counts.tree - 1:+.1%} over the tree) in {counts.forwards} forward "
          f"passes; the sorted plain loop and lm-eval compute about {plain_tokens} (padded)")

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    if args.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    if args.threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(args.threads)
    commands = {
        **{name: lambda d: [sys.executable, "explorer.cli.main", "permutation", "--data", str(items_file),
                                  "--orders", "all", "--batch-size", str(args.batch_size), "--out",
                                  str(d / "rows.parquet"), "--summary", str(d / "summary.json"),
                                  *(["--model", args.model] if args.model else [])]
           for name in ("lm-explorer", "lm-explorer-mkl")},
        "lm-eval": lambda d: [str(python), "lm_eval", *lmeval.arguments(
            task, model_dir, d / "lm-eval", device=args.device, batch_size=args.batch_size)],
        "plain": lambda d: [sys.executable, "plain", "--model-dir", model_dir, "--prompts",
                            str(args.out / "prompts.jsonl"), "--out", str(d / "plain.npy"), "--device", args.device,
                            "--batch-size", str(args.batch_size)],
    }
    rounds = []
    for r in range(args.repeats):
        folder = args.out / f"round{r}"
        order = args.only[r % len(args.only):] + args.only[: r % len(args.only)]  # each goes first in turn
        runs = {}
        for name in order:
            run_env = {**env, "LM_EXPLORER_RESULTS": str(folder / name / "results.sqlite"),  # fresh caches
                       "HF_DATASETS_CACHE": str(folder / name / "datasets"),
                       **({"LM_EXPLORER_ONEDNN": "0"} if name == "lm-explorer-mkl" else {})}
            runs[name] = run(name, commands[name](folder / name), run_env, folder / name)
            runs[name]["load"] = os.getloadavg()[0]
            got = runs[name]
            gpu = f"  GPU {got['gpu_gb']:.2f} GB" if got["gpu_gb"] else ""
            print(f"round {r} {name:<15} {got['seconds']:7.1f} s  peak RSS {got['rss_gb']:5.2f} GB{gpu}  "
                  f"(load average {got['load']:.1f})", flush=True)
        if "lm-eval" in runs and "lm-explorer" in runs:
            print(f"round {r} lm-explorer is {runs['lm-eval']['seconds'] / runs['lm-explorer']['seconds']:.2f}x "
                  f"lm-eval's speed, peak memory {runs['lm-explorer']['rss_gb'] / runs['lm-eval']['rss_gb']:.2f}x")
        if "lm-explorer-mkl" in runs and "lm-eval" in runs:
            ratio = runs["lm-eval"]["seconds"] / runs["lm-explorer-mkl"]["seconds"]
            print(f"round {r} lm-explorer on MKL linears is {ratio:.2f}x lm-eval's speed")
        if "plain" in runs and "lm-explorer" in runs:
            print(f"round {r} lm-explorer is {runs['plain']['seconds'] / runs['lm-explorer']['seconds']:.2f}x "
                  f"the plain loop's speed, peak memory {runs['lm-explorer']['rss_gb'] / runs['plain']['rss_gb']:.2f}x")
        rounds.append(runs)

    agreement = agree(args.out / "round0", prompts, answers, set(args.only))
    print("agreement: " + ", ".join(f"{k} {v:.3g}" for k, v in agreement.items()))
    inter = interactive(model, mmlu(12, seed=args.seed), args.batch_size)
    print(f"interactive: {inter['prompts']} prompts rescored after a label change: engine {inter['engine_s']:.2f} s "
          f"(first chunk of 4 items {inter['first_chunk_s']:.2f} s), plain loop {inter['plain_s']:.2f} s, "
          f"{inter['plain_s'] / inter['engine_s']:.2f}x")
    (args.out / "summary.json").write_text(json.dumps(
        {"items": len(items), "prompts": len(prompts), "device": args.device, "tokens": vars(counts),
         "plain_tokens": plain_tokens, "rounds": rounds, "agreement": agreement, "interactive": inter}, indent=1))


def label_logprobs(rows_file: Path, prompts: list[str]) -> np.ndarray:
    """[prompt, label] log-probs from an lm-explorer permutation run's rows, in ``prompts`` order."""
    import pandas as pd  # noqa: PLC0415

    rows = pd.read_parquet(rows_file).sort_values(C.POSITION)
    by = {p: g[C.LOGPROB].to_numpy() for p, g in rows.groupby(C.PROMPT, sort=False)}
    return np.stack([by[p] for p in prompts])


def agree(folder: Path, prompts: list[str], answers: list[int], which: set[str]) -> dict[str, float]:
    """Accuracy of each contender and the largest label log-prob difference from lm-explorer's."""
    out: dict[str, float] = {}
    mine = label_logprobs(folder / "lm-explorer" / "rows.parquet", prompts)
    gold = np.array(answers)
    out["accuracy lm-explorer"] = float((mine.argmax(1) == gold).mean())
    if "lm-explorer-mkl" in which:
        theirs = label_logprobs(folder / "lm-explorer-mkl" / "rows.parquet", prompts)
        out["max |dlogp| lm-explorer-mkl"] = float(np.abs(theirs - mine).max())
    if "plain" in which:
        theirs = np.load(folder / "plain" / "plain.npy")
        out["accuracy plain"] = float((theirs.argmax(1) == gold).mean())
        out["max |dlogp| plain"] = float(np.abs(theirs - mine).max())
    if "lm-eval" in which:
        acc, lps = lmeval.read_results(folder / "lm-eval" / "lm-eval")
        theirs = np.stack([lps[p] for p in prompts])
        out["accuracy lm-eval"] = float(acc)
        out["max |dlogp| lm-eval"] = float(np.abs(theirs - mine).max())
    return out


if __name__ == "__main__":
    main()
