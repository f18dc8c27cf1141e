"""Every probe command reads benchmarks: hub-layout folders with --config/--split/--limit/--seed, a 3-, 4- and
5-choice mix in the permutation summary's by_k, --by groups, and one-line errors (exit 2) for bad sources."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.errors import SkippedItemsWarning
from explorer.items import load_items
from explorer.metrics.permutation_summary import summarize_k, summarize_permutation
from explorer.probes.permutation import permutation_probe
from tests import hubcopies as H


@pytest.fixture
def cli(tiny, monkeypatch, tmp_path):
    """Every command's model is the tiny one; returns paths for the rows and the summary."""
    import explorer.cli.commands.attentiveness as att
    import explorer.cli.commands.calibration as cal
    import explorer.cli.commands.permutation as perm
    import explorer.cli.commands.score as score

    for module in (att, cal, perm, score):
        monkeypatch.setattr(module, "load_model", lambda name, **placement: tiny)
    return tmp_path / "rows.csv", tmp_path / "summary.json"


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("lm-explorer") and ": error: " in ln]
    assert len(lines) == 1, err
    return lines[0]


def test_permutation_on_a_3_4_5_choice_mix_writes_by_k(cli, hub, tiny, capsys):
    out, summ = cli
    assert main(["permutation", "--data", str(hub["arc"]), "--config", "ARC-Challenge", "--split", "test",
                 "--orders", "cyclic", "--out", str(out), "--summary", str(summ), "--n-boot", "0"]) == 0
    s = json.loads(summ.read_text())
    assert set(s["by_k"]) == {"3", "4", "5"} and s["k"] is None and s["ks"] == [3, 4, 5]
    rows = pd.read_csv(out)
    pred = rows[rows[C.IS_PRED]]
    assert s["accuracy"] == pytest.approx(pred[C.IS_GOLD].astype(float).mean())  # pooled: mean over all prompts
    assert len(pred) == s["n_prompts"] == 2 * 3 + 3 * 4 + 1 * 5
    frame = permutation_probe(tiny, load_items(hub["arc"], config="ARC-Challenge"), orders="cyclic")
    for k, per_k in s["by_k"].items():
        expect = summarize_k(frame[frame[C.K] == int(k)], n_boot=0)
        assert per_k["n_items"] == expect["n_items"] and per_k["k"] == int(k)
        assert per_k["mean_prob_by_position"] == pytest.approx(expect["mean_prob_by_position"])
        assert per_k["accuracy"] == pytest.approx(expect["accuracy"]) and per_k["a_bias"] == pytest.approx(
            expect["a_bias"])
    assert s["consistency"] == pytest.approx(summarize_permutation(frame, n_boot=0)["consistency"])
    assert "dataset" in rows.columns and set(rows["dataset"]) == {"ai2_arc"}  # metadata columns reach the rows
    printed = capsys.readouterr().out
    assert "data: ai2_arc · config ARC-Challenge · split test · 6 items · k = 3-5" in printed
    assert "pooled over 6 items, 23 prompts (k = 3, 4, 5)" in printed and "1 items x 5 orders (k=5)" in printed


def test_limit_seed_and_by_subject(cli, hub, capsys):
    out, summ = cli
    assert main(["permutation", "--data", str(hub["mmlu"]), "--config", "all", "--limit", "6", "--seed", "2",
                 "--by", "subject", "--out", str(out), "--summary", str(summ), "--n-boot", "0"]) == 0
    captured = capsys.readouterr()
    assert "warning: dataset 'mmlu' (config 'all', split 'test'): skipped 3 of 288" in captured.err
    assert "data: mmlu · config all · split test · 6 of 285 items · k = 4 · 3 invalid skipped" in captured.out
    rows, s = pd.read_csv(out), json.loads(summ.read_text())
    with pytest.warns(SkippedItemsWarning):
        expected = [i.id for i in load_items(hub["mmlu"], config="all", n=6, seed=2)]
    assert list(dict.fromkeys(rows[C.ITEM_ID])) == expected
    assert s["by"] == ["subject"] and [g["subject"] for g in s["groups"]] == sorted(set(rows["subject"]))
    for g in s["groups"]:
        assert g["accuracy"] == pytest.approx(rows[rows["subject"] == g["subject"]].query("is_pred")[C.IS_GOLD].mean())
    assert "by subject:" in captured.out


