"""Open LLM Leaderboard details, read with ``datasets`` from a local copy in the Hub's real layout (a dataset
card with a config per task and a split per run date, the model's folder of lm-eval samples and results),
built from the real lm-eval log under tests/data: the same rows as reading the lm-eval folder itself."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from explorer import columns as C
from explorer.errors import DataError, RunLogError, RunLogWarning
from explorer.runs import read_lmeval, read_run, run_frame, source_kind
from tests.hubcopies import LMEVAL_RUN, leaderboard_details


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        return fn(*args, **kwargs)


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values([C.ITEM_ID, C.POSITION]).reset_index(drop=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return leaderboard_details(tmp_path_factory.mktemp("hub"))


def test_a_local_copy_is_recognised_and_reads_like_the_lm_eval_folder(repo):
    assert source_kind(repo) == "open-llm-leaderboard" and source_kind(LMEVAL_RUN) == "lm-eval"
    log = quiet(read_run, repo)
    assert log.model == "HuggingFaceTB/SmolLM2-135M-Instruct" and log.source == "open-llm-leaderboard details"
    assert "mmlu_sample" not in log.tasks  # a group config (its tasks' files) is not read twice
    pd.testing.assert_frame_equal(ordered(run_frame(log)), ordered(run_frame(quiet(read_lmeval, LMEVAL_RUN))))
    assert log.logged == quiet(read_lmeval, LMEVAL_RUN).logged
    assert any("lmx_generate is not multiple-choice" in n for n in log.notes)


def test_the_latest_split_is_read_unless_a_run_date_is_asked_for(repo):
    latest = ordered(run_frame(quiet(read_run, repo, task="mmlu_*")))
    older = ordered(run_frame(quiet(read_run, repo, task="mmlu_*", split="2026_12_01T10_00_00.000000")))
    assert (older[C.LOGPROB] - latest[C.LOGPROB]).round(9).eq(-1.0).all()


def test_tasks_by_glob_or_group_and_unknown_ones_named(repo):
    assert sorted(quiet(read_run, repo, task="mmlu_sample").tasks) == sorted(
        t for t in quiet(read_run, repo).tasks if t.startswith("mmlu_"))
    with pytest.raises(RunLogError, match="holds no task 'bbh'; its tasks are"):
        quiet(read_run, repo, task="bbh")


def test_a_copy_with_json_extensions_reads_the_same(tmp_path):
    """Early leaderboard runs named their JSON Lines samples ``.json``."""
    repo = leaderboard_details(tmp_path, extension="json")
    assert len(run_frame(quiet(read_run, repo, task="lmx_arc"))) == len(
        run_frame(quiet(read_lmeval, LMEVAL_RUN, tasks=["lmx_arc"])))


def test_a_hub_id_offline_says_how_to_get_a_copy():
    assert source_kind("open-llm-leaderboard/Org__Model-details") == "open-llm-leaderboard"
    with pytest.raises(DataError, match="hf download open-llm-leaderboard/Org__Model-details --repo-type dataset"):
        read_run("open-llm-leaderboard/Org__Model-details")


def test_an_unknown_hub_id_is_no_run():
    with pytest.raises(RunLogError, match="no run at someone/else"):
        read_run("someone/else")
