"""lm-evaluation-harness 0.4.13 as a baseline: a side virtual environment and a custom task on our prompts.

The harness pins its own dependencies, so it lives in its own venv (``.cache/lm-eval-venv``,
git-ignored), made by :func:`ensure_venv` (``--setup-lm-eval``) or by hand:

    python3.11 -m venv .cache/lm-eval-venv
    .cache/lm-eval-venv/bin/python -m pip install torch==2.13.0 "lm-eval[hf]==0.4.13"

(torch pinned on the same line, so pip takes the CPU wheel and never pulls a CUDA build.) The task
scores exactly our prompts: each document is one prompt, the context is the prompt as written
and the choices are " A".." D" (the harness joins them with its default " " delimiter), so the
harness asks the same next-token question the engine does, one forward pass per prompt.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

VERSION = "0.4.13"
TASK = "lmx_mmlu_orders"


def ensure_venv(venv: Path) -> Path:
    """The harness's python, installing it into ``venv`` first if missing."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0", f"lm-eval[hf]=={VERSION}"],
                       check=True)
    return python


def write_task(folder: Path, prompts: list[str], answers: list[int]) -> Path:
    """A task folder (YAML + JSONL) for ``--include_path``: our prompts, gold positions, labels A-D."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "prompts.jsonl"
    data.write_text("".join(json.dumps({"prompt": p, "answer": a}) + "\n" for p, a in zip(prompts, answers)),
                    encoding="utf-8")
    (folder / f"{TASK}.yaml").write_text(
        f"task: {TASK}\n"
        "dataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\n"
        "output_type: multiple_choice\n"
        'doc_to_text: "{{prompt}}"\n'
        "doc_to_target: answer\n"
        'doc_to_choice: ["A", "B", "C", "D"]\n'
        "metric_list:\n  - metric: acc\n", encoding="utf-8")
    return folder


def arguments(task_dir: Path, model_dir: str, out: Path, *, device: str, batch_size: int) -> list[str]:
    """The harness's arguments, as a user runs it: ``python -m lm_eval ARGUMENTS``."""
    return ["--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32", "--tasks", TASK,
            "--include_path", str(task_dir), "--device", device, "--batch_size", str(batch_size),
            "--output_path", str(out), "--log_samples"]


def read_results(out: Path) -> tuple[float, dict[str, list[float]]]:
    """The harness's accuracy and, per prompt, its log-likelihood of each label."""
    results = json.loads(next(out.rglob("results_*.json")).read_text())
    acc = results["results"][TASK]["acc,none"]
    logprobs = {}
    for line in next(out.rglob(f"samples_{TASK}_*.jsonl")).read_text().splitlines():
        sample = json.loads(line)
        logprobs[sample["doc"]["prompt"]] = [float(r[0]) for r in sample["filtered_resps"]]
    return acc, logprobs