def test_orders_all_refused_beyond_six_choices(cli, hub, capsys):
    out, summ = cli
    assert main(["permutation", "--data", str(hub["mmlu_pro"]), "--orders", "all", "--out", str(out),
                 "--summary", str(summ)]) == 2
    line = _error_line(capsys)
    assert "1 item(s) have 7 choices (first '71')" in line and "--orders N" in line


@pytest.mark.parametrize("args, words", [
    (["--data", "{odd}"], ["dataset 'odd' (split 'test'), field 'question'", "match no multiple-choice layout",
                           "Fix: map them", "--fields"]),
    (["--data", "{arc}", "--config", "ARC-Challenge", "--split", "train"],
     ["dataset 'ai2_arc' (config 'ARC-Challenge'), field 'split'", "its splits are test, validation", "--split NAME"]),
    (["--data", "{bad_gold}"], ["dataset 'medmcqa_bad' (split 'validation'), item 'm1', field 'cop'",
                                "index 7 is out of range for 4 choices", "Fix: use an index from 0 to 3"]),
    (["--data", "allenai/ai2_arc", "--config", "ARC-Easy"],
     ["dataset 'allenai/ai2_arc', field 'source'", "Hugging Face Hub cannot be reached",
      "hf download allenai/ai2_arc"]),
    (["--data", "{arc}", "--config", "ARC-Hard"], ["field 'config': it has no config 'ARC-Hard'", "ARC-Challenge"]),
    (["--data", "{mmlu}", "--config", "all", "--invalid", "raise"],
     ["dataset 'mmlu' (config 'all', split 'test'), item 'item-286', field 'choices'", "Fix: remove the duplicate"]),
    (["--data", "{mmlu}", "--config", "all", "--by", "topic"], ["--by topic: no such metadata column", "subject"]),
    (["--data", "no_such.jsonl"], ["no items file or dataset folder at no_such.jsonl"]),
])
def test_bad_sources_give_one_clear_line_and_exit_2(cli, hub, tmp_path, capsys, args, words):
    odd = H.write_repo(tmp_path / "odd", {"default": {"test": [{"prompt": "2 + 2 =", "options": ["3", "4"]}]}})
    bad_gold = H.write_repo(tmp_path / "medmcqa_bad", {"default": {"validation": [
        {"id": "m1", "question": "Which?", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 7}]}})
    paths = {"odd": odd, "bad_gold": bad_gold, "arc": hub["arc"], "mmlu": hub["mmlu"]}
    out, summ = cli
    args = [a.format(**paths) for a in args]
    assert main(["permutation", *args, "--out", str(out), "--summary", str(summ)]) == 2
    line = _error_line(capsys)
    assert line.startswith("lm-explorer permutation: error: ")
    for w in words:
        assert w in line, (w, line)


def test_fields_flag_maps_another_layout(cli, tmp_path, capsys):
    rows = [{"stem": "Which is a colour?", "a": "red", "b": "seven", "gold": 0},
            {"stem": "Which is a number?", "a": "blue", "b": "three", "gold": 1}]
    folder = H.write_repo(tmp_path / "own", {"default": {"test": rows}}, fmt="json")
    out, _ = cli
    assert main(["score", "--data", str(folder), "--fields", "question=stem,choices=a+b,answer=gold",
                 "--out", str(out)]) == 0
    assert pd.read_csv(out)[C.ITEM_ID].tolist() == ["item-1", "item-2"]
    assert "own · split test · 2 items · k = 2" in capsys.readouterr().out


def test_every_probe_command_reads_a_benchmark(cli, hub):
    out, summ = cli
    assert main(["score", "--data", str(hub["hellaswag"]), "--split", "validation", "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 2
    assert main(["calibration", "--data", str(hub["mmlu"]), "--config", "all", "--limit", "40", "--seed", "0",
                 "--by", "subject", "--bins", "5", "--out", str(out), "--summary", str(summ)]) == 0
    s = json.loads(summ.read_text())
    assert s["n_items"] == 40 and s["by"] == ["subject"] and sum(g["n"] for g in s["groups"]) == 40
    assert main(["attentiveness", "--data", str(hub["arc"]), "--config", "ARC-Challenge", "--formats", "letters",
                 "--shots", "0", "--by", "dataset", "--bootstrap", "0", "--out", str(out), "--summary",
                 str(summ)]) == 0
    s = json.loads(summ.read_text())
    assert s["_groups"]["letters"]["0"][0]["dataset"] == "ai2_arc" and s["_groups"]["letters"]["0"][0]["n_items"] == 6
