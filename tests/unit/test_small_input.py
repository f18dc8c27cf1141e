"""Empty and small input: a clear ``no items`` everywhere, NaN answers named, small-sample intervals and
recalibration at its bounds said so, and no summary with a bare NaN (:mod:`explorer.metrics.small`)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from explorer import load_items
from explorer.cli.commands.calibration import calibration_report
from explorer.cli.main import main
from explorer.errors import ItemError, NoItemsError
from explorer.metrics import (bootstrap_ci, bootstrap_interval, brier_multiclass, brier_per_item, brier_top, ece,
                              fit_platt, fit_temperature, smooth_ece_interval, summarize_attentiveness,
                              summarize_chain, summarize_permutation)
from explorer.metrics.recalibration import cross_fit_temperature
from explorer.metrics.small import RecalibrationWarning, SmallSampleWarning
from explorer.probes import (attentiveness, chain_conditions, chain_probe, head_attribution, item_confidence,
                             item_contrasts, known_facts, layer_pma, logit_diff_components, permutation_probe,
                             recalibrated, score_choices, score_ptrue, summarize)
from explorer.probes.sweep import sweep_heads
from tests.tiny import tiny_items


def _caught(fn, category=UserWarning):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in seen if issubclass(w.category, category)]


def _nans(value, path="") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nans(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _nans(v, f"{path}[{i}]")]
    return [path] if isinstance(value, float) and math.isnan(value) else []


# --- no items ----------------------------------------------------------------------------------------

PROBES = {
    "score_choices": lambda m: score_choices(m, [], cache=None),
    "permutation_probe": lambda m: permutation_probe(m, [], cache=None),
    "attentiveness": lambda m: attentiveness(m, [], cache=None),
    "layer_pma": lambda m: layer_pma(m, []),
    "chain_probe": lambda m: chain_probe(m, [], cache=None),
    "score_ptrue": lambda m: score_ptrue(m, [], cache=None),
    "item_contrasts": lambda m: item_contrasts(m, []),
    "head_attribution": lambda m: head_attribution(m, []),
    "logit_diff_components": lambda m: logit_diff_components(m, []),
    "sweep_heads": lambda m: sweep_heads(m, [], [(0, 1)], [0.0, 1.0]),
    "known_facts": lambda m: known_facts(m, []),
}


@pytest.mark.parametrize("probe", PROBES)
def test_every_probe_says_no_items(tiny, probe):
    with pytest.raises(NoItemsError, match=rf"^no (items|prompts): {probe} needs at least one\. Fix: give a data set"):
        PROBES[probe](tiny)


def test_calibration_of_an_empty_frame_says_no_items(tiny):
    empty = score_choices(tiny, tiny_items(1), cache=None).iloc[:0]
    for fn in (item_confidence, recalibrated):
        with pytest.raises(NoItemsError, match="no items: item_confidence was given a choice frame without rows"):
            fn(empty)


@pytest.mark.parametrize("summary", ["summarize_permutation", "summarize_attentiveness", "summarize_chain",
                                     "summarize"])
def test_every_summary_of_nothing_says_no_items(summary):
    fn = {"summarize_permutation": summarize_permutation, "summarize_attentiveness": summarize_attentiveness,
          "summarize_chain": summarize_chain, "summarize": summarize}[summary]
    with pytest.raises(NoItemsError, match=r"^no (items|predictions)"):
        fn(pd.DataFrame())


def test_metrics_of_nothing_are_errors_not_nan():
    for fn in (brier_multiclass, brier_per_item):
        with pytest.raises(NoItemsError, match="no items: probs and gold are empty"):
            fn(np.zeros((0, 4)), [])
    for fn in (brier_top, ece):
        with pytest.raises(NoItemsError, match="no predictions"):
            fn([], [])


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_an_empty_items_file_is_an_error(tmp_path, text):
    path = tmp_path / "items.jsonl"
    path.write_text(text)
    with pytest.raises(NoItemsError, match=rf"^no items in '{path}'\. Fix: give a data set with at least one item"):
        load_items(path)
    with pytest.raises(NoItemsError, match="no items in 'records'"):
        load_items([])


def test_the_cli_says_no_items_for_an_empty_file_in_every_probe_command(tmp_path, capsys):
    empty = tmp_path / "items.jsonl"
    empty.write_text("")
    for command in ("score", "permutation", "attentiveness", "calibration", "chain", "heads"):
        args = [command, "--data", str(empty), "--out", str(tmp_path / "o.csv")]
        if command != "score":
            args += ["--summary", str(tmp_path / "s.json")]
        assert main(args) == 2, command
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"lm-explorer {command}: error: no ") and "\n" not in err, err


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_nan_answer_in_json_is_an_error_naming_the_item(tmp_path, literal):
    good = '{"id": "a", "question": "What is the capital of France?", "choices": ["Paris", "Rome"], "answer": 0}'
    bad = good.replace('"a"', '"b"').replace('"answer": 0', f'"answer": {literal}')
    (tmp_path / "items.jsonl").write_text(good + "\n" + bad + "\n")
    (tmp_path / "items.json").write_text(f"[{good}, {bad}]")
    for name in ("items.jsonl", "items.json"):
        with pytest.raises(ItemError, match=rf"item 'b', field 'answer': holds {literal}, not an answer\. Fix: write "
                                            "the gold choice's 0-based index \\(or null for an item without one\\)"):
            load_items(tmp_path / name)
    (tmp_path / "null.jsonl").write_text(good + "\n" + bad.replace(literal, "null") + "\n")
    assert [i.answer for i in load_items(tmp_path / "null.jsonl")] == [0, None]  # null is "no gold"
    frame = pd.DataFrame({"question": ["Q1?", "Q2?"], "choices": [["a", "b"], ["c", "d"]], "answer": [1, np.nan]})
    frame.to_parquet(tmp_path / "items.parquet")
    assert [i.answer for i in load_items(tmp_path / "items.parquet")] == [1, None]  # a gap in a table is no gold


# --- small samples ------------------------------------------------------------------------------------

def test_intervals_on_fewer_than_ten_items_warn_and_on_one_are_undefined():
    (est, lo, hi), told = _caught(lambda: bootstrap_interval(np.mean, np.arange(5.0), n_boot=50), SmallSampleWarning)
    assert len(told) == 1 and "over 5 predictions (fewer than 10) are too narrow to trust" in told[0] and lo <= hi
    (est, lo, hi), told = _caught(lambda: bootstrap_interval(np.mean, np.array([3.0]), n_boot=50), SmallSampleWarning)
    assert est == 3.0 and np.isnan(lo) and np.isnan(hi) and "undefined over 1 prediction" in told[0]
    (lo, hi), told = _caught(lambda: bootstrap_ci([0.5]), SmallSampleWarning)
    assert np.isnan(lo) and "undefined" in told[0]
    _, told = _caught(lambda: bootstrap_ci(np.linspace(0, 1, 10)), SmallSampleWarning)
    assert told == []
    (s, lo, hi), told = _caught(lambda: smooth_ece_interval([0.9, 0.6, 0.7], [1, 0, 1], n_boot=20), SmallSampleWarning)
    assert len(told) == 1 and "3 predictions" in told[0]


def test_a_one_item_permutation_summary_has_no_interval_and_says_why(tiny):
    rows = permutation_probe(tiny, tiny_items(1), cache=None)
    s, told = _caught(lambda: summarize_permutation(rows, n_boot=100), SmallSampleWarning)
    assert len(told) == 1 and "undefined over 1 item" in told[0]
    assert all(v is None for v in s["ci95"].values()) and any(n.startswith("ci95: intervals are undefined")
                                                               for n in s["notes"])
    assert not _nans(s)
    rows = permutation_probe(tiny, tiny_items(4), cache=None)
    s, told = _caught(lambda: summarize_permutation(rows, n_boot=100), SmallSampleWarning)
    assert len(told) == 1 and "over 4 items (fewer than 10)" in told[0]
    assert all(v is not None for v in s["ci95"].values())
    rows["meta_group"] = ["x"] * 32 + ["y"] * 32
    s, told = _caught(lambda: summarize_permutation(rows, by=["meta_group"], n_boot=50), SmallSampleWarning)
    assert len(told) == 2 and "2 of 2 groups have fewer than 10 items" in told[1]  # once for the whole, once for groups


def test_an_attentiveness_summary_warns_once_for_small_cells_and_undefined_correlations(tiny):
    rows = attentiveness(tiny, tiny_items(2), ["letters", "cloze"], cache=None)
    table, told = _caught(lambda: summarize_attentiveness(rows, n_boot=50), SmallSampleWarning)
    assert len(told) == 2 and "2 of 2 cells" in told[0] and "pma_accuracy_corr is undefined (NaN) in 2 of 2" in told[1]


def test_recalibration_at_its_bounds_warns_and_is_flagged_in_the_summary(tiny):
    t, told = _caught(lambda: fit_temperature([[2.0, 0.0]] * 4, [0] * 4), RecalibrationWarning)
    assert t == pytest.approx(0.01, rel=1e-3) and len(told) == 1 and "T = 0.01" in told[0]
    t, told = _caught(lambda: fit_temperature([[2.0, 0.0]] * 4, [1] * 4), RecalibrationWarning)
    assert t == pytest.approx(100, rel=1e-3) and len(told) == 1
    (a, b), told = _caught(lambda: fit_platt([0.6, 0.6, 0.9, 0.9], [0, 0, 1, 1], smooth=False), RecalibrationWarning)
    assert len(told) == 1 and "Platt scaling" in told[0] and "separable" in told[0]  # no finite maximum exists
    _, told = _caught(lambda: fit_temperature([[2.0, 0.0], [2.0, 0.0], [0.0, 2.0]], [0, 0, 0]), RecalibrationWarning)
    assert told == []
    _, told = _caught(lambda: cross_fit_temperature([[2.0, 0.0]] * 6, [0] * 6, folds=3), RecalibrationWarning)
    assert len(told) == 1 and "3 of 3 folds" in told[0]  # once for the folds, not once per fold
    frame = score_choices(tiny, tiny_items(8), cache=None)
    frame["is_gold"] = frame["is_pred"]  # every prediction right: T runs to its bound
    (_, summary), told = _caught(lambda: calibration_report(frame, folds=2, n_boot=20), RecalibrationWarning)
    assert told and summary["temperature_scaled"]["temperature_at_bound"] is True
    assert summary["platt_scaled"]["platt_at_bound"] in (True, False)
    assert any("search bound" in n for n in summary["temperature_scaled"]["notes"])


def test_summaries_of_small_runs_hold_no_bare_nan(tiny):
    one = tiny_items(2)
    _, cal = calibration_report(score_choices(tiny, one, cache=None), folds=2, n_boot=20)
    assert not _nans(cal) and cal["platt_scaled"]["brier"] is None
    assert any(n.startswith("brier: undefined after Platt scaling") for n in cal["platt_scaled"]["notes"])
    chain = summarize_chain(chain_probe(tiny, one[:1], chain_conditions(shots=[0, 1]), pool=tiny_items(6)[4:],
                                        cache=None))
    assert not _nans(chain)
    pair = chain["correlations"]["0-shot vs 1-shot"]
    assert all(v is None for v in pair["spearman"].values())
    assert pair["notes"][0].startswith("undefined (null): spearman")
    assert "correlations over 1 items (fewer than 10) say little" in pair["notes"][1]
    json.dumps(cal, allow_nan=False), json.dumps(chain, allow_nan=False)


def test_the_permutation_command_reports_a_k_with_one_item_without_an_interval(tiny_folder, tmp_path, capsys):
    from explorer.items import Item, save_jsonl

    items = [*tiny_items(3), Item("five", "What is the capital of Spain?", ("Paris", "Rome", "Madrid"), answer=2)]
    data = save_jsonl(items, tmp_path / "items.jsonl")
    assert main(["permutation", "--data", str(data), "--model", str(tiny_folder), "--out", str(tmp_path / "r.csv"),
                 "--summary", str(tmp_path / "s.json"), "--n-boot", "50"]) == 0
    s = json.loads((tmp_path / "s.json").read_text())
    assert set(s["by_k"]["3"]["ci95"].values()) == {None} and s["by_k"]["3"]["notes"][-1].startswith("ci95: intervals "
                                                                                                     "are undefined")
    assert all(v is not None for v in s["by_k"]["4"]["ci95"].values())
    assert "warning: summarize_permutation: intervals over 4 items" in capsys.readouterr().err
