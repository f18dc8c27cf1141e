"""The probe commands with --ray on a tiny model over a real local Ray cluster: the summary an
in-process run writes, a run folder as --out, and ``lm-explorer summarize`` from the folder alone."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.distributed import RunFolder
from explorer.items import Item, save_jsonl
from tests.unit.test_heads_cli import ROWS

pytestmark = pytest.mark.usefixtures("ray_cluster")
CITIES = ("Paris", "Berlin", "Rome", "Madrid")
ITEMS = [Item(f"{c}-{n}", f"What is the capital of {c}?", CITIES[n:] + CITIES[:n], answer=(i - n) % 4)
         for i, c in enumerate(("France", "Germany", "Italy", "Spain")) for n in range(2)]


def close(a, b, path: str = "") -> None:
    """Two summaries agree: numbers to 1e-6 (relative 1e-5), everything else exactly."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for n, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{n}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-6), path  # fitted values (a temperature) to 1e-5
    else:
        assert a == b, path


def in_process_and_over_ray(common: list[str], tmp_path, *, local_out: str = "local.csv", actors: int = 2):
    """``common`` run in process (``--out local_out``) and over a local Ray (``--out tmp_path/run``); the two
    summaries, checked to agree, and the run folder."""
    assert main([*common, "--out", str(tmp_path / local_out), "--summary", str(tmp_path / "local.json")]) == 0
    run = tmp_path / "run"
    assert main([*common, "--out", str(run), "--summary", str(tmp_path / "ray.json"), "--ray", "local",
                 "--actors", str(actors)]) == 0
    local, remote = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "ray"))
    close(remote, local)
    return local, remote, run


def test_calibration_into_a_run_folder_and_summarize(tiny_folder, tmp_path):
    data = save_jsonl(ITEMS, tmp_path / "items.jsonl")
    common = ["calibration", "--data", str(data), "--model", str(tiny_folder), "--bins", "5", "--folds", "4"]
    _, _, run = in_process_and_over_ray(common, tmp_path, local_out="bins.csv")
    rows = RunFolder(run).rows()
    assert len(rows) == 4 * len(ITEMS) and RunFolder(run).manifest().complete
    pd.testing.assert_frame_equal(pd.read_csv(run / "bins.csv"), pd.read_csv(tmp_path / "bins.csv"), atol=1e-6)
    assert main(["summarize", str(run), "--summary", str(tmp_path / "again.json")]) == 0
    assert json.loads((tmp_path / "again.json").read_text()) == json.loads((tmp_path / "ray.json").read_text())


def test_heads_with_a_fact_check_and_a_sweep(tiny_folder, tmp_path):
    data = tmp_path / "cf.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    common = ["heads", "--data", str(data), "--model", str(tiny_folder), "--known-only", "--alphas", "-2,0,1,3",
              "--top", "2"]
    assert main([*common, "--out", str(tmp_path / "attr.csv"), "--summary", str(tmp_path / "local.json")]) == 0
    assert main([*common, "--out", str(tmp_path / "attr-ray.csv"), "--summary", str(tmp_path / "ray.json"),
                 "--ray", "local"]) == 0
    local, remote = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "ray"))
    close(remote, local)
    a, b = pd.read_csv(tmp_path / "attr.csv"), pd.read_csv(tmp_path / "attr-ray.csv")
    assert list(b.columns) == [*C.HEAD_ATTRIBUTION_COLUMNS, C.WORKER]
    np.testing.assert_allclose(b[C.ATTRIBUTION], a[C.ATTRIBUTION], atol=1e-5)
    run = tmp_path / "attr-ray.run"  # a file --out keeps its run folder beside it
    known = RunFolder(run / "known").rows()
    assert len(known) == len(ROWS) and set(b[C.PROMPT_ID]) == set(known.loc[known[C.KNOWN], C.PROMPT_ID])
    assert RunFolder(run / "sweep").manifest().complete
    assert main(["summarize", str(run), "--summary", str(tmp_path / "again.json")]) == 0
    close(json.loads((tmp_path / "again.json").read_text()), remote)


def test_heads_on_multiple_choice_items(tiny_folder, tmp_path):
    """Items over Ray: the contrasts come from a distributed scoring run in OUT/contrasts; the summary
    equals the in-process one."""
    data = save_jsonl(ITEMS, tmp_path / "items.jsonl")
    common = ["heads", "--data", str(data), "--model", str(tiny_folder), "--alphas", "0,2", "--top", "2"]
    assert main([*common, "--out", str(tmp_path / "attr.csv"), "--summary", str(tmp_path / "local.json")]) == 0
    run = tmp_path / "run"
    assert main([*common, "--out", str(run), "--summary", str(tmp_path / "ray.json"), "--ray", "local"]) == 0
    local, remote = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "ray"))
    close(remote, local)
    assert len(RunFolder(run / "contrasts").rows()) == 4 * len(ITEMS)
    assert remote["n_loaded"] == len(ITEMS) == remote["n_prompts"]
