"""Make the small real Inspect logs under ``tests/data/inspect/`` (see the README beside it).

Inspect's own multiple-choice pipeline (``multiple_choice()`` solver, ``choice()`` scorer) on eight
questions of the bundled MMLU sample, run by Inspect's ``hf/`` provider on the bundled SmolLM2 model
(its dequantised safetensors cache), offline, with per-token log-probabilities (``logprobs``,
``top_logprobs=20``), once per shuffle seed (``MemoryDataset.shuffle_choices(seed)``): three logs of one
task whose choices stand in different orders, an order study.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python tests/data/inspect/make_logs.py --out tests/data/inspect/logs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

SEEDS = (0, 1, 2)
MODEL_NAME = "SmolLM2-135M-Instruct"
SUBJECTS = ("abstract_algebra", "college_biology", "philosophy", "world_religions")


def dataset(seed: int):
    from inspect_ai.dataset import MemoryDataset, Sample  # noqa: PLC0415

    from explorer.items.mmlu import SAMPLE  # noqa: PLC0415

    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    rows = [r for s in SUBJECTS for r in [x for x in rows if x["subject"] == s][:2]]
    data = MemoryDataset([Sample(input=r["question"], choices=r["choices"], target="ABCD"[r["answer"]], id=r["id"],
                                 metadata={"subject": r["subject"]}) for r in rows], name="mmlu_sample")
    data.shuffle_choices(seed)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from inspect_ai import Task, eval  # noqa: PLC0415
    from inspect_ai.scorer import choice  # noqa: PLC0415
    from inspect_ai.solver import multiple_choice  # noqa: PLC0415

    import explorer  # noqa: PLC0415

    model_dir = Path(explorer.load_model().model.name_or_path)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the model by a short relative name (a link to the cache), as the log records it
        Path(MODEL_NAME).symlink_to(model_dir, target_is_directory=True)
        for seed in SEEDS:
            task = Task(dataset=dataset(seed), solver=multiple_choice(max_tokens=6), scorer=choice(),
                        name="mmlu_sample")
            [log] = eval(task, model=f"hf/{MODEL_NAME}", log_dir="logs", display="none", model_args={"device": "cpu", "do_sample": False},
                         logprobs=True, top_logprobs=20, seed=0,
                         metadata={"shuffle_seed": seed})
            target = args.out / f"mmlu_sample_seed{seed}.eval"
            shutil.copy(log.location, target)
            print(f"seed {seed}: {log.status}, accuracy {log.results.scores[0].metrics['accuracy'].value:.3f} -> {target}")


if __name__ == "__main__":
    main()
