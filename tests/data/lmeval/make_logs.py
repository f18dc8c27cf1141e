"""Make the small real lm-evaluation-harness logs under ``tests/data/lmeval/`` (see the README beside it).

A task folder for ``--include_path``, written from data lm-explorer ships (the bundled MMLU sample,
the ARC rows of ``tests/hubcopies.py``), with tasks configured as lm-eval's own are:

- ``mmlu_<subject>`` for four subjects (five questions each), lm-eval's own MMLU template (letters
  " A".." D", metric acc), in groups ``mmlu_sample`` > ``mmlu_sample_stem`` / ``mmlu_sample_humanities``
  (lm-eval >= 0.4.3; 0.4.0-0.4.2, whose built-in tasks take precedence over ``--include_path``, get the leaf
  tasks alone, named ``mmlu_sample_<subject>``);
- ``lmx_arc``: lm-eval's ARC template (cloze: the choices' texts are scored), metrics acc, acc_norm and
  acc_mutual_info (so the log holds N unconditional requests after the N conditional ones);
- ``lmx_filters``: three MMLU questions in letters under two filter pipelines (one record per doc x filter);
- ``lmx_generate``: two questions as ``generate_until`` (which an importer skips).

Run (about two minutes on two cores; HF_HUB_OFFLINE is set for the harness):

    PYTHONPATH=. .venv/bin/python tests/data/lmeval/make_logs.py --venv .cache/lm-eval-venv --out tests/data/lmeval/v0.4.13
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SUBJECTS = {"stem": ["abstract_algebra", "college_biology"], "humanities": ["philosophy", "world_religions"]}
MODEL_NAME = "SmolLM2-135M-Instruct"  # the folder name lm-eval records as the model (a link to the cache)
MMLU_TEMPLATE = {
    "output_type": "multiple_choice", "fewshot_split": "dev",
    "fewshot_config": {"sampler": "first_n"},
    "doc_to_text": "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. "
                   "{{choices[3]}}\nAnswer:",
    "doc_to_choice": ["A", "B", "C", "D"], "doc_to_target": "answer",
    "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
    "metadata": {"version": 1.0},
}


def _json_task(name: str, data: str, **config) -> dict:
    return {"task": name, "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": data, "dev": data}},
            "test_split": "test", **config}


def write_tasks(folder: Path, *, groups: bool) -> list[str]:
    """The task folder; returns the ``--tasks`` to run."""
    sys.path.insert(0, str(ROOT))
    from explorer.items.mmlu import SAMPLE  # noqa: PLC0415
    from tests.hubcopies import ARC_ROWS  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    by_subject = {r["subject"]: [x for x in rows if x["subject"] == r["subject"]] for r in rows}

    def data(name: str, records: list[dict]) -> str:
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return f"{folder.name}/{name}.jsonl"  # relative to the harness's working folder

    tasks, prefix = [], "mmlu_" if groups else "mmlu_sample_"  # 0.4.0-0.4.2: built-in names win over --include_path
    for category, subjects in SUBJECTS.items():
        for s in subjects:
            config = _json_task(f"{prefix}{s}", data(s, by_subject[s]), **MMLU_TEMPLATE, task_alias=s,
                                description=f"The following are multiple choice questions (with answers) about "
                                f"{s.replace('_', ' ')}.\n\n")
            (folder / f"{prefix}{s}.yaml").write_text(json.dumps(config, indent=1), encoding="utf-8")
            tasks.append(f"{prefix}{s}")
        if groups:
            group = {"group": f"mmlu_sample_{category}", "group_alias": category, "task": [f"mmlu_{s}" for s in subjects],
                     "aggregate_metric_list": [{"metric": "acc", "weight_by_size": True}], "metadata": {"version": 2}}
            (folder / f"_mmlu_sample_{category}.yaml").write_text(json.dumps(group, indent=1), encoding="utf-8")
    if groups:
        top = {"group": "mmlu_sample", "task": [f"mmlu_sample_{c}" for c in SUBJECTS],
               "aggregate_metric_list": [{"metric": "acc", "weight_by_size": True}], "metadata": {"version": 2}}
        (folder / "_mmlu_sample.yaml").write_text(json.dumps(top, indent=1), encoding="utf-8")
        tasks = ["mmlu_sample"]
    arc = _json_task("lmx_arc", data("arc", ARC_ROWS), output_type="multiple_choice",
                     doc_to_text="Question: {{question}}\nAnswer:", doc_to_target="{{choices.label.index(answerKey)}}",
                     doc_to_choice="{{choices.text}}",
                     metric_list=[{"metric": m, "aggregation": "mean", "higher_is_better": True}
                                  for m in ("acc", "acc_norm", "acc_mutual_info")], metadata={"version": 1.0})
    filters = _json_task("lmx_filters", data("marketing", by_subject["marketing"][:3]), **MMLU_TEMPLATE,
                         filter_list=[{"name": "none", "filter": [{"function": "take_first"}]},
                                      {"name": "first_again", "filter": [{"function": "take_first"}]}])
    generate = _json_task("lmx_generate", data("astronomy", by_subject["astronomy"][:2]), output_type="generate_until",
                          doc_to_text="Question: {{question}}\nAnswer:", doc_to_target="{{choices[answer]}}",
                          generation_kwargs={"until": ["\n"], "max_gen_toks": 8, "do_sample": False},
                          metric_list=[{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
                          metadata={"version": 1.0})
    for config in (arc, filters, generate):
        (folder / f"{config['task']}.yaml").write_text(json.dumps(config, indent=1), encoding="utf-8")
    return [*tasks, "lmx_arc", "lmx_filters", "lmx_generate"]


# lm-eval 0.4.0-0.4.2 load Hugging Face `evaluate`'s "exact_match" metric from the Hub when imported; `evaluate`
# looks for a local module folder of that name first, so offline the harness gets this one (exact string match,
# the generate_until task's metric).
EXACT_MATCH_MODULE = '''import datasets
import evaluate
import numpy as np


class ExactMatch(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(description="exact match", citation="", inputs_description="",
                                   features=datasets.Features({"predictions": datasets.Value("string"),
                                                               "references": datasets.Value("string")}))

    def _compute(self, predictions, references, **kwargs):
        return {"exact_match": float(np.mean([p == r for p, r in zip(predictions, references)]))}
'''


def legacy_model_folder(model_dir: Path, folder: Path) -> Path:
    """The model for transformers 4.x (the harness's 0.4.0-0.4.2 venv): the same weights and tokenizer (links),
    its configs as 4.x reads them (``rope_theta`` rather than 5.x's ``rope_parameters``, no null
    ``quantization_config``, the tokenizer class by its 4.x name), so both harness versions compute the same
    numbers."""
    folder.mkdir()
    for f in model_dir.iterdir():
        if f.name not in ("config.json", "tokenizer_config.json"):
            (folder / f.name).symlink_to(f)
    tokenizer = json.loads((model_dir / "tokenizer_config.json").read_text())
    tokenizer.update(tokenizer_class="PreTrainedTokenizerFast")  # 5.x's TokenizersBackend, as 4.x names it
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer, indent=1))
    config = json.loads((model_dir / "config.json").read_text())
    rope = config.pop("rope_parameters", None) or {}
    config.update(rope_theta=rope.get("rope_theta", 10000.0), torch_dtype=config.pop("dtype", "float32"))
    config.pop("quantization_config", None)
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    return folder


def harness_version(python: Path) -> str:
    return subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('lm_eval'))"],
                          check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", type=Path, required=True, help="the side venv with lm-eval installed")
    parser.add_argument("--out", type=Path, required=True, help="where the harness's output folder goes")
    args = parser.parse_args()
    python = args.venv.resolve() / "bin" / "python"
    version = tuple(int(p) for p in harness_version(python).split(".")[:3])
    sys.path.insert(0, str(ROOT))
    import explorer  # noqa: PLC0415

    model_dir = Path(explorer.load_model().model.name_or_path)  # the dequantised safetensors cache
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tasks = write_tasks(work / "tasks", groups=version >= (0, 4, 3))
        if version >= (0, 4, 3):
            (work / MODEL_NAME).symlink_to(model_dir, target_is_directory=True)
        else:
            legacy_model_folder(model_dir, work / MODEL_NAME)
            (work / "exact_match").mkdir()
            (work / "exact_match" / "exact_match.py").write_text(EXACT_MATCH_MODULE, encoding="utf-8")
        out = work / "out"
        command = [str(python), "-m", "lm_eval", "--model", "hf", "--model_args",
                   f"pretrained={MODEL_NAME},dtype=float32", "--tasks", ",".join(tasks), "--include_path", "tasks",
                   "--device", "cpu", "--batch_size", "8", "--output_path", "out", "--log_samples"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        print(" ".join(command[1:]))
        subprocess.run(command, cwd=work, env=env, check=True)
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.copytree(out, args.out)
    print(f"wrote {args.out}: {sorted(str(p.relative_to(args.out)) for p in args.out.rglob('*') if p.is_file())}")


if __name__ == "__main__":
    main()
