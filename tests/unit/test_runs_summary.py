"""An imported run's frame feeds the engine's own metric functions; its summary is theirs (checked on a
hand-made run against hand-computed values, and on the real lm-eval log against the functions called directly)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from explorer import columns as C
from explorer.errors import RunLogWarning
from explorer.metrics.chain_summary import summarize_chain
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.probes.calibration import item_confidence, summarize
from explorer.probes.chain import chain_rows
from explorer.runs import docs_frame, load_run, prompt_rows, summarize_run
from explorer.runs.record import CLOZE, LETTERS, ScoredDoc

DATA = Path(__file__).resolve().parents[1] / "data" / "lmeval" / "v0.4.13"


def doc(n: int, lps, gold: int, *, fmt: str = LETTERS, greedy=None, chars=None, uncond=None, task="t") -> ScoredDoc:
    k = len(lps)
    labels = tuple("ABCD"[:k]) if fmt == LETTERS else ("",) * k
    choices = tuple(f"choice {n}.{j}" for j in range(k))
    return ScoredDoc(task=task, doc_id=str(n), question=f"q{n}", prompt=f"prompt {n}", choices=choices,
                     targets=tuple(" " + (lab or c) for lab, c in zip(labels, choices)), labels=labels,
                     logprobs=tuple(math.log(p) for p in lps), gold=gold, fmt=fmt,
                     is_greedy=greedy or (False,) * k, n_chars=chars or (1,) * k,
                     unconditional=uncond, metadata={C.TASK: task, C.SUBJECT: f"s{n % 2}", C.GROUP: ""})


DOCS = [doc(0, [0.5, 0.2, 0.1, 0.1], 0, greedy=(True, False, False, False)),  # right, PMA .9
        doc(1, [0.3, 0.1, 0.05, 0.05], 2),  # wrong (predicts A), PMA .5
        doc(2, [0.1, 0.1, 0.6, 0.1], 2, greedy=(False, False, True, False))]  # right, PMA .9


def test_the_frame_renormalises_and_marks_prediction_and_gold():
    frame = docs_frame(DOCS)
    first = frame[frame[C.ITEM_ID] == "t/1"]
    np.testing.assert_allclose(first[C.PROB_NORM], [0.6, 0.2, 0.1, 0.1])
    np.testing.assert_allclose(first[C.PROB], [0.3, 0.1, 0.05, 0.05])
    assert first[C.IS_PRED].tolist() == [True, False, False, False] and first[C.IS_GOLD].tolist() == [False, False,
                                                                                                       True, False]
    assert frame[C.ORDER].eq("0,1,2,3").all() and frame[C.CHOICE_INDEX].tolist() == [0, 1, 2, 3] * 3
    assert list(frame.columns[: len(C.RUN_COLUMNS)]) == C.RUN_COLUMNS


def test_prompt_rows_hold_pma_the_sfc_bound_and_the_greedy_token():
    rows = prompt_rows(docs_frame(DOCS))
    np.testing.assert_allclose(rows[C.PMA], [0.9, 0.5, 0.9])
    assert rows[C.RESOLVED].tolist() == [True, False, True]  # .1 < .5 - .2; .5 >= .3 - .1; .1 < .6 - .1
    assert rows[C.GREEDY_VALID].tolist() == [True, False, True]
    assert rows[C.CORRECT].tolist() == [True, False, True]


def test_length_normalisation_and_mutual_information_follow_lm_eval():
    """acc_norm: argmax of logprob / len(choice); acc_mutual_info: argmax of logprob - logprob(choice | "")."""
    d = doc(0, [0.5, 0.4], 1, fmt=CLOZE, chars=(10, 2), uncond=(math.log(0.9), math.log(0.1)))
    rows = prompt_rows(docs_frame([d]))
    # per character: log(.5)/10 = -0.069 beats log(.4)/2 = -0.458; minus the unconditional: log(.5/.9) < log(.4/.1)
    expected_norm = int(np.argmax(np.log([0.5, 0.4]) / np.array([10, 2])))
    expected_pmi = int(np.argmax(np.log([0.5, 0.4]) - np.log([0.9, 0.1])))
    assert rows[C.PRED].iloc[0] == 0 and rows[C.PRED_NORM].iloc[0] == expected_norm == 0
    assert rows[C.PRED_PMI].iloc[0] == expected_pmi == 1 and bool(rows[C.CORRECT_PMI].iloc[0])
    unknown = prompt_rows(docs_frame([doc(0, [0.5, 0.4], 1, fmt=CLOZE)]))
    assert unknown[C.PRED_PMI].isna().all()  # no unconditional requests: not defined


def test_the_summary_is_the_metric_functions_on_the_frame():
    frame = docs_frame(DOCS)
    s = summarize_run(frame, n_boot=50)
    cal = summarize(item_confidence(frame, by=[C.ORDER_ID]), n_boot=50).iloc[0]
    assert s["calibration"]["ece"] == pytest.approx(cal[C.ECE], abs=1e-12)
    assert s["calibration"]["smece"] == pytest.approx(cal[C.SMECE], abs=1e-12)
    assert s["accuracy"] == pytest.approx(2 / 3)
    perm = summarize_permutation(frame, n_boot=0)
    assert s["positions"]["4"]["position_share"] == perm["position_share"] == [2 / 3, 0.0, 1 / 3, 0.0]
    assert s["positions"]["4"]["recall_by_position"] == [1.0, None, 0.5, None]
    assert s["positions"]["4"]["rstd"] == pytest.approx(perm["rstd"]) and perm["rstd"] == pytest.approx(25.0)
    assert s["attentiveness"]["pma_mean"] == pytest.approx((0.9 + 0.5 + 0.9) / 3)
    assert s["attentiveness"]["invalid_share"] == pytest.approx(1 / 3)
    chain = summarize_chain(chain_rows(frame, condition="m", model="m"))
    assert s["chain"]["p_choices_gold"] == pytest.approx(chain["p_choices_gold"])
    assert [g[C.SUBJECT] for g in s["by_subject"]] == ["s0", "s1"]
    assert s["by_subject"][1]["accuracy"] == 0.0 and s["by_subject"][0]["positions"]["n_items"] == 2


@pytest.fixture(scope="module")
def real():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        return load_run(DATA)


def test_the_real_logs_summary_reports_what_lm_eval_reported_and_the_same_recomputed(real):
    s = summarize_run(real, logged=real.attrs["logged"], n_boot=0)
    for task, metrics in s["reported"].items():
        for metric, pair in metrics.items():
            if pair["logged"] is not None:
                assert pair["reproduced"] == pair["logged"], (task, metric)  # exactly
    assert s["reported"]["lmx_arc"]["acc_mutual_info"]["logged"] is not None
    by_task = {g[C.TASK]: g for g in s["by_task"]}
    for task in by_task:
        items = item_confidence(real[real[C.TASK] == task])
        assert by_task[task]["accuracy"] == pytest.approx(items[C.CORRECT].mean(), abs=0)
    letters = real[real[C.FORMAT] == "letters"]
    assert s["positions"]["4"]["position_share"] == summarize_permutation(letters, n_boot=0)["position_share"]
    assert by_task["lmx_arc"]["positions"] is None  # a cloze task: choices are not shown at positions


def test_the_summary_is_json_ready(real, tmp_path):
    import json

    s = summarize_run(real, logged=real.attrs["logged"], n_boot=20)
    text = json.dumps(s, allow_nan=False)
    assert json.loads(text)["n_items"] == real[C.ITEM_ID].nunique()


def test_a_frame_without_tasks_groups_still_summarises():
    frame = docs_frame(DOCS[:2])
    s = summarize_run(frame.assign(**{C.SUBJECT: ""}), n_boot=0)
    assert "by_subject" not in s and "by_task" not in s
    assert s["positions"]["4"]["n_items"] == 2 and s["n_items"] == 2


def test_subjects_that_are_the_tasks_reuse_the_tasks_summaries():
    """lm-eval's mmlu_<subject> tasks: one subject per task; by_subject is by_task relabelled, equal to computing it."""
    from explorer.runs.summary import grouped, prompt_rows as rows_of

    docs = [doc(n, [0.5, 0.2, 0.2, 0.1], n % 4, task=f"t{n % 2}") for n in range(8)]
    frame = docs_frame(docs)
    frame[C.SUBJECT] = frame[C.TASK].str.replace("t", "s")
    s = summarize_run(frame, n_boot=0)
    items = item_confidence(frame, by=[C.ORDER_ID])
    rows = rows_of(frame)
    direct = grouped(frame, items, rows[rows[C.GREEDY_VALID].notna()], C.SUBJECT, n_bins=10)
    assert s["by_subject"] == [{k: v for k, v in r.items()} for r in direct]
    assert [r[C.SUBJECT] for r in s["by_subject"]] == ["s0", "s1"]
