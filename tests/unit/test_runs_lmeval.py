"""The lm-eval reader on real logs of the bundled model (tests/data/lmeval: lm-eval 0.4.13 and 0.4.2), every
number checked against the harness's own per-doc fields and its results file; bad logs get one clear line."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from explorer import columns as C
from explorer.errors import RunLogError, RunLogWarning
from explorer.runs import read_lmeval, run_frame
from explorer.runs.lmeval_samples import gold_index, label_alphabet, requests, sample_doc, TaskInfo

DATA = Path(__file__).resolve().parents[1] / "data" / "lmeval"
NEW, OLD = DATA / "v0.4.13", DATA / "v0.4.2"
MODEL = NEW / "SmolLM2-135M-Instruct"
MMLU = ["mmlu_abstract_algebra", "mmlu_college_biology", "mmlu_philosophy", "mmlu_world_religions"]


def read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        return read_lmeval(path, **kw)


def samples(task: str, root: Path = MODEL) -> list[dict]:
    path = next(root.glob(f"samples_{task}_*.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def results(root: Path = MODEL) -> dict:
    return json.loads(next(root.glob("results*.json")).read_text())


def test_every_multiple_choice_task_is_read_and_generate_until_is_skipped_with_a_note():
    with pytest.warns(RunLogWarning) as caught:
        log = read_lmeval(NEW)
    assert log.model == "SmolLM2-135M-Instruct" and log.source == "lm-eval 0.4.13"
    assert sorted(log.tasks) == sorted(["lmx_arc", "lmx_filters", *MMLU])
    messages = [str(w.message) for w in caught]
    assert any("lmx_generate is generate_until, not multiple_choice" in m and "skipped" in m for m in messages)
    assert any("lmx_filters logs 2 filters (none, first_again): read 'none'" in m for m in messages)
    assert log.notes == messages


def test_log_likelihoods_are_the_harness_strings_as_floats_and_gold_and_prediction_follow_it():
    frame = run_frame(read(NEW))
    for task in ["lmx_arc", *MMLU]:
        for rec in samples(task):
            rows = frame[frame[C.ITEM_ID] == f"{task}/{rec['doc_id']}"]
            k = len(rows)
            lls = [float(r[0]) for r in rec["filtered_resps"][:k]]
            assert rows[C.LOGPROB].tolist() == lls  # exactly: the written repr is the float
            assert rows[C.IS_GREEDY].tolist() == [r[1] == "True" for r in rec["filtered_resps"][:k]]
            assert rows[C.IS_GOLD].tolist() == [j == int(rec["target"]) for j in range(k)]
            assert bool(rows[C.IS_PRED].to_numpy()[int(rec["target"])]) == (rec["acc"] == 1.0)
            np.testing.assert_allclose(rows[C.PROB_NORM].sum(), 1.0, rtol=1e-12)
            assert rows[C.PROMPT].nunique() == 1 and rows[C.PROMPT].iloc[0] == rec["arguments"]["gen_args_0"]["arg_0"]


def test_mmlu_rows_are_letters_with_the_docs_choices_subject_and_group():
    frame = run_frame(read(NEW, tasks=["mmlu_sample"]))  # a group: its tasks
    assert sorted(frame[C.TASK].unique()) == MMLU and set(frame[C.FORMAT]) == {"letters"}
    rec = samples("mmlu_philosophy")[2]
    rows = frame[frame[C.ITEM_ID] == "mmlu_philosophy/2"]
    assert rows[C.LABEL].tolist() == ["A", "B", "C", "D"] and rows[C.TARGET].tolist() == [" A", " B", " C", " D"]
    assert rows[C.CHOICE].tolist() == rec["doc"]["choices"] and rows[C.QUESTION].iloc[0] == rec["doc"]["question"]
    assert set(rows[C.SUBJECT]) == {"philosophy"} and set(rows[C.GROUP]) == {"mmlu_sample_humanities"}
    assert rows[C.N_CHARS].tolist() == [1, 1, 1, 1]
    assert {c for c in C.metadata_columns(frame)} >= {C.TASK, C.SUBJECT, C.GROUP}


def test_cloze_rows_score_the_choice_texts_and_keep_the_unconditional_requests_apart():
    frame = run_frame(read(NEW, tasks=["lmx_arc"]))
    rec = samples("lmx_arc")[3]  # five choices: 10 requests, the last 5 unconditional
    rows = frame[frame[C.ITEM_ID] == "lmx_arc/3"]
    assert len(rows) == 5 and len(rec["arguments"]) == 10 and set(frame[C.FORMAT]) == {"cloze"}
    assert rows[C.CHOICE].tolist() == rec["doc"]["choices"]["text"]
    assert rows[C.TARGET].tolist() == [" " + t for t in rec["doc"]["choices"]["text"]]
    assert rows[C.LOGPROB_UNCONDITIONAL].tolist() == [float(r[0]) for r in rec["filtered_resps"][5:]]
    assert rows[C.N_CHARS].tolist() == [len(t) for t in rec["doc"]["choices"]["text"]]
    assert (rows[C.LABEL] == "").all()


@pytest.mark.parametrize("metric", ["acc", "acc_norm", "acc_mutual_info"])
def test_each_docs_metric_is_reproduced_from_its_log_likelihoods(metric):
    """lm-eval's per-doc acc (argmax), acc_norm (argmax of logprob / characters) and acc_mutual_info
    (argmax of logprob - unconditional logprob), recomputed from the frame, for every doc that logs it."""
    from explorer.runs import prompt_rows

    rows = prompt_rows(run_frame(read(NEW)))
    column = {"acc": C.CORRECT, "acc_norm": C.CORRECT_NORM, "acc_mutual_info": C.CORRECT_PMI}[metric]
    checked = 0
    for task in ["lmx_arc", "lmx_filters", *MMLU]:
        for rec in samples(task):
            if metric in rec and rec.get("filter", "none") == "none":
                mine = rows.loc[rows[C.ITEM_ID] == f"{task}/{rec['doc_id']}", column].iloc[0]
                assert float(mine) == rec[metric], (task, rec["doc_id"], metric)
                checked += 1
    assert checked >= 6


def test_the_old_json_array_layout_gives_the_same_kind_of_rows_and_pairs_interleaved_requests():
    """lm-eval 0.4.2 wrote one indented array per task, numbers unquoted, and interleaved acc_mutual_info's
    unconditional requests (without the target delimiter) with the conditional ones."""
    log = read(OLD)
    assert log.source.startswith("lm-eval 0.4.0-0.4.2") and log.model == "SmolLM2-135M-Instruct"
    frame = run_frame(log)
    recs = json.loads(next(OLD.glob("*_lmx_arc.jsonl")).read_text())
    rows = frame[frame[C.ITEM_ID] == "lmx_arc/0"]
    assert rows[C.LOGPROB].tolist() == [r[0] for r in recs[0]["filtered_resps"][::2]]
    assert rows[C.LOGPROB_UNCONDITIONAL].tolist() == [r[0] for r in recs[0]["filtered_resps"][1::2]]
    assert log.logged["lmx_arc"] == {m: results(OLD)["results"]["lmx_arc"][f"{m},none"]
                                     for m in ("acc", "acc_norm", "acc_mutual_info")}
    assert (frame.groupby(C.TASK)[C.ITEM_ID].nunique() > 0).all() and "lmx_generate" not in log.tasks
    assert frame[frame[C.TASK] == "lmx_filters"][C.ITEM_ID].nunique() == 3  # one record per doc, not per filter


def test_logged_aggregates_are_the_results_files():
    log = read(NEW)
    res = results()["results"]
    for task in log.tasks:
        assert log.logged[task]["acc"] == res[task]["acc,none"]
    assert log.logged["lmx_arc"]["acc_mutual_info"] == res["lmx_arc"]["acc_mutual_info,none"]


def test_a_filter_is_chosen_by_name():
    log = read(NEW, tasks=["lmx_filters"], filter="first_again")
    assert log.details["filters"] == {"lmx_filters": "first_again"} and len(log.docs) == 3
    with pytest.raises(RunLogError, match=r"logs filters \['none', 'first_again'\], not 'other'"):
        read(NEW, tasks=["lmx_filters"], filter="other")


def test_one_file_reads_one_task_and_globs_pick_tasks():
    assert read(next(MODEL.glob("samples_mmlu_philosophy_*.jsonl"))).tasks == ["mmlu_philosophy"]
    assert sorted(read(NEW, tasks=["mmlu_*"]).tasks) == MMLU
    assert read(MODEL).model == "SmolLM2-135M-Instruct"  # the model's folder itself


def test_a_truncated_line_is_left_out_with_a_note_naming_it_and_the_rest_is_read(tmp_path):
    run = shutil.copytree(MODEL, tmp_path / "SmolLM2-135M-Instruct")
    path = next(run.glob("samples_mmlu_philosophy_*.jsonl"))
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:-1], lines[-1][: len(lines[-1]) // 2]]) + "\n")
    with pytest.warns(RunLogWarning, match=r"samples_mmlu_philosophy_.*\.jsonl: line 5 is not valid JSON"):
        log = read_lmeval(tmp_path, tasks=["mmlu_philosophy"])
    assert [d.doc_id for d in log.docs] == ["0", "1", "2", "3"]


def test_records_are_lines_ending_at_newline_only(tmp_path):
    """lm-eval writes with ensure_ascii=False: a question may hold \\x85 or \\u2028 (MMLU's management has one),
    which str.splitlines would take for line ends."""
    run = shutil.copytree(MODEL, tmp_path / "m")
    path = next(run.glob("samples_mmlu_philosophy_*.jsonl"))
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    recs[2]["doc"]["question"] += "\x85 and\u2028 more"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RunLogWarning)
        log = read_lmeval(run, tasks=["mmlu_philosophy"])
    assert len(log.docs) == 5 and log.docs[2].question.endswith("\x85 and\u2028 more")


def test_a_cut_json_array_keeps_the_records_before_the_cut(tmp_path):
    run = shutil.copytree(OLD, tmp_path / "old")
    path = next(run.glob("*_lmx_arc.jsonl"))
    text = path.read_text()
    path.write_text(text[: len(text) * 2 // 3])
    with pytest.warns(RunLogWarning, match="the array is cut at line"):
        log = read_lmeval(run, tasks=["lmx_arc"])
    assert 0 < len(log.docs) < 6


def test_a_folder_without_samples_says_to_rerun_with_log_samples(tmp_path):
    (tmp_path / "m").mkdir()
    shutil.copy(next(MODEL.glob("results_*.json")), tmp_path / "m")
    with pytest.raises(RunLogError, match="a results file but no per-sample logs.*re-run lm-eval with --log_samples"):
        read_lmeval(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunLogError, match="no lm-eval results or per-sample logs.*--log_samples"):
        read_lmeval(tmp_path / "empty")


def test_only_generate_until_tasks_is_an_error_naming_why(tmp_path):
    run = tmp_path / "m"
    run.mkdir()
    for p in MODEL.glob("*lmx_generate*"):
        shutil.copy(p, run)
    shutil.copy(next(MODEL.glob("results_*.json")), run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        with pytest.raises(RunLogError, match="holds no multiple-choice task.*generate_until"):
            read_lmeval(run)


def test_bad_records_and_unknown_tasks_name_the_file_line_and_fix(tmp_path):
    run = shutil.copytree(MODEL, tmp_path / "m")
    path = next(run.glob("samples_mmlu_philosophy_*.jsonl"))
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    recs[1]["filtered_resps"][0][0] = "not a number"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    with pytest.raises(RunLogError, match=r"samples_mmlu_philosophy_.*, line 2 \(doc 1\): filtered_resps\[0\]\[0\] "
                                          "is 'not a number', not a number"):
        read(run, tasks=["mmlu_philosophy"])
    with pytest.raises(RunLogError, match="holds no task 'hellaswag'.*Fix: --task"):
        read(run, tasks=["hellaswag"])
    with pytest.raises(RunLogError, match="no lm-eval output at"):
        read(tmp_path / "nowhere")


def test_two_models_in_one_output_folder_must_be_told_apart(tmp_path):
    shutil.copytree(MODEL, tmp_path / "out" / "a")
    shutil.copytree(MODEL, tmp_path / "out" / "b")
    with pytest.raises(RunLogError, match="holds the runs of 2 models \\(a, b\\).*give one of them"):
        read(tmp_path / "out")


def test_the_newest_date_of_each_task_is_read(tmp_path):
    run = shutil.copytree(MODEL, tmp_path / "m")
    old = next(run.glob("samples_mmlu_philosophy_*.jsonl"))
    recs = [json.loads(line) for line in old.read_text().splitlines()][:2]
    (run / "samples_mmlu_philosophy_2020-01-01T00-00-00.000000.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in recs))
    log = read(run, tasks=["mmlu_philosophy"])
    assert len(log.docs) == 5


# --- the record parser on its own: the layouts datasets and the harness give ------------------------
def test_requests_read_both_layouts_and_the_hubs_struct_with_absent_choices():
    assert requests([["ctx", " A"], ["ctx", " B"]]) == [("ctx", " A"), ("ctx", " B")]
    hub = {"gen_args_0": {"arg_0": "c", "arg_1": " A"}, "gen_args_10": None, "gen_args_1": {"arg_0": "c", "arg_1": " B"},
           "gen_args_2": None}
    assert requests(hub) == [("c", " A"), ("c", " B")]


def test_label_sequences_and_gold_readings():
    assert label_alphabet(["A", "B", "C", "D"]) and label_alphabet(["(A)", "(B)"]) and not label_alphabet(["A", "C"])
    assert gold_index("2", ["A", "B", "C"], pred=0, acc=0.0) == 2
    assert gold_index("B", ["A", "B", "C"], pred=1, acc=1.0) == 1
    assert gold_index(1, ["x", "y"], pred=0, acc=None) == 1
    # "2" is index 2 and the text of choice 0: the record's acc settles it
    assert gold_index("2", ["2", "5", "7"], pred=0, acc=1.0) == 0
    assert gold_index("2", ["2", "5", "7"], pred=0, acc=0.0) == 2
    assert gold_index("9", ["a", "b"], pred=0, acc=0.0) is None


def test_a_record_from_datasets_with_arrays_reads_like_the_jsonl_one():
    rec = samples("mmlu_philosophy")[0]
    hub = {**rec, "filtered_resps": np.array([np.array(r, dtype=object) for r in rec["filtered_resps"]], dtype=object),
           "arguments": {**rec["arguments"], "gen_args_4": None, "gen_args_5": None}}
    info = TaskInfo("mmlu_philosophy", "multiple_choice", " ")
    a, b = sample_doc(rec, info), sample_doc(hub, info)
    assert a == b and a.fmt == "letters" and a.gold == int(rec["target"])
