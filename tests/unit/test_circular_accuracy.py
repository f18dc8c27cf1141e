"""Circular accuracy (OpenCompass CircularEval): hand-computed cases, the summary, and the CLI running
the cyclic shifts when the orders asked for lack them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.cli.main import main
from explorer.errors import ExplorerError
from explorer.items import save_jsonl
from explorer.metrics.permutation import circular_accuracy, circular_correct, permutation_frame
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.items.orders import cyclic_orders
from explorer.probes.permutation import permutation_probe
from tests.tiny import tiny_items as items

SHIFTS = cyclic_orders(3)  # (0,1,2), (1,2,0), (2,0,1)


def probs_for(chosen_positions: list[int]) -> list[list[float]]:
    """Probabilities per order that put the mass on the given position."""
    return [[0.8 if j == pos else 0.1 for j in range(3)] for pos in chosen_positions]


def test_by_hand_with_three_shifts():
    # Gold is choice 0. Under shift s choice 0 stands at position (-s) mod 3: 0, 2, 1.
    # q0 always finds it; q1 always says "A" (right only under the identity); q2 finds it except under shift 2.
    probs = [probs_for([0, 2, 1]), probs_for([0, 0, 0]), probs_for([0, 2, 0])]
    frame = permutation_frame(probs, SHIFTS, [0, 0, 0])
    assert circular_correct(frame).tolist() == [True, False, False]
    assert circular_accuracy(frame) == pytest.approx(1 / 3)
    s = summarize_permutation(frame, n_boot=0)
    assert s["circular_accuracy"] == pytest.approx(1 / 3) and s["accuracy"] == pytest.approx(6 / 9)
    assert s["circular_accuracy"] <= min(s["accuracy_by_order"].values())


def test_other_orders_are_ignored_and_missing_shifts_are_named():
    orders = [*SHIFTS, (0, 2, 1)]  # one order that is not a shift, answered wrongly by q0
    probs = [[*probs_for([0, 2, 1]), [0.1, 0.8, 0.1]]]
    frame = permutation_frame(probs, orders, [0])
    assert circular_accuracy(frame) == 1.0
    partial = permutation_frame([probs_for([0, 2])], SHIFTS[:2], [0])
    with pytest.raises(ExplorerError, match=r"circular accuracy needs every cyclic shift.*'2,0,1'"):
        circular_accuracy(partial)
    s = summarize_permutation(partial, n_boot=0)
    assert s["circular_accuracy"] is None and any(n.startswith("circular accuracy not computed") for n in s["notes"])


def test_summary_interval_and_gold_less_items():
    probs = [probs_for([0, 2, 1]), probs_for([0, 0, 0])] * 3
    s = summarize_permutation(permutation_frame(probs, SHIFTS, [0] * 6), n_boot=200)
    lo, hi = s["ci95"]["circular_accuracy"]
    assert s["circular_accuracy"] == 0.5 and 0 <= lo <= 0.5 <= hi <= 1
    none = summarize_permutation(permutation_frame(probs[:2], SHIFTS, [None, None]), n_boot=0)
    assert none["circular_accuracy"] is None


@pytest.fixture
def cli(tiny, monkeypatch, tmp_path):
    import explorer.cli.commands.permutation as cmd

    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: tiny)
    return save_jsonl(items(6), tmp_path / "items.jsonl"), tmp_path / "rows.csv", tmp_path / "summary.json"


def test_cli_runs_the_cyclic_shifts_when_the_orders_lack_them(cli, tiny, capsys):
    data, out, summ = cli
    assert main(["permutation", "--data", str(data), "--orders", "2", "--n-boot", "20", "--out", str(out),
                 "--summary", str(summ)]) == 0
    s = json.loads(summ.read_text())
    assert s["n_orders"] == 2  # the rows and other metrics are those asked for
    expect = circular_accuracy(permutation_probe(tiny, items(6), orders="cyclic"))
    assert s["circular_accuracy"] == pytest.approx(expect) and len(s["ci95"]["circular_accuracy"]) == 2
    assert any("extra run of the cyclic shifts" in n for n in s["notes"])
    assert s["by_k"]["4"]["circular_accuracy"] == s["circular_accuracy"]
    assert not any(n.startswith("circular accuracy not computed") for n in s["notes"])
    assert "circular accuracy" in capsys.readouterr().out


def test_cli_uses_the_shifts_it_has(cli, tiny):
    data, out, summ = cli
    assert main(["permutation", "--data", str(data), "--orders", "all", "--n-boot", "0", "--out", str(out),
                 "--summary", str(summ)]) == 0
    s = json.loads(summ.read_text())
    frame = permutation_probe(tiny, items(6), orders="all")
    assert s["circular_accuracy"] == pytest.approx(circular_accuracy(frame)) and s["n_orders"] == 24
    assert not any("extra run" in n for n in s["notes"])
    assert np.isclose(s["circular_accuracy"], circular_accuracy(permutation_probe(tiny, items(6), orders="cyclic")))
