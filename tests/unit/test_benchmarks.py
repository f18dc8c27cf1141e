"""Hub benchmarks as item sources: local copies in each benchmark's real schema load through the same
``datasets.load_dataset(folder, config, split=...)`` path a hub id takes; clear errors for bad sources."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings

import pytest

from explorer.errors import DataError, ItemError, SkippedItemsWarning
from explorer.items import BENCHMARKS, SCHEMAS, load_items, load_source, mmlu
from explorer.items.schemas import placement
from tests import hubcopies as H
from tests.nbrun import ROOT


def by_id(items):
    return {i.id: i for i in items}


def test_mmlu_copy_matches_the_bundled_sample_and_skips_the_real_invalid_questions(hub):
    with pytest.warns(SkippedItemsWarning, match=r"skipped 3 of 288 items.*'item-286' \(choices: choices 2 and 3"):
        loaded = load_source(hub["mmlu"], config="all")
    assert (loaded.split, loaded.schema, loaded.n_available, len(loaded.skipped)) == ("test", "choices", 285, 3)
    sample = mmlu()
    assert [(i.question, i.choices, i.answer, i.metadata["subject"]) for i in loaded.items] == \
        [(i.question, i.choices, i.answer, i.metadata["subject"]) for i in sample]
    assert loaded.items[0].metadata["dataset"] == "mmlu" and loaded.ks == [4]
    assert "mmlu · config all · split test · 285 items · k = 4 · 3 invalid skipped" == loaded.describe()
    algebra = load_items(hub["mmlu"], config="abstract_algebra", split="test")
    assert [i.question for i in algebra] == [i.question for i in mmlu(subjects=["abstract_algebra"])]


def test_invalid_policy_raise_names_dataset_item_column_and_fix(hub):
    with pytest.raises(ItemError) as e:
        load_items(hub["mmlu"], config="all", invalid="raise")
    assert e.value.item_id == "item-286" and e.value.field == "choices" and "'mmlu' (config 'all', split 'test')" \
        in str(e.value) and "Fix: remove the duplicate" in str(e.value)
    with pytest.raises(DataError, match="'invalid'"):
        load_items(hub["mmlu"], config="all", invalid="drop")


def test_seeded_sample_of_n(hub):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedItemsWarning)
        first = load_items(hub["mmlu"], config="all", n=10)
        drawn = load_items(hub["mmlu"], config="all", n=10, seed=3)
        again = load_items(hub["mmlu"], config="all", n=10, seed=3)
        every = load_items(hub["mmlu"], config="all")
    assert [i.id for i in first] == [i.id for i in every[:10]]
    assert [i.id for i in drawn] == [i.id for i in again] != [i.id for i in first]
    positions = [[i.id for i in every].index(i.id) for i in drawn]
    assert positions == sorted(positions)  # kept in source order


def test_arc_mixed_choice_counts_and_numeric_labels(hub):
    items = by_id(load_items(hub["arc"], config="ARC-Challenge"))
    assert sorted(i.k for i in items.values()) == [3, 3, 4, 4, 4, 5]
    assert items["Mercury_7175875"].gold == "Planetary days will become shorter."
    assert items["NYSEDREGENTS_2015_4_8"].gold == "sound"  # answerKey "4" is a label, not an index
    assert items["MCAS_2000_8_32"].gold == "balance" and items["MCAS_2000_8_32"].k == 5
    assert items["Mercury_SC_401169"].question == "Which of these is a characteristic of all living things?"
    assert dict(items["Mercury_7220990"].metadata) == {"dataset": "ai2_arc"}
    easy = load_items(hub["arc"], config="ARC-Easy")
    assert [i.id for i in easy] == ["Mercury_SC_401169", "MCAS_2000_8_32"]


@pytest.mark.parametrize("name, config, split, item_id, question, gold, k, meta", [
    ("openbookqa", "main", None, "8-376", "When standing miles away from Mount Rushmore",
     "the mountains seem smaller than in photographs", 4, {}),
    ("commonsenseqa", None, "validation", "61fe6e879ff18686d7552425a36344c8",
     "Sammy wanted to go to where the people were. Where might he go?", "populated areas", 5,
     {"question_concept": "people"}),
    ("hellaswag", None, "validation", "92", "A lady walks to a barbell. She",
     "stands and lifts the weight over her head.", 4,
     {"activity_label": "Clean and jerk", "split": "val", "split_type": "indomain",
      "source_id": "activitynet~v_-JhWjGDPHMY"}),
    ("piqa", None, "validation", "item-2", "To permanently attach metal legs to a chair, you can",
     "Weld the metal together", 2, {}),
    ("medmcqa", None, "validation", "e3d3c4e1-4fb2-45e7-9f88-247cc8f373b3", "Which vitamin is supplied from only "
     "animal source:", "Vitamin B12", 4, {"subject_name": "Biochemistry", "topic_name": "Vitamins",
                                          "choice_type": "single"}),
    ("mmlu_pro", None, None, "71", "Managers are entrusted to run the company in the best interest of ________.",
     "Shareholders", 7, {"category": "business", "src": "ori_mmlu-business_ethics"}),
])
def test_each_benchmark_gives_question_choices_gold_and_metadata(hub, name, config, split, item_id, question, gold,
                                                                 k, meta):
    loaded = load_source(hub[name], config=config, split=split)
    item = by_id(loaded.items)[item_id]
    assert (item.question, item.gold, item.k) == (question, gold, k)
    assert dict(item.metadata) == {**meta, "dataset": hub[name].name}
    assert loaded.schema == name.replace("commonsenseqa", "arc")


def test_content_columns_are_not_metadata(hub):
    """Long text that belongs to the item, and list columns, stay out of the metadata."""
    hella = load_items(hub["hellaswag"], split="validation")[0].metadata
    assert not {"ctx_a", "ctx_b", "ctx", "endings", "label", "ind"} & set(hella)
    assert "exp" not in load_items(hub["medmcqa"], split="validation")[0].metadata
    assert not {"cot_content", "answer", "answer_index", "options"} & set(load_items(hub["mmlu_pro"])[0].metadata)
    assert "mc2_targets" not in load_items(hub["truthfulqa_mc1"])[0].metadata
    assert "support" not in load_items(hub["sciq"])[0].metadata


def test_gold_first_sources_are_placed_by_a_seeded_order(hub):
    sciq = load_items(hub["sciq"])
    assert sciq[0].gold == "mesophilic organisms"
    assert set(sciq[0].choices) == {"mesophilic organisms", "protozoa", "gymnosperms", "viruses"}
    assert sciq[0].choices == tuple(["mesophilic organisms", "protozoa", "gymnosperms", "viruses"][o]
                                    for o in placement(SCHEMAS[2], sciq[0].question, 4))
    drawn = load_items(hub["sciq"], n=1, seed=5)[0]  # a sample places each item as the whole split does
    assert drawn.choices == by_id(sciq)[drawn.id].choices
    tqa = load_items(hub["truthfulqa_mc1"])  # the only split (validation) is picked
    assert tqa[1].gold == "The watermelon seeds pass through your digestive system." and tqa[1].k == 4
    golds = {placement(SCHEMAS[2], f"question {n}", 4).index(0) for n in range(40)}
    assert golds == {0, 1, 2, 3}  # the correct answer lands at every position across questions


def test_hidden_test_labels_load_as_items_without_gold(hub):
    for name in ("commonsenseqa", "hellaswag", "piqa", "medmcqa"):
        loaded = load_source(hub[name])  # split=None picks test, whose labels are hidden
        assert loaded.split == "test" and all(i.answer is None for i in loaded.items), name


def test_datasets_objects_and_fields_mapping(hub):
    import datasets

    ds = datasets.load_dataset(str(hub["medmcqa"]), split="validation")
    assert [i.gold for i in load_items(ds)] == ["Atrophy", "Vitamin B12"]
    mapped = load_items(ds, fields={"question": "question", "choices": ["opd", "opc", "opb", "opa"], "answer": "cop"})
    assert [i.choices[0] for i in mapped] == ["Dyplasia", "Vitamin D"]
    assert mapped[0].metadata["subject_name"] == "Anatomy"
    two = load_items([{"q": "Pick one", "x": "yes", "y": "no", "gold": 1}],
                     fields={"question": "q", "choices": ["x", "y"], "answer": "gold"})
    assert (two[0].choices, two[0].answer) == (("yes", "no"), 1)
    dd = datasets.DatasetDict({"validation": ds})
    assert len(load_items(dd)) == 2  # the only split


def test_unknown_schema_names_dataset_field_and_fix(tmp_path):
    folder = H.write_repo(tmp_path / "odd", {"default": {"test": [{"prompt": "2 + 2 =", "options": ["3", "4"]}]}})
    with pytest.raises(DataError) as e:
        load_items(folder)
    text = str(e.value)
    assert e.value.field == "question" and "'odd' (split 'test')" in text and "match no multiple-choice layout" in text
    assert "fields={'question'" in text and "--fields" in text and "\n" not in text
    with pytest.raises(DataError, match="fields= names column 'stem'"):
        load_items(folder, fields={"question": "stem", "choices": "options"})
    assert load_items(folder, fields={"question": "prompt", "choices": "options"})[0].choices == ("3", "4")


def test_missing_split_and_config_list_what_there_is(hub):
    with pytest.raises(DataError, match=r"field 'config': it has 2 configs.*--config NAME.*ARC-Challenge, ARC-Easy"):
        load_items(hub["arc"])
    with pytest.raises(DataError, match=r"field 'config': it has no config 'ARC-Hard'"):
        load_items(hub["arc"], config="ARC-Hard")
    with pytest.raises(DataError, match=r"'ai2_arc' \(config 'ARC-Challenge'\), field 'split': it has no split "
                                        r"'train'; its splits are test, validation.*--split"):
        load_items(hub["arc"], config="ARC-Challenge", split="train")
    with pytest.raises(DataError, match=r"field 'split': no split was chosen, it has no 'test' split and several"):
        load_items(H.write_repo(hub["mmlu"].parent / "two", {"default": {"train": H.ARC_ROWS, "dev": H.ARC_ROWS}}))
    with pytest.raises(DataError, match="only datasets have configs and splits"):
        load_items("capitals", split="test")


def test_gold_out_of_range_names_dataset_item_column_and_fix(tmp_path):
    rows = [{"id": "m1", "question": "Which?", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 7}]
    folder = H.write_repo(tmp_path / "medmcqa_bad", {"default": {"validation": rows}})
    for invalid in ("raise", None):  # with skip, an all-invalid split is an error too
        with pytest.raises(ItemError) as e:
            load_items(folder, invalid=invalid)
        assert (e.value.item_id, e.value.field) == ("m1", "cop")
        assert "'medmcqa_bad' (split 'validation')" in str(e.value) and "index 7 is out of range for 4 choices" \
            in str(e.value) and "Fix: use an index from 0 to 3" in str(e.value)


def test_offline_hub_id_says_which_id_and_how_to_get_a_copy():
    with pytest.raises(DataError) as e:
        load_items("allenai/ai2_arc", config="ARC-Challenge")
    text = str(e.value)
    assert "'allenai/ai2_arc'" in text and "Hugging Face Hub cannot be reached" in text
    assert "hf download allenai/ai2_arc --repo-type dataset" in text and "--data ai2_arc" in text


def test_no_network_fails_fast_without_offline_mode(tmp_path):
    """HF_HUB_OFFLINE unset and the hub unreachable: a clear error in seconds, not a minute of retries."""
    code = "from explorer.items import load_items\nload_items('allenai/ai2_arc', config='ARC-Challenge')\n"
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert time.perf_counter() - t0 < 60
    assert done.returncode != 0 and "DataError" in done.stderr
    assert "no connection to http://127.0.0.1:9" in done.stderr and "hf download allenai/ai2_arc" in done.stderr


def test_missing_file_and_odd_names():
    with pytest.raises(FileNotFoundError, match="neither a built-in set"):
        load_items("no_such_items.jsonl")
    with pytest.raises(FileNotFoundError):
        load_items("./no_such_folder")


def test_every_recognised_benchmark_has_a_schema_and_a_test_copy():
    names = {s.name for s in SCHEMAS}
    assert {b.schema for b in BENCHMARKS} <= names
    assert names - {"choices"} <= set(H.BUILDERS) | {"arc"}
    assert {"cais/mmlu", "allenai/ai2_arc", "Rowan/hellaswag", "TIGER-Lab/MMLU-Pro"} <= {b.id for b in BENCHMARKS}


def test_a_hub_id_pinned_to_a_revision_passes_it_to_every_datasets_call(hub, monkeypatch):
    """The hub path cannot reach the hub here: its datasets calls are redirected to the local MMLU copy
    and record what they were asked, so the test sees the revision reach all three."""
    import datasets

    asked = []

    def redirect(fn):
        def call(path, *args, **kwargs):
            asked.append((fn.__name__, path, kwargs.get("revision")))
            kwargs.pop("revision", None)
            return fn(str(hub["mmlu"]), *args, **kwargs)
        return call

    for name in ("get_dataset_config_names", "get_dataset_split_names", "load_dataset"):
        monkeypatch.setattr(datasets, name, redirect(getattr(datasets, name)))
    loaded = load_source("cais/mmlu", config="abstract_algebra", revision="c30699e")
    assert [fn for fn, _, _ in asked] == ["get_dataset_config_names", "get_dataset_split_names", "load_dataset"]
    assert {(path, rev) for _, path, rev in asked} == {("cais/mmlu", "c30699e")}
    assert loaded.revision == "c30699e" and "cais/mmlu · config abstract_algebra · split test · revision c30699e" \
        in loaded.describe()
    assert [i.question for i in loaded.items] == [i.question for i in mmlu(subjects=["abstract_algebra"])]
    asked.clear()
    load_source("cais/mmlu", config="abstract_algebra")
    assert {rev for _, _, rev in asked} == {None}  # unpinned: the newest


def test_a_revision_for_anything_but_a_hub_id_is_refused(hub, tmp_path):
    from explorer.cli.main import main

    for source in (hub["mmlu"], "capitals"):
        with pytest.raises(DataError, match="only hub datasets have revisions") as e:
            load_items(source, revision="main")
        assert "Fix: leave out revision=" in str(e.value)
    items = tmp_path / "items.jsonl"
    items.write_text('{"question": "2+2?", "choices": ["3", "4"], "answer": 1}\n')
    assert main(["score", "--data", str(items), "--revision", "v1", "--out", str(tmp_path / "o.csv")]) == 2
