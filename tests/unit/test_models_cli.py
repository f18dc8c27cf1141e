"""``--model`` repeated on permutation, attentiveness and calibration (tiny models): ``by_model`` blocks equal
the single-model commands' summaries, ``compare`` holds paired differences, the rows a ``model`` column."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from tests.tiny import tiny_items, tiny_model

COMMANDS = {
    "permutation": ["--orders", "all", "--n-boot", "50", "--out", "{out}.csv"],
    "attentiveness": ["--formats", "letters,cloze", "--shots", "0", "--bootstrap", "50", "--out", "{out}.csv"],
    "calibration": ["--bins", "5", "--folds", "3", "--n-boot", "20", "--out", "{out}.csv"],
}


@pytest.fixture(scope="module")
def models():
    return {"base": dataclasses.replace(tiny_model("llama", seed=0), name="base"),
            "tuned": dataclasses.replace(tiny_model("llama", seed=1), name="tuned")}


@pytest.fixture
def cli(models, monkeypatch, tmp_path):
    load = lambda name, **placement: models[name]  # noqa: E731
    for module in ("explorer.cli.models", "explorer.cli.commands.permutation", "explorer.cli.commands.attentiveness",
                   "explorer.cli.commands.calibration"):
        monkeypatch.setattr(f"{module}.load_model", load, raising=False)
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps({"id": i.id, "question": i.question, "choices": list(i.choices),
                                        "answer": i.answer}) + "\n" for i in tiny_items(12)))

    def run(command: str, *model_names: str, tag: str) -> dict:
        out, summary = tmp_path / f"{command}-{tag}", tmp_path / f"{command}-{tag}.json"
        extra = [a.format(out=out) for a in COMMANDS[command]]
        flags = [f for name in model_names for f in ("--model", name)]
        assert main([command, "--data", str(data), *flags, *extra, "--summary", str(summary), "--no-cache"]) == 0
        return json.loads(summary.read_text())

    return run, tmp_path


@pytest.mark.parametrize("command", list(COMMANDS))
def test_by_model_blocks_equal_single_model_summaries(cli, command):
    run, tmp_path = cli
    both = run(command, "base", "tuned", tag="both")
    assert both["models"] == ["base", "tuned"] and set(both["by_model"]) == {"base", "tuned"}
    for name in ("base", "tuned"):
        assert both["by_model"][name] == run(command, name, tag=name), name
    pair = both["compare"]["pairs"][0]
    assert both["compare"]["reference"] == "base" and pair["model"] == "tuned" and pair["minus"] == "base"
    rows = pd.read_csv(tmp_path / f"{command}-both.csv")
    assert rows[C.MODEL].unique().tolist() == ["base", "tuned"]
    if command == "permutation":
        acc = {m: both["by_model"][m]["accuracy"] for m in ("base", "tuned")}
        assert pair["accuracy"]["value"] == pytest.approx(acc["tuned"] - acc["base"], abs=1e-12)
        lo, hi = pair["a_bias"]["ci95"]
        assert lo < hi  # two different models: the paired differences vary over resamples
    if command == "attentiveness":
        cell = next(c for c in pair["cells"] if c[C.FORMAT] == "cloze")
        pma = {m: both["by_model"][m]["cloze"]["0"]["pma_mean"] for m in ("base", "tuned")}
        assert cell["pma_mean"]["value"] == pytest.approx(pma["tuned"] - pma["base"], abs=1e-12)
    if command == "calibration":
        ece = {m: both["by_model"][m]["ece"] for m in ("base", "tuned")}
        assert pair["ece"]["value"] == pytest.approx(ece["tuned"] - ece["base"], abs=1e-12)
        assert pair["accuracy"]["value"] == pytest.approx(both["by_model"]["tuned"]["accuracy"]
                                                          - both["by_model"]["base"]["accuracy"], abs=1e-12)


def test_a_command_of_one_model_refuses_a_second(cli, capsys):
    with pytest.raises(SystemExit):
        main(["score", "--model", "a", "--model", "b", "--data", "x.jsonl", "--out", "o.csv"])
    assert "--model is given more than once" in capsys.readouterr().err


def test_a_model_named_twice_with_ray_is_refused_before_anything_runs(cli, capsys):
    run, tmp_path = cli
    code = main(["permutation", "--data", str(tmp_path / "items.jsonl"), "--model", "base", "--model", "base",
                 "--ray", "local", "--out", str(tmp_path / "r"), "--summary", str(tmp_path / "s.json")])
    assert code == 2 and "--model 'base' is given twice" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_heads_of_two_models_of_other_shapes(monkeypatch, tmp_path):
    """``heads`` with two models of other layer x head shapes: one map per model in the rows, and each
    ``by_model`` block is the single-model command's summary."""
    from tests.unit.test_heads_cli import ROWS

    shapes = {"2x4": tiny_model("llama", seed=0),
              "3x2": tiny_model("llama", seed=2, num_hidden_layers=3, num_attention_heads=2, num_key_value_heads=1)}
    shapes = {name: dataclasses.replace(m, name=name) for name, m in shapes.items()}
    for module in ("explorer.cli.models", "explorer.cli.commands.heads"):
        monkeypatch.setattr(f"{module}.load_model", lambda name, **placement: shapes[name], raising=False)
    data = tmp_path / "cf.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))

    def run(*names: str, tag: str) -> dict:
        flags = [f for name in names for f in ("--model", name)]
        assert main(["heads", "--data", str(data), *flags, "--alphas", "0,1", "--top", "2", "--out",
                     str(tmp_path / f"{tag}.csv"), "--summary", str(tmp_path / f"{tag}.json")]) == 0
        return json.loads((tmp_path / f"{tag}.json").read_text())

    both = run("2x4", "3x2", tag="both")
    assert both["models"] == ["2x4", "3x2"]
    for name in shapes:
        assert both["by_model"][name] == run(name, tag=name), name
    rows = pd.read_csv(tmp_path / "both.csv")
    assert rows.groupby(C.MODEL, sort=False).size().tolist() == [len(ROWS) * 2 * 4, len(ROWS) * 3 * 2]
