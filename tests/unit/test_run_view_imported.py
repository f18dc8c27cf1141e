"""Runs made elsewhere open in the run view like computed ones (headless, no model): an imported folder, an
lm-eval folder where it lies, several runs side by side; every number on screen is the engine's."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from explorer import columns as C
from explorer.errors import RunLogWarning
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.runs import import_run, load_run, summarize_run
from widgets.run_view import RunView

DATA = Path(__file__).resolve().parents[1] / "data"
NEW, OLD, INSPECT = DATA / "lmeval" / "v0.4.13", DATA / "lmeval" / "v0.4.2", DATA / "inspect" / "logs"


@pytest.fixture(autouse=True)
def no_model_loads(monkeypatch):
    import explorer.models.load as load

    def refuse(*a, **kw):
        raise AssertionError("opening a run made elsewhere must not load a model")

    monkeypatch.setattr(load, "load_model", refuse)


def opened(path) -> RunView:
    view = RunView(path)
    view.runner.wait(120)
    assert view.runner.last_error is None, view.runner.last_error
    return view


def frame_of(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        return load_run(path)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "smollm2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        import_run(NEW, out)
    return out


def test_an_imported_run_opens_in_summary_calibration_positions_and_chain(imported):
    view = opened(imported)
    assert list(view.views) == ["Summary", "Calibration", "Positions", "Chain"] and view.tabs.titles == tuple(view.views)
    assert "imported run: <b>SmolLM2-135M-Instruct</b> (lm-eval 0.4.13: 29 questions, 6 task(s))" in view.info.value
    frame = frame_of(imported)
    summary = summarize_run(frame, logged=frame.attrs["logged"], n_boot=0)
    numbers = view.views["Summary"].shown_numbers()["SmolLM2-135M-Instruct"]
    assert numbers["accuracy"] == summary["accuracy"] and numbers["ECE"] == pytest.approx(summary["calibration"]["ece"])
    assert numbers["PMA (mass on the labels)"] == pytest.approx(summary["attentiveness"]["pma_mean"])
    assert "mmlu_abstract_algebra" in view.views["Summary"].widget.value and "(log) → 0.200" in view.views["Summary"].widget.value
    calibration = view.views["Calibration"]
    assert calibration.scoring_runs == 0 and len(calibration.frame) == len(frame)
    calibration.group.value = C.TASK  # the run's groups: task, subject
    assert {t.name for t in calibration.fig.data[1:]} >= {"lmx_arc", "mmlu_philosophy"}
    chain = view.views["Chain"]
    assert chain.numbers["means"][0]["n_items"] == 29


def test_positions_show_the_engines_shares_and_recall_and_follow_the_task_control(imported):
    positions = opened(imported).views["Positions"]
    letters = frame_of(imported)
    letters = letters[letters[C.FORMAT] == "letters"]
    expected = summarize_permutation(letters, n_boot=0)
    share, recall = positions.fig.data[0], positions.fig.data[1]
    np.testing.assert_allclose(share.y, expected["position_share"])
    np.testing.assert_allclose(np.array(recall.y, dtype=float), np.array(expected["recall_by_position"], dtype=float))
    before = list(positions.fig.data[0].y)
    positions.task.value = "mmlu_philosophy"
    one = summarize_permutation(letters[letters[C.TASK] == "mmlu_philosophy"], n_boot=0)
    np.testing.assert_allclose(positions.fig.data[0].y, one["position_share"])
    assert list(positions.fig.data[0].y) != before and "5 questions" in positions.line.value
    assert "lmx_arc" not in positions.task.options  # a cloze task: its choices are not shown at positions


def test_an_lm_eval_folder_opens_where_it_lies():
    view = opened(NEW)
    assert set(view.views) == {"Summary", "Calibration", "Positions", "Chain"}
    assert len(view.views["Calibration"].frame) == len(frame_of(NEW))


def test_several_runs_open_side_by_side_one_per_model(imported):
    view = opened([imported, OLD])
    names = list(view.frames)
    assert names == ["SmolLM2-135M-Instruct (lm-eval 0.4.13)", "SmolLM2-135M-Instruct (lm-eval 0.4.0-0.4.2 (JSON "
                                                                "array samples))"]
    assert "imported runs side by side" in view.info.value
    assert set(view.views["Summary"].shown_numbers()) == set(names)
    calibration = view.views["Calibration"]
    assert calibration.group.value == C.CONDITION and {t.name for t in calibration.fig.data[1:]} >= set(names)
    positions = view.views["Positions"]
    assert [t.name for t in positions.fig.data[:4:2]] == names  # a bar per run at each position
    chain = view.views["Chain"]
    assert list(chain.a.options) == names and chain.agreement[C.N].iloc[0] == 9  # lmx_arc and lmx_filters in both


def test_an_inspect_order_study_opens_without_a_chain():
    view = opened(INSPECT)
    assert list(view.views) == ["Summary", "Calibration", "Positions"]
    pos = view.views["Positions"].shown_numbers()["hf/SmolLM2-135M-Instruct"]
    assert pos["position_share"] == summarize_permutation(frame_of(INSPECT), n_boot=0)["position_share"]


def test_show_code_of_imported_views_loads_the_runs_and_prints_the_numbers_shown(imported, tmp_path):
    from tests.snippets import close, run_snippets

    one, two = opened(imported), opened([imported, OLD])
    views = {"one calibration": one.views["Calibration"], "one chain": one.views["Chain"],
             "two calibration": two.views["Calibration"], "two chain": two.views["Chain"]}
    views["one calibration"].bins.value = 4
    codes = {k: v.code() for k, v in views.items()}
    for key, code in codes.items():
        assert "load_run" in code and "frame  # the rows passed" not in code, key
    ran = run_snippets(codes, tmp_path, {})
    for key, view in views.items():
        close(view.shown_numbers(), ran[key], key)


def test_a_folder_that_is_no_run_says_so(tmp_path):
    view = RunView(tmp_path)
    view.runner.wait(60)
    assert "is not a run folder" in view.info.value and "could not open the run" in view.info.value
