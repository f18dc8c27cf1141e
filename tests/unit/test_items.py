"""Items: validation errors, loaders for every source, permutation bookkeeping, built-in sets."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from explorer.errors import DataError, ItemError
from explorer.items import Item, arithmetic, builtin_items, capitals, counterfactual_capitals, load_items, save_jsonl
from explorer.items.builtin import CAPITALS


def item(**kw):
    base = dict(id="q1", question="What is 1 + 1?", choices=("1", "2", "3"), answer=1)
    return Item(**{**base, **kw})


@pytest.mark.parametrize(
    "kw, field, words",
    [
        (dict(choices=("only",)), "choices", "1 choice"),
        (dict(choices=()), "choices", "0 choice"),
        (dict(choices=("a", "b", "a")), "choices", "both 'a'"),
        (dict(choices=("a", " ", "c")), "choices", "choice 1 is empty"),
        (dict(question="  "), "question", "empty"),
        (dict(answer=3), "answer", "out of range"),
        (dict(answer=-1), "answer", "out of range"),
        (dict(answer=True), "answer", "not an integer"),
    ],
)
def test_bad_items_name_item_field_and_fix(kw, field, words):
    with pytest.raises(ItemError) as e:
        item(**kw)
    assert e.value.item_id == "q1" and e.value.field == field
    assert words in str(e.value) and "Fix:" in str(e.value)


def test_permuted_remaps_answer_and_remembers_origin():
    it = item(choices=("w", "x", "y"), answer=2)
    p = it.permuted((2, 0, 1))
    assert p.choices == ("y", "w", "x") and p.answer == 0 and p.origin == (2, 0, 1)
    pp = p.permuted((1, 2, 0))  # composes with the first permutation
    assert pp.choices == ("w", "x", "y") and pp.origin == (0, 1, 2) and pp.answer == 2
    with pytest.raises(ItemError, match="not a permutation"):
        it.permuted((0, 0, 1))


def test_item_is_frozen():
    with pytest.raises(AttributeError):
        item().question = "x"


def test_load_jsonl_csv_dataframe_and_list_agree(tmp_path):
    items = [item(id="a"), item(id="b", answer=None, choices=("p", "q"))]
    jsonl = save_jsonl(items, tmp_path / "x.jsonl")
    csv = tmp_path / "x.csv"
    pd.DataFrame([{"id": "a", "question": "What is 1 + 1?", "choices": "1|2|3", "answer": "1"},
                  {"id": "b", "question": "What is 1 + 1?", "choices": '["p", "q"]', "answer": ""}]).to_csv(csv, index=False)
    frame = pd.DataFrame([{"id": "a", "question": "What is 1 + 1?", "choices": ["1", "2", "3"], "answer": 1},
                          {"id": "b", "question": "What is 1 + 1?", "choices": ["p", "q"], "answer": None}])
    for source in (jsonl, csv, frame, [dict(r) for r in frame.to_dict("records")]):
        # the CSV's answer "1" could be index 1 or the choice "1": it must say which
        loaded = load_items(source, answer_as="index") if source is csv else load_items(source)
        assert [(i.id, i.choices, i.answer) for i in loaded] == [("a", ("1", "2", "3"), 1), ("b", ("p", "q"), None)]


def test_answer_as_letter_or_text_and_column_mapping():
    recs = [{"q": "Pick", "opts": ["x", "y"], "gold": "B"}, {"q": "Pick", "opts": ["x", "y"], "gold": "x"}]
    loaded = load_items(recs, fields={"question": "q", "choices": "opts", "answer": "gold"})
    assert [i.answer for i in loaded] == [1, 0]
    assert [i.id for i in loaded] == ["item-1", "item-2"]


def test_datasets_dataset_with_column_mapping():
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"question": ["Q1?", "Q2?"], "choices": [{"text": ["a", "b"], "label": ["A", "B"]},
                                                                             {"text": ["c", "d"], "label": ["A", "B"]}],
                                     "answerKey": ["B", "A"]})
    loaded = load_items(ds)  # ARC layout, recognised
    assert [(i.choices, i.answer) for i in loaded] == [(("a", "b"), 1), (("c", "d"), 0)]
    dd = datasets.DatasetDict({"test": ds})
    assert len(load_items(dd, split="test")) == 2


def test_loader_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Q", "choices": ["a", "b"]}\nnot json\n')
    with pytest.raises(ItemError, match=r"bad.jsonl:2.*not valid JSON"):
        load_items(bad)
    with pytest.raises(DataError, match="field 'choices': its columns \\['question'\\] match no multiple-choice"):
        load_items([{"question": "Q"}])
    with pytest.raises(ItemError, match="column 'choices' is missing"):  # a later record lacks it
        load_items([{"question": "Q", "choices": ["a", "b"]}, {"question": "Q2"}])
    with pytest.raises(ItemError, match="neither a label, an index"):
        load_items([{"question": "Q", "choices": ["a", "b"], "answer": "zzz"}])
    with pytest.raises(ItemError, match="share this id"):
        load_items([{"id": "x", "question": "Q", "choices": ["a", "b"]}] * 2)
    with pytest.raises(FileNotFoundError):
        load_items(tmp_path / "missing.jsonl")
    with pytest.raises(ValueError, match="unknown items file type"):
        (tmp_path / "x.txt").write_text("")
        load_items(tmp_path / "x.txt")


def test_capitals_are_true_facts_with_distinct_distractors():
    items = capitals(20, k=4, seed=3)
    assert len(items) == 20 and len({i.id for i in items}) == 20
    for it in items:
        country = it.metadata["country"]
        assert it.gold == CAPITALS[country] and it.k == 4 and len(set(it.choices)) == 4
    assert capitals(20, seed=3) == items  # seeded
    golds = [it.answer for it in capitals()]
    assert len(set(golds)) == 4  # gold positions vary


def test_arithmetic_is_correct():
    for it in arithmetic(30, seed=1):
        a, op, b = it.question.removeprefix("What is ").removesuffix("?").split()
        assert int(it.gold) == (int(a) + int(b) if op == "+" else int(a) - int(b))


def test_counterfactual_capitals_assert_a_wrong_capital():
    for rec in counterfactual_capitals(10):
        assert rec["foil"] == CAPITALS[rec["country"]] and rec["target"] != rec["foil"]
        assert rec["prompt"] == (f"The capital of {rec['country']} is {rec['target']}.\n"
                                 f"Q: What is the capital of {rec['country']}?\nA:")


def test_builtin_items_by_name():
    assert len(builtin_items("arithmetic", n=5)) == 5
    with pytest.raises(KeyError, match="no built-in data set"):
        builtin_items("nope")


def test_save_jsonl_roundtrip_keeps_metadata(tmp_path):
    items = capitals(3)
    back = load_items(save_jsonl(items, tmp_path / "c.jsonl"))
    assert [(i.id, i.choices, i.answer, i.metadata["country"]) for i in back] == \
        [(i.id, i.choices, i.answer, i.metadata["country"]) for i in items]
    assert json.loads((tmp_path / "c.jsonl").read_text().splitlines()[0])["dataset"] == "capitals"


def test_an_answer_that_reads_as_an_index_and_as_a_choice_is_an_error_naming_both(tmp_path):
    csv = tmp_path / "nums.csv"
    csv.write_text('id,question,choices,answer\nn1,Which is two?,1|2|3,2\n', encoding="utf-8")
    with pytest.raises(ItemError, match=r"'2' reads two ways: as an index, choice 2 \('3'\); as text, choice 1 "
                                        r"\('2'\)") as e:
        load_items(csv)
    assert e.value.item_id == "n1" and "answer_as" in str(e.value)
    assert load_items(csv, answer_as="text")[0].gold == "2"
    assert load_items(csv, answer_as="index")[0].gold == "3"
    jsonl = tmp_path / "nums.jsonl"
    jsonl.write_text('{"id": "j", "question": "Which?", "choices": ["1", "2", "3"], "answer": "2"}\n'
                     '{"id": "k", "question": "Which?", "choices": ["1", "2", "3"], "answer": 2}\n', encoding="utf-8")
    with pytest.raises(ItemError, match="reads two ways"):
        load_items(jsonl)
    assert [i.answer for i in load_items(jsonl, answer_as="index")] == [2, 2]  # a JSON number is an index
    letters = [{"id": "l", "question": "Which?", "choices": ["B", "A"], "answer": "A"}]  # letter A = 0, text A = 1
    with pytest.raises(ItemError, match="reads two ways"):
        load_items(letters)
    agree = [{"id": "m", "question": "Which?", "choices": ["0", "1", "2"], "answer": "1"}]  # both readings: 1
    assert load_items(agree)[0].answer == 1
    with pytest.raises(ItemError, match="not one of the choices"):
        load_items([{"id": "o", "question": "Which?", "choices": ["a", "b"], "answer": "1"}], answer_as="text")


def test_with_keeps_origin_unless_the_choices_change():
    moved = item().permuted((2, 0, 1))
    assert moved.with_(question="Changed?").origin == (2, 0, 1)
    assert moved.with_(choices=("x", "y", "z")).origin == (0, 1, 2)
