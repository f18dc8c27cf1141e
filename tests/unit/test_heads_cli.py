"""``lm-explorer heads`` on a tiny model: JSONL and built-in data, negative --alphas, the summary."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.probes.counterfactual import known_facts, records_from_dicts
from explorer.probes.heads import head_attribution, mean_attribution, top_heads
from explorer.probes.sweep import sweep_heads, sweep_summary

ROWS = [{"id": "fr", "prompt": "The capital of France is Rome . Q : What is the capital of France ? A :",
         "fact_prompt": "What is the capital of France ?", "target": "Rome", "foil": "Paris"},
        {"id": "it", "prompt": "What is the capital of Italy ?", "fact_prompt": "The capital of Italy is",
         "target": "Berlin", "foil": "Rome"},
        {"id": "es", "prompt": "Question : the capital of Spain is", "fact_prompt": "capital of Spain",
         "target": "Madrid", "foil": "Paris"}]


@pytest.fixture
def cli(tiny, monkeypatch, tmp_path):
    import explorer.cli.commands.heads as cmd

    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: tiny)
    monkeypatch.setattr("explorer.probes.counterfactual.capital_counterfactuals", lambda: records_from_dicts(ROWS))
    data = tmp_path / "cf.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return data, tmp_path / "attr.csv", tmp_path / "summary.json"


def test_jsonl_with_negative_alphas(cli, tiny):
    data, out, summ = cli
    assert main(["heads", "--data", str(data), "--alphas", "-5,0,1,2.5", "--top", "2", "--out", str(out),
                 "--summary", str(summ)]) == 0
    assert len(pd.read_csv(out)) == 3 * tiny.parts.n_layers * tiny.parts.n_heads
    s = json.loads(summ.read_text())
    assert s["alphas"] == [-5.0, 0.0, 1.0, 2.5] and s["n_prompts"] == 3
    mean = mean_attribution(head_attribution(tiny, records_from_dicts(ROWS)))
    foil = top_heads(mean, 2, toward="foil")
    assert [h[:2] for h in s["top_foil_heads"]] == [h[:2] for h in foil]
    expect = sweep_summary(sweep_heads(tiny, records_from_dicts(ROWS), [tuple(foil[0][:2])], [-5, 0, 1, 2.5]))
    assert s["sweep"]["foil_head"]["target_rate"] == pytest.approx(expect[C.TARGET_RATE].tolist())


def test_builtin_capitals_are_filtered_to_known_facts(cli, tiny):
    _, out, summ = cli
    assert main(["heads", "--data", "capitals", "--out", str(out), "--summary", str(summ)]) == 0
    known = known_facts(tiny, records_from_dicts(ROWS))
    s = json.loads(summ.read_text())
    assert s["n_loaded"] == 3 and s["n_prompts"] == len(known)
    assert set(pd.read_csv(out)[C.PROMPT_ID]) == {r.id for r in known}


def test_bad_alphas(cli, capsys):
    data, out, summ = cli
    with pytest.raises(SystemExit):
        main(["heads", "--data", str(data), "--alphas", "1,x", "--out", str(out), "--summary", str(summ)])
    assert "comma-separated numbers" in capsys.readouterr().err
