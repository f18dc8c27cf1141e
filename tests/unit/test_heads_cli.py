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


def test_multiple_choice_items_become_contrasts(cli, tiny, tmp_path):
    """Items (here a JSONL of questions and choices) are attributed as contrasts: gold label against
    the label of the wrong choice the model ranks highest, as the widget's "items" prompts."""
    from explorer.items import Item, save_jsonl
    from explorer.probes.contrasts import item_contrasts

    _, out, summ = cli
    items = [Item(f"q{n}", f"What is the capital of {c}?", ("Paris", "Berlin", "Rome", "Madrid"), answer=n)
             for n, c in enumerate(("France", "Germany", "Italy", "Spain"))] + [
        Item("open", "Which city is the largest?", ("Paris", "Berlin"))]  # no gold: no target, left out
    data = save_jsonl(items, tmp_path / "items.jsonl")
    assert main(["heads", "--data", str(data), "--format", "numbers", "--top", "2", "--alphas", "0,1",
                 "--out", str(out), "--summary", str(summ)]) == 0
    records = item_contrasts(tiny, items, "numbers")
    assert [r.target for r in records] == ["1", "2", "3", "4"] and all(r.foil != r.target for r in records)
    rows = pd.read_csv(out)
    assert list(rows[C.PROMPT_ID].unique()) == [r.id for r in records]
    mean = mean_attribution(head_attribution(tiny, records))
    s = json.loads(summ.read_text())
    assert s["n_loaded"] == 5 and s["n_prompts"] == 4
    assert [h[:2] for h in s["top_target_heads"]] == [h[:2] for h in top_heads(mean, 2, toward="target")]


def test_benchmark_data_with_a_seeded_sample(cli, tiny):
    _, out, summ = cli
    assert main(["heads", "--data", "mmlu", "--limit", "3", "--seed", "1", "--alphas", "0,1", "--out", str(out),
                 "--summary", str(summ)]) == 0
    s = json.loads(summ.read_text())
    assert s["data"] == "mmlu" and s["n_loaded"] == 3 and s["n_prompts"] == 3
    assert pd.read_csv(out)[C.PROMPT_ID].nunique() == 3


def test_item_data_refuses_known_only_and_formats_without_labels(cli, capsys):
    _, out, summ = cli
    assert main(["heads", "--data", "mmlu", "--limit", "2", "--known-only", "--out", str(out),
                 "--summary", str(summ)]) == 2
    assert "Fix: drop --known-only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["heads", "--data", "mmlu", "--format", "cloze", "--out", str(out), "--summary", str(summ)])
    assert "invalid choice: 'cloze'" in capsys.readouterr().err


def test_counterfactual_data_refuses_data_set_options(cli, capsys):
    data, out, summ = cli
    assert main(["heads", "--data", str(data), "--split", "test", "--out", str(out), "--summary", str(summ)]) == 2
    err = capsys.readouterr().err
    assert "--split read multiple-choice data sets" in err and "Fix: drop them" in err
