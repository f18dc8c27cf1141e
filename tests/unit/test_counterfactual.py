"""Counterfactual records: loading, first-token answers, and the known-fact filter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.errors import ItemError
from explorer.probes.counterfactual import (Counterfactual, answer_tokens, capital_counterfactuals, first_token,
                                            known_facts, load_counterfactuals, records_from_dicts)
from explorer.scoring import score_next_token


def test_load_jsonl(tmp_path):
    path = tmp_path / "cf.jsonl"
    rows = [{"prompt": "The capital of France is Rome . Q", "target": "Rome", "foil": " Paris"},
            {"id": "x", "prompt": "p", "target": "Berlin", "foil": "Madrid", "fact_prompt": "f", "country": "Spain"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    recs = load_counterfactuals(path)
    assert recs[0] == Counterfactual("cf-1", rows[0]["prompt"], "Rome", "Paris")
    assert recs[1].id == "x" and recs[1].fact_prompt == "f" and recs[1].metadata == {"country": "Spain"}


@pytest.mark.parametrize("line, match", [('{"prompt": "p", "target": "Rome"}', "'foil'"),
                                         ('{"prompt": "", "target": "a", "foil": "b"}', "'prompt'"),
                                         ("not json", "not valid JSON"), ("[1]", "not a JSON object")])
def test_load_errors_name_the_line_and_field(tmp_path, line, match):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ItemError, match=match):
        load_counterfactuals(path)


def test_duplicate_ids():
    with pytest.raises(ItemError, match="'a'.*unique"):
        records_from_dicts([{"id": "a", "prompt": "p", "target": "t", "foil": "f"}] * 2)


def test_first_tokens_with_a_leading_space(tiny):
    tok = tiny.tokenizer
    assert first_token(tok, "Paris") == tok.convert_tokens_to_ids(" Paris") == first_token(tok, " Paris")
    recs = records_from_dicts([{"prompt": "p", "target": "Rome", "foil": "Paris"}])
    t, f = answer_tokens(tok, recs)
    assert tok.convert_ids_to_tokens([int(t[0]), int(f[0])]) == [" Rome", " Paris"]


def test_shared_first_token_is_an_error_naming_the_record(tiny):
    recs = records_from_dicts([{"id": "clash", "prompt": "p", "target": "Paris France", "foil": "Paris"}])
    with pytest.raises(ItemError, match="'clash'.*share their first token ' Paris'"):
        answer_tokens(tiny.tokenizer, recs)


def test_builder_matches_the_template():
    recs = capital_counterfactuals(5)
    assert len(recs) == 5 and len({r.id for r in recs}) == 5
    for r in recs:
        country = r.metadata["country"]
        assert r.prompt == f"The capital of {country} is {r.target}.\nQ: What is the capital of {country}?\nA:"
        assert r.fact_prompt == f"Q: What is the capital of {country}?\nA:"
        assert r.target != r.foil


def _hand_filter(model, recs, rule):
    """Re-derive the filter with one score_next_token call per record and the full vocabulary."""
    tok = model.tokenizer
    everyone = sorted({first_token(tok, r.target) for r in recs} | {first_token(tok, r.foil) for r in recs})
    kept = []
    for r in recs:
        lp = score_next_token(model, [r.fact_prompt], list(range(len(tok))), cache=None).logprobs[0]
        t, f = first_token(tok, r.target), first_token(tok, r.foil)
        ok = {"argmax": int(np.argmax(lp)) == f, "beats_target": lp[f] > lp[t],
              "candidates": max(everyone, key=lambda i: lp[i]) == f}[rule]
        if ok:
            kept.append(r.id)
    return kept


@pytest.mark.parametrize("rule", ["candidates", "beats_target", "argmax"])
def test_known_facts_rules(tiny, rule):
    rows = [{"id": f"r{i}", "prompt": "p", "fact_prompt": fp, "target": t, "foil": f}
            for i, (fp, t, f) in enumerate([("What is the capital of France ?", "Rome", "Paris"),
                                             ("The capital of Italy is", "Berlin", "Rome"),
                                             ("capital of Spain", "Paris", "Madrid"),
                                             ("Q : Germany", "Madrid", "Berlin"),
                                             ("A B C", "Paris", "Berlin")])]
    recs = records_from_dicts(rows)
    kept = [r.id for r in known_facts(tiny, recs, rule=rule)]
    assert kept == _hand_filter(tiny, recs, rule)


def test_known_facts_needs_fact_prompts(tiny):
    with pytest.raises(ItemError, match="fact_prompt"):
        known_facts(tiny, records_from_dicts([{"id": "a", "prompt": "p", "target": "Rome", "foil": "Paris"}]))
    with pytest.raises(ValueError, match="unknown rule"):
        known_facts(tiny, [], rule="maybe")
