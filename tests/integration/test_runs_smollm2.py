"""Parity with lm-evaluation-harness on the bundled model: the real lm-eval 0.4.13 log under tests/data (made on
this model, see its README) holds the same log-likelihoods as lm-explorer's own scoring of the same prompts (to
1e-4), its accuracy is lm-eval's exactly, and ``lm-explorer import`` + ``summarize`` give the calibration and
position summaries of lm-explorer's own probes on those prompts."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.errors import RunLogWarning
from explorer.items.item import Item
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.probes.calibration import item_confidence, summarize
from explorer.probes.choices import score_choices
from explorer.probes.permutation import permutation_probe
from explorer.prompts.format import PromptFormat
from explorer.runs import load_run

pytestmark = pytest.mark.slow
RUN = Path(__file__).resolve().parents[1] / "data" / "lmeval" / "v0.4.13"
MODEL = RUN / "SmolLM2-135M-Instruct"
MMLU = ["mmlu_abstract_algebra", "mmlu_college_biology", "mmlu_philosophy", "mmlu_world_religions"]


def samples(task: str) -> list[dict]:
    return [json.loads(line) for line in next(MODEL.glob(f"samples_{task}_*.jsonl")).read_text().splitlines()]


def results() -> dict:
    return json.loads(next(MODEL.glob("results_*.json")).read_text())


def mmlu_items(task: str) -> tuple[list[Item], str]:
    """The task's docs as items, and lm-eval's MMLU prompt as an lm-explorer template (its description first)."""
    config = results()["configs"][task]
    items = [Item(f"{task}/{s['doc_id']}", s["doc"]["question"].strip(), tuple(s["doc"]["choices"]),
                  answer=s["doc"]["answer"], metadata={C.TASK: task}) for s in samples(task)]
    return items, config["description"] + "{question}\n{choices}\nAnswer:"


@pytest.fixture(scope="module")
def imported():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        return load_run(RUN)


@pytest.fixture(scope="module")
def mine(smollm2):
    """lm-explorer's permutation probe (one order: the log's) on the same questions and prompts."""
    frames = []
    for task in MMLU:
        items, template = mmlu_items(task)
        frame = permutation_probe(smollm2, items, orders=[[0, 1, 2, 3]], template=template, cache=None)
        assert frame.drop_duplicates(C.ITEM_ID)[C.PROMPT].tolist() == [
            s["arguments"]["gen_args_0"]["arg_0"] for s in samples(task)]  # the very prompts lm-eval scored
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_imported_letter_log_likelihoods_equal_lm_explorers_scoring_of_the_same_prompts(imported, mine):
    theirs = imported[imported[C.TASK].isin(MMLU)].set_index([C.ITEM_ID, C.POSITION])[C.LOGPROB]
    ours = mine.set_index([C.ITEM_ID, C.POSITION])[C.LOGPROB].reindex(theirs.index)
    assert np.max(np.abs(ours.to_numpy() - theirs.to_numpy())) < 1e-4
    assert (mine.set_index([C.ITEM_ID, C.POSITION])[C.IS_PRED].reindex(theirs.index).to_numpy() ==
            imported[imported[C.TASK].isin(MMLU)][C.IS_PRED].to_numpy()).all()


def test_cloze_log_likelihoods_equal_lm_explorers_continuation_scoring(smollm2, imported):
    recs = samples("lmx_arc")
    items = [Item(f"lmx_arc/{s['doc_id']}", s["doc"]["question"], tuple(s["doc"]["choices"]["text"]),
                  answer=int(s["target"])) for s in recs]
    ours = score_choices(smollm2, items, PromptFormat(style="cloze", template="Question: {question}\nAnswer:"),
                         cache=None)
    assert ours.drop_duplicates(C.ITEM_ID)[C.PROMPT].tolist() == [s["arguments"]["gen_args_0"]["arg_0"] for s in recs]
    theirs = imported[imported[C.TASK] == "lmx_arc"]
    assert ours[C.TARGET].tolist() == theirs[C.TARGET].tolist()
    assert np.max(np.abs(ours[C.LOGPROB].to_numpy() - theirs[C.LOGPROB].to_numpy())) < 1e-4


def test_import_and_summarize_give_lm_evals_accuracy_and_lm_explorers_summaries(mine, tmp_path):
    """The Done-when of issue 21, through the command line."""
    assert main(["import", str(RUN), "--task", "mmlu_sample", "--out", str(tmp_path / "run")]) == 0
    assert main(["summarize", str(tmp_path / "run"), "--summary", str(tmp_path / "s.json")]) == 0
    s = json.loads((tmp_path / "s.json").read_text())
    res = results()
    assert s["accuracy"] == res["groups"]["mmlu_sample"]["acc,none"]  # exactly
    for task in MMLU:
        assert s["reported"][task]["acc"] == {"logged": res["results"][task]["acc,none"],
                                              "reproduced": res["results"][task]["acc,none"]}
    cal = summarize(item_confidence(mine, by=[C.ORDER_ID]), n_boot=200).iloc[0]
    for key in (C.ACCURACY, C.ECE, C.MCE, C.BRIER, C.BRIER_TOP, C.SELECTIVE_AUC, C.SMECE, C.MEAN_CONFIDENCE):
        assert s["calibration"][key] == pytest.approx(cal[key], abs=1e-4), key
    perm = summarize_permutation(mine, n_boot=0)
    pos = s["positions"]["4"]
    np.testing.assert_allclose(pos["position_share"], perm["position_share"], atol=1e-4)
    np.testing.assert_allclose(np.array(pos["recall_by_position"], dtype=float),
                               np.array(perm["recall_by_position"], dtype=float), atol=1e-4)
    np.testing.assert_allclose(pos["mean_prob_by_position"], perm["mean_prob_by_position"], atol=1e-4)
    assert pos["rstd"] == pytest.approx(perm["rstd"], abs=1e-4)


def test_the_runs_notebook_walks_the_real_log():
    from tests.nbrun import printed, run_notebook

    nb = run_notebook("notebooks/runs.ipynb", timeout=900)
    text = printed(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "SmolLM2-135M-Instruct (lm-eval 0.4.13): 29 questions, 115 rows" in text
    diff = float(text.split("largest log-likelihood difference lm-explorer vs lm-eval: ")[1].split()[0])
    assert "same prompts: True" in text and diff < 1e-4
    assert "imported runs side by side" in text
    assert "\nTrue\n" in text  # the run folder's accuracy is lm-eval's
    assert "questions x 3 orders: consistency" in text
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in code[-3].outputs)
