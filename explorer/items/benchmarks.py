"""The multiple-choice benchmarks lm-explorer recognises, with their hub ids, configs and the split to
score (the dashboard's data panel offers them; any other id or folder with a known layout loads too)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.items.mmlu import SUBJECTS


@dataclass(frozen=True)
class Benchmark:
    """A benchmark on the Hugging Face Hub: ``id``, its ``configs`` (first: the default offered),
    the ``split`` with gold labels to score, and the ``schema`` its columns are recognised as."""

    name: str
    id: str
    configs: tuple[str, ...]
    split: str
    schema: str
    k: str  # number of choices, as text ("4", "3-5")


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("MMLU", "cais/mmlu", ("all", *SUBJECTS), "test", "choices", "4"),
    Benchmark("MMLU-Pro", "TIGER-Lab/MMLU-Pro", ("default",), "test", "mmlu_pro", "3-10"),
    Benchmark("ARC-Challenge", "allenai/ai2_arc", ("ARC-Challenge", "ARC-Easy"), "test", "arc", "3-5"),
    Benchmark("OpenBookQA", "allenai/openbookqa", ("main", "additional"), "test", "openbookqa", "4"),
    Benchmark("CommonsenseQA", "tau/commonsense_qa", ("default",), "validation", "arc", "5"),
    Benchmark("HellaSwag", "Rowan/hellaswag", ("default",), "validation", "hellaswag", "4"),
    Benchmark("TruthfulQA MC1", "truthfulqa/truthful_qa", ("multiple_choice",), "validation", "truthfulqa_mc1",
              "2-13"),
    Benchmark("SciQ", "allenai/sciq", ("default",), "test", "sciq", "4"),
    Benchmark("PIQA", "baber/piqa", ("default",), "validation", "piqa", "2"),
    Benchmark("MedMCQA", "openlifescienceai/medmcqa", ("default",), "validation", "medmcqa", "4"),
)


def benchmark(id_or_name: str) -> Benchmark | None:
    """The recognised benchmark with this hub id or name, if any."""
    return next((b for b in BENCHMARKS if id_or_name in (b.id, b.name)), None)
