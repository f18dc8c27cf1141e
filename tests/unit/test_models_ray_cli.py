"""``--model`` repeated with ``--ray`` (two tiny models over a real local Ray cluster): the summary equals the
in-process comparison, each model's rows are a run folder of their own, a second run computes only the model
that is missing, and ``lm-explorer summarize`` recomputes the comparison from the folder alone."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.cli.models import slug
from explorer.distributed import RunFolder
from explorer.items import save_jsonl
from tests.tiny import tiny_model
from tests.unit.test_distributed_cli import ITEMS, close, in_process_and_over_ray

pytestmark = pytest.mark.usefixtures("ray_cluster")

COMMANDS = {
    "permutation": ["--orders", "2", "--n-boot", "50"],  # two sampled orders: the cyclic shifts are a sub-run
    "attentiveness": ["--formats", "letters,cloze", "--shots", "0,1", "--bootstrap", "50"],
    "calibration": ["--bins", "5", "--folds", "3", "--n-boot", "20"],
}


@pytest.fixture(scope="module")
def other_folder(tmp_path_factory):
    """A second tiny Llama (other weights) saved as a model folder."""
    folder = tmp_path_factory.mktemp("tiny-llama-other")
    model = tiny_model("llama", seed=1)
    model.model.save_pretrained(folder)
    model.tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("command", list(COMMANDS))
def test_two_models_over_ray_equal_the_in_process_comparison(command, tiny_folder, other_folder, tmp_path, capsys):
    data = save_jsonl(ITEMS, tmp_path / "items.jsonl")
    names = [str(tiny_folder), str(other_folder)]
    common = [command, "--data", str(data), *COMMANDS[command], *(f for n in names for f in ("--model", n))]
    local_out = tmp_path / ("local.csv" if command == "calibration" else "local.parquet")  # bins, or rows
    assert main([*common, "--out", str(local_out), "--summary", str(tmp_path / "local.json"),
                 "--no-cache"]) == 0
    run = tmp_path / "run"
    ray = [*common, "--out", str(run), "--ray", "local", "--actors", "1"]
    assert main([*ray, "--summary", str(tmp_path / "ray.json")]) == 0
    local, remote = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "ray"))
    assert remote["models"] == names
    close(remote, local)

    record = json.loads((run / "models.json").read_text())
    assert [m["name"] for m in record["models"]] == names and record["command"]["args"]["models"] == names
    folders = [RunFolder(run / "models" / slug(n)) for n in names]
    assert all(f.manifest().complete and f.manifest().model["name"] == n for f, n in zip(folders, names))
    if command == "permutation":
        assert all(RunFolder(f.path / "cyclic").manifest().complete for f in folders)
        rows = pd.read_parquet(local_out)
        for folder, name in zip(folders, names):  # each model's folder holds exactly its in-process rows
            mine = rows[rows[C.MODEL] == name].drop(columns=C.MODEL).reset_index(drop=True)
            theirs = folder.rows()[list(mine.columns)]
            pd.testing.assert_frame_equal(theirs, mine, check_dtype=False, atol=1e-5)
    if command == "calibration":
        pd.testing.assert_frame_equal(pd.read_csv(run / "bins.csv"), pd.read_csv(local_out), atol=1e-6)

    summary = tmp_path / "ray.json"
    if command == "permutation":  # the second model's folder lost: a second run computes only it
        n = folders[0].manifest().n_units
        shutil.rmtree(folders[1].path)
        capsys.readouterr()
        assert main([*ray, "--summary", str(tmp_path / "again.json")]) == 0
        said = capsys.readouterr().out
        assert f"0 units computed over Ray, {n} already in {folders[0].path}\n" in said
        assert f"{n} units computed over Ray, 0 already in {folders[1].path}\n" in said
        summary = tmp_path / "again.json"
        close(json.loads(summary.read_text()), local)

    assert main(["summarize", str(run), "--summary", str(tmp_path / "summarized.json")]) == 0
    assert json.loads((tmp_path / "summarized.json").read_text()) == json.loads(summary.read_text())
    assert main(["summarize", str(folders[0].path), "--summary", str(tmp_path / "first.json")]) == 0
    close(json.loads((tmp_path / "first.json").read_text()), local["by_model"][names[0]])


def test_heads_of_two_models_over_ray(tiny_folder, other_folder, tmp_path):
    from tests.unit.test_heads_cli import ROWS

    data = tmp_path / "cf.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    names = [str(tiny_folder), str(other_folder)]
    common = ["heads", "--data", str(data), *(f for n in names for f in ("--model", n)), "--alphas", "0,1", "--top", "2"]
    _, remote, run = in_process_and_over_ray(common, tmp_path, actors=1)
    assert all(RunFolder(run / "models" / slug(n) / "sweep").manifest().complete for n in names)
    assert main(["summarize", str(run), "--summary", str(tmp_path / "summarized.json")]) == 0
    assert json.loads((tmp_path / "summarized.json").read_text()) == remote


def test_folder_names_that_collide_and_a_single_run_folder_are_refused(tiny_folder, tmp_path, capsys):
    data = save_jsonl(ITEMS, tmp_path / "items.jsonl")
    common = ["calibration", "--data", str(data), "--summary", str(tmp_path / "s.json"), "--ray", "local"]
    assert main([*common, "--model", "org/model", "--model", "org-model", "--out", str(tmp_path / "r")]) == 2
    assert "would share the run folder" in capsys.readouterr().err
    single = tmp_path / "single"
    assert main([*common, "--model", str(tiny_folder), "--out", str(single)]) == 0
    assert main([*common, "--model", str(tiny_folder), "--model", "other", "--out", str(single)]) == 2
    assert "holds a run of one model" in capsys.readouterr().err
