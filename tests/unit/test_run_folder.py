"""Run folders without Ray: manifests, resuming only the same run, checks that find missing or
duplicate rows, units as JSON, driver-side option checks, and a clear error where Ray is missing."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.distributed import RunFolder, RunFolderError, TASKS
from explorer.distributed.folder import Manifest
from explorer.distributed.units import decode, digest, dumps, encode, loads
from explorer.errors import ItemError
from explorer.items import Item, save_jsonl
from explorer.probes.counterfactual import Counterfactual
from explorer.items.orders import OrderError
from explorer.probes.permutation import permutation_probe
from tests.tiny import tiny_model

ITEMS = [Item("a", "What is the capital of France?", ("Paris", "Rome", "Berlin"), answer=0),
         Item("b", "What is the capital of Italy?", ("Rome", "Paris"), answer=0, metadata={"subject": "geo", "n": 3})]


def manifest(**changes) -> Manifest:
    opts = TASKS["permutation"].prepare(ITEMS, {})
    base = dict(probe="permutation", model={"name": "m", "dtype": "float32"}, options=opts, unit_key=C.ITEM_ID,
                row_key=list(TASKS["permutation"].row_key), unit_ids=[i.id for i in ITEMS], units_digest=digest(ITEMS),
                rows_per_unit=[TASKS["permutation"].rows_per_unit(i, opts) for i in ITEMS])
    return Manifest(**{**base, **changes})


def test_units_round_trip_as_json():
    permuted = ITEMS[1].permuted((1, 0))
    for unit in [*ITEMS, permuted]:
        back = loads("item", dumps(unit))
        assert back == unit and back.origin == unit.origin and dict(back.metadata) == dict(unit.metadata)
    record = Counterfactual("r", "The capital of France is", "Rome", "Paris", "Q", {"x": 1})
    assert decode("record", json.loads(json.dumps(encode(record)))) == record
    assert digest(ITEMS) != digest(ITEMS[::-1]) != digest([ITEMS[0], ITEMS[1].with_(question="Other?")])


def test_a_folder_resumes_only_the_same_run(tmp_path):
    folder = RunFolder(tmp_path / "run")
    first = folder.start(manifest())
    assert first.expected_rows == 3 * 3 + 2 * 2 and RunFolder(tmp_path / "run").manifest() == first
    written = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert written["n_units"] == 2 and written["expected_rows"] == 13 and written["probe"] == "permutation"
    folder.start(manifest(model={"name": "m", "dtype": "float32", "device_map": "auto"}))  # placement may change
    for change, words in [({"options": TASKS["permutation"].prepare(ITEMS, {"orders": "all"})}, "set of probe options"),
                          ({"model": {"name": "m", "dtype": "bfloat16"}}, r"model \(name and dtype\)"),
                          ({"units_digest": digest(ITEMS[:1])}, "data"), ({"probe": "calibration"}, "probe")]:
        with pytest.raises(RunFolderError, match=rf"another {words}.*Fix: give a new output folder"):
            folder.start(manifest(**change))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="holds files but is not a run folder"):
        RunFolder(tmp_path / "other").start(manifest())
    folder.record_fingerprint(first, "f" * 64)
    with pytest.raises(RunFolderError, match="fingerprint ffff"):
        folder.record_fingerprint(first, "0" * 64)


def test_problems_name_missing_duplicate_and_short_units(tiny, tmp_path):
    folder = RunFolder(tmp_path / "run")
    m = folder.start(manifest())
    rows = permutation_probe(tiny, ITEMS, cache=None)
    folder.write_part(rows[rows[C.ITEM_ID] == "a"])
    assert folder.done_units(C.ITEM_ID) == {"a"}
    assert folder.finish(m) == ["1 of 2 units have no rows yet (first: 'b')"] and not m.complete
    folder.write_part(rows[rows[C.ITEM_ID] == "b"])
    assert folder.finish(m) == [] and m.complete and RunFolder(tmp_path / "run").manifest().complete
    back = folder.rows()
    pd.testing.assert_frame_equal(back, rows)  # dtypes and order as the probe gave them
    folder.write_part(rows[rows[C.ITEM_ID] == "b"].iloc[:1])
    found = folder.problems()
    assert any("1 duplicate rows (first: item_id=b, order_id=0, position=0)" in p for p in found)
    assert any("'b' has 5, expected 4" in p for p in found)
    assert not [p for p in folder.parts() if p.name.startswith(".")]  # no temporary files left


def test_options_are_checked_on_the_driver_before_any_model_loads():
    with pytest.raises(ItemError, match="label set 'AB' has only 2 labels"):
        TASKS["permutation"].prepare(ITEMS, {"labels": "AB"})
    with pytest.raises(OrderError, match="only 2"):
        TASKS["permutation"].prepare(ITEMS, {"orders": 3})
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['order'\]"):
        TASKS["permutation"].prepare(ITEMS, {"order": "all"})
    pool = [ITEMS[0], Item("p", "What is the capital of Spain?", ("Madrid", "Rome"), answer=0)]
    opts = TASKS["attentiveness"].prepare(ITEMS, {"pool": pool, "shots": [1]})
    assert [p["id"] for p in opts["pool"]] == ["p"]  # a scored item is never a demonstration, in any actor
    assert TASKS["attentiveness"].rows_per_unit(ITEMS[0], {**opts, "seeds": [0, 1], "shots": [0, 1]}) == 3 * 3
    json.dumps(opts)  # what the manifest stores


def test_cli_scale_arguments_need_ray(tmp_path, capsys):
    data = save_jsonl(ITEMS, tmp_path / "items.jsonl")
    code = main(["calibration", "--data", str(data), "--actors", "3", "--out", str(tmp_path / "b.csv"),
                 "--summary", str(tmp_path / "s.json")])
    assert code == 2 and "--actors only applies with --ray" in capsys.readouterr().err


def test_summarize_refuses_an_unfinished_run(tmp_path, capsys):
    folder = RunFolder(tmp_path / "run")
    folder.start(manifest(command={"name": "permutation", "args": {}, "extra": {}}))
    code = main(["summarize", str(tmp_path / "run"), "--summary", str(tmp_path / "s.json")])
    err = capsys.readouterr().err
    assert code == 2 and "is not a finished run: 2 of 2 units have no rows yet" in err and "run the same" in err
    assert main(["summarize", str(tmp_path), "--summary", str(tmp_path / "s.json")]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_without_ray_the_engine_works_and_a_ray_run_says_how_to_install_it(tmp_path):
    data = save_jsonl(ITEMS, tmp_path / "items.jsonl")
    model = tmp_path / "model"
    tiny = tiny_model("llama")
    tiny.model.save_pretrained(model)
    tiny.tokenizer.save_pretrained(model)
    script = f"""
import sys
sys.modules["ray"] = None  # as if Ray were not installed
import explorer.distributed
from explorer.cli.main import main
args = ["--data", {str(data)!r}, "--model", {str(model)!r}, "--summary", {str(tmp_path / "s.json")!r}]
assert main(["calibration", *args, "--out", {str(tmp_path / "bins.csv")!r}]) == 0
sys.exit(main(["calibration", *args, "--out", {str(tmp_path / "run")!r}, "--ray", "local"]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert 'Fix: pip install "lm-explorer[scale]"' in done.stderr and (tmp_path / "bins.csv").exists()
