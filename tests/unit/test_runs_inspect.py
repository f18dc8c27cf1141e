"""Inspect logs: real logs of the bundled model under tests/data/inspect (Inspect's multiple_choice solver and
choice scorer, hf provider, top-20 log-probabilities, three shuffle seeds), and logs changed and written back
through inspect_ai's own log API (no log-probabilities; an "ANSWER: B" completion)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from explorer import columns as C
from explorer.errors import RunLogError, RunLogWarning
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.runs import read_inspect, read_run, run_frame, source_kind, summarize_run

LOGS = Path(__file__).resolve().parents[1] / "data" / "inspect" / "logs"
SEED0 = LOGS / "mmlu_sample_seed0.eval"

from inspect_ai import log as log_api  # noqa: E402 - the inspect extra is part of the dev install


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        return fn(*args, **kwargs)


def test_one_log_gives_each_labels_log_probability_at_the_answer_position():
    log = quiet(read_inspect, SEED0)
    assert source_kind(SEED0) == "inspect" and log.model == "hf/SmolLM2-135M-Instruct"
    frame = run_frame(log)
    samples = {str(s.id): s for s in log_api.read_eval_log_samples(str(SEED0))}
    for item, rows in frame.groupby(C.ITEM_ID):
        s = samples[item.split("/", 1)[1]]
        assert rows[C.CHOICE].tolist() == s.choices and int(np.flatnonzero(rows[C.IS_GOLD])[0]) == "ABCD".index(s.target)
        first = s.output.choices[0].logprobs.content[0]  # "A) 8": the first generated token carries the letter
        tops = {t.token: t.logprob for t in first.top_logprobs}
        assert rows[C.LOGPROB].tolist() == [tops.get(lab, -math.inf) for lab in "ABCD"]
    assert any("left out" in n for n in log.notes)  # a sample whose tokens hold no letter


def test_several_logs_of_one_task_are_an_order_study_joined_on_sample_id():
    log = quiet(read_run, LOGS)
    frame = run_frame(log)
    assert frame[C.ORDER].nunique() == 3 and sorted(frame[C.ORDER].unique())[0] == "mmlu_sample_seed0"
    first = {str(s.id): s.choices for s in log_api.read_eval_log_samples(str(SEED0))}
    for (item, order), rows in frame.groupby([C.ITEM_ID, C.ORDER]):
        reference = first[item.split("/", 1)[1]]
        assert [reference[i] for i in rows[C.CHOICE_INDEX]] == rows[C.CHOICE].tolist()  # content kept across orders
    assert frame.groupby(C.ITEM_ID)[C.ORDER].nunique().eq(3).all()  # only samples every log has
    s = summarize_permutation(frame, n_boot=0)
    summary = summarize_run(frame)
    assert summary["positions"]["4"]["consistency"] == s["consistency"] and s["n_orders"] == 3
    assert summary["chain"] is None  # one value per item and condition: not defined over orders


def without_logprobs(tmp_path) -> Path:
    log = log_api.read_eval_log(str(SEED0))
    for s in log.samples:
        for c in s.output.choices:
            c.logprobs = None
    out = tmp_path / "no-logprobs.eval"
    log_api.write_eval_log(log, str(out))
    return out


def test_a_log_without_log_probabilities_gives_positions_from_the_answers_and_no_calibration(tmp_path):
    log = log_api.read_eval_log(str(SEED0))
    for s in log.samples:  # answers the scorer read, as a model that follows the format gives them
        s.scores["choice"].answer = "B"
        for c in s.output.choices:
            c.logprobs = None
    path = tmp_path / "answers.eval"
    log_api.write_eval_log(log, str(path))
    frame = run_frame(quiet(read_run, path))
    assert len(frame[C.ITEM_ID].unique()) == 8 and frame.loc[frame[C.IS_PRED], C.LABEL].eq("B").all()
    assert frame.attrs["logprobs"] is False
    summary = summarize_run(frame)
    assert summary["positions"]["4"]["position_share"] == [0.0, 1.0, 0.0, 0.0]
    assert summary["calibration"] is None and "no log-probabilities" in summary["notes"][-1]
    with pytest.raises(RunLogError, match="no sample .* reads as a multiple-choice question: .*the scorer read no "
                                          "answer and the log has no log-probabilities"):
        quiet(read_run, without_logprobs(tmp_path))  # neither answers nor log-probabilities: nothing to read


def test_an_answer_after_ANSWER_colon_is_read_at_its_own_position(tmp_path):
    from inspect_ai.model import Logprob, Logprobs, TopLogprob

    log = log_api.read_eval_log(str(SEED0))
    s = log.samples[0]
    tokens = [("ANSWER", {"ANSWER": -0.1}), (":", {":": -0.01}), ("ĠC", {"ĠC": -0.5, "ĠA": -1.5, "ĠB": -2.0,
                                                                      "ĠD": -3.0})]
    s.output.choices[0].logprobs = Logprobs(content=[
        Logprob(token=t, logprob=max(tops.values()), top_logprobs=[TopLogprob(token=k, logprob=v) for k, v in
                                                                    tops.items()]) for t, tops in tokens])
    s.scores["choice"].answer = "C"
    log.samples = [s]
    path = tmp_path / "answer.json"
    log_api.write_eval_log(log, str(path))
    assert source_kind(path) == "inspect"
    frame = run_frame(quiet(read_run, path))
    assert frame[C.LOGPROB].tolist() == [-1.5, -2.0, -0.5, -3.0] and frame[C.IS_PRED].tolist() == [False, False, True,
                                                                                                    False]
