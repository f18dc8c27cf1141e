"""Run folders under real faults: two writers, a writer killed mid-part, two runs' parts in one folder, a
damaged part, a hand-edited manifest, a full disk; what each gets, and that nothing is lost."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.distributed import RunFolder, RunFolderError, TASKS
from explorer.distributed.folder import Manifest, RunFolderWarning
from explorer.distributed.units import digest
from explorer.probes.permutation import permutation_probe
from tests.faults import KILL_SELF, fill, full_disk, killed, need_mounts  # noqa: F401 - need_mounts is a fixture
from tests.tiny import tiny_items

RUN_ITEMS = tiny_items(4)


def _manifest(**changes) -> Manifest:
    t = TASKS["permutation"]
    opts = t.prepare(RUN_ITEMS, {})
    base = dict(probe="permutation", model={"name": "m", "dtype": "float32"}, options=opts, unit_key=C.ITEM_ID,
                row_key=list(t.row_key), unit_ids=[i.id for i in RUN_ITEMS], units_digest=digest(RUN_ITEMS),
                rows_per_unit=[t.rows_per_unit(i, opts) for i in RUN_ITEMS])
    return Manifest(**{**base, **changes})


@pytest.fixture
def run_rows(tiny):
    return permutation_probe(tiny, RUN_ITEMS, cache=None)


def _unit(rows, *ids):
    return rows[rows[C.ITEM_ID].isin(ids)]


def _warned(fn, category=RunFolderWarning):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in seen if issubclass(w.category, category)]


def test_a_second_writer_is_refused_until_the_first_finishes(tmp_path, run_rows):
    first, second = RunFolder(tmp_path / "run"), RunFolder(tmp_path / "run")
    m = first.start(_manifest())
    with pytest.raises(RunFolderError, match=r"is being written by process \d+ on .*Fix: wait for that run"):
        second.start(_manifest())
    with pytest.raises(RunFolderError, match="is being written"):
        second.write_part(run_rows)
    first.write_part(run_rows)
    assert first.finish(m) == [] and m.complete  # finishing lets go of the folder
    assert second.start(_manifest()).complete is False and second.done_units(C.ITEM_ID) == set(m.unit_ids)


def test_a_killed_writers_lock_does_not_block_the_resume(tmp_path, run_rows):
    run_rows.to_parquet(tmp_path / "rows.parquet")
    killed(f"""
import pandas as pd
from tests.unit.test_faults_run_folder import RunFolder, _manifest, C
folder = RunFolder({str(tmp_path / 'run')!r})
folder.start(_manifest())
rows = pd.read_parquet({str(tmp_path / 'rows.parquet')!r})
folder.write_part(rows[rows[C.ITEM_ID] == "q0"])
{KILL_SELF}
""")
    folder = RunFolder(tmp_path / "run")
    m = folder.start(_manifest())  # the dead process's lock went with it
    assert folder.done_units(C.ITEM_ID) == {"q0"}
    folder.write_part(run_rows[run_rows[C.ITEM_ID] != "q0"])
    assert folder.finish(m) == [] and len(folder.rows()) == len(run_rows)


def test_a_writer_killed_mid_part_leaves_no_part_and_the_resume_completes(tmp_path, run_rows):
    run_rows.to_parquet(tmp_path / "rows.parquet")
    killed(f"""
import os
import pandas as pd
import pyarrow.parquet as pq
from tests.unit.test_faults_run_folder import RunFolder, _manifest, C
folder = RunFolder({str(tmp_path / 'run')!r})
folder.start(_manifest())
rows = pd.read_parquet({str(tmp_path / 'rows.parquet')!r})
folder.write_part(rows[rows[C.ITEM_ID] == "q0"])
real = pq.write_table
def half_then_die(table, where, **kw):  # the process dies with half a part written
    real(table, where, **kw)
    where.truncate(where.tell() // 2)
    where.flush()
    {KILL_SELF}
pq.write_table = half_then_die
folder.write_part(rows[rows[C.ITEM_ID] == "q1"])
""")
    parts = tmp_path / "run" / "parts"
    assert [p.name.startswith(".") for p in parts.iterdir()].count(True) == 1  # the half part, under its temporary name
    folder = RunFolder(tmp_path / "run")
    m = folder.start(_manifest())
    assert [p.name for p in parts.iterdir() if p.name.startswith(".")] == []  # the writer's leftovers are gone
    assert folder.done_units(C.ITEM_ID) == {"q0"}
    folder.write_part(run_rows[run_rows[C.ITEM_ID] != "q0"])
    assert folder.finish(m) == [] and m.complete
    pd.testing.assert_frame_equal(folder.rows(), run_rows)


def test_two_runs_in_one_folder_never_give_a_row_twice_and_a_resume_repairs_it(tmp_path, run_rows):
    writer = RunFolder(tmp_path / "run")
    m = writer.start(_manifest())
    writer.write_part(_unit(run_rows, "q0", "q1"))
    writer.write_part(_unit(run_rows, "q2", "q3"))
    assert writer.finish(m) == []
    # what a second run writing at the same time left before the lock: every unit again, one a third time
    for n, ids in enumerate([("q0", "q1"), ("q2", "q3"), ("q3",)]):
        _unit(run_rows, *ids).to_parquet(tmp_path / "run" / "parts" / f"part-zzzzzzzz-{n:05d}.parquet", index=False)
    reader = RunFolder(tmp_path / "run")
    rows, told = _warned(reader.rows)
    assert len(rows) == len(run_rows) == 4 * 4 * 4  # 4 items x 4 orders x 4 positions, not twice that
    assert len(told) == 1 and "4 units are held by more than one part" in told[0]
    pd.testing.assert_frame_equal(rows, run_rows)
    assert any("4 units are held by more than one part" in p for p in reader.problems())
    resumed = RunFolder(tmp_path / "run")
    (m, _), told = _warned(lambda: (resumed.start(_manifest()), None))
    assert len(told) == 1 and "kept the first copy and moved the others" in told[0]
    assert resumed.done_units(C.ITEM_ID) == set(m.unit_ids) and resumed.finish(m) == [] and m.complete
    assert len(resumed.parts()) == 2 and len(list((tmp_path / "run" / "set-aside").iterdir())) == 3
    (rows, told) = _warned(RunFolder(tmp_path / "run").rows)
    assert not told
    pd.testing.assert_frame_equal(rows, run_rows)


@pytest.mark.parametrize("damage", ["truncated", "empty", "not parquet"])
def test_a_damaged_part_is_set_aside_and_its_units_computed_again(tmp_path, run_rows, damage):
    folder = RunFolder(tmp_path / "run")
    m = folder.start(_manifest())
    folder.write_part(_unit(run_rows, "q0", "q1"))
    bad = folder.write_part(_unit(run_rows, "q2", "q3"))
    folder.release()
    data = bad.read_bytes()
    bad.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "not parquet": b"hello" * 40}[damage])
    reader = RunFolder(tmp_path / "run")
    rows, told = _warned(reader.rows)
    assert len(told) == 1 and f"part {bad.name} cannot be read" in told[0] and set(rows[C.ITEM_ID]) == {"q0", "q1"}
    assert reader.problems() == ["2 of 4 units have no rows yet (first: 'q2')"]
    resumed = RunFolder(tmp_path / "run")
    m, told = _warned(lambda: resumed.start(_manifest()))
    assert len(told) == 1 and "moved it to" in told[0] and (tmp_path / "run" / "set-aside" / bad.name).exists()
    assert resumed.done_units(C.ITEM_ID) == {"q0", "q1"}
    resumed.write_part(_unit(run_rows, "q2", "q3"))
    assert resumed.finish(m) == []
    pd.testing.assert_frame_equal(RunFolder(tmp_path / "run").rows(), run_rows)


@pytest.mark.parametrize("edit, words", [
    (lambda t: t[: len(t) // 2], r"is not valid JSON \(line \d+, column \d+"),
    (lambda t: "[1, 2]", "holds a list, not a JSON object"),
    (lambda t: t.replace('"unit_ids": [', '"unit_ids": "q0", "x": ['), "field 'x' is not a manifest field"),
    (lambda t: _json_edit(t, unit_ids="q0,q1"), "field 'unit_ids' holds \"q0,q1\", not list\\[str\\]"),
    (lambda t: _json_edit(t, rows_per_unit=[4, "4", 4, 4]), "field 'rows_per_unit' holds .*not list\\[int \\| None\\]"),
    (lambda t: _json_edit(t, rows_per_unit=[4, 4]), "field 'rows_per_unit' holds 2 counts for 4 units"),
    (lambda t: _json_edit(t, complete="yes"), "field 'complete' holds \"yes\", not true or false"),
    (lambda t: _json_edit(t, probe=None), "field 'probe' holds null, not text"),
    (lambda t: _json_edit(t, drop="units_digest"), "field 'units_digest' is missing"),
])
def test_a_manifest_that_does_not_validate_is_one_line_naming_the_field(tmp_path, edit, words, capsys):
    folder = RunFolder(tmp_path / "run")
    folder.start(_manifest(command={"name": "permutation", "args": {}, "extra": {}}))
    folder.release()
    path = tmp_path / "run" / "manifest.json"
    path.write_text(edit(path.read_text()))
    with pytest.raises(RunFolderError, match=words) as e:
        RunFolder(tmp_path / "run").manifest()
    assert str(e.value).startswith(f"{path}") and "Fix: restore manifest.json" in str(e.value)
    assert main(["summarize", str(tmp_path / "run"), "--summary", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lm-explorer summarize: error: ") and "\n" not in err and "manifest.json" in err


def _json_edit(text: str, drop: str | None = None, **values) -> str:
    data = json.loads(text)
    data.update(values)
    data.pop(drop, None)
    return json.dumps(data)


def test_parts_and_manifest_are_fsynced_before_and_after_their_rename(tmp_path, run_rows, monkeypatch):
    from explorer.distributed import storage

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(storage.os, "fsync", lambda fd: (events.append(("fsync", os.path.isdir(f"/proc/self/fd/{fd}"))),
                                                         real_fsync(fd))[1])
    monkeypatch.setattr(storage.os, "replace",
                        lambda a, b: (events.append(("rename", Path(b).name)), real_replace(a, b))[1])
    folder = RunFolder(tmp_path / "run")
    folder.start(_manifest())
    part = folder.write_part(run_rows)
    # each file: its data fsynced, renamed into place, then its folder fsynced
    assert events == [("fsync", False), ("rename", "manifest.json"), ("fsync", True),
                      ("fsync", False), ("rename", part.name), ("fsync", True)]


def test_a_full_disk_stops_a_run_with_a_clear_error_and_keeps_its_parts(tmp_path, run_rows, need_mounts):
    with full_disk(tmp_path / "disk", "128k") as disk:
        folder = RunFolder(disk / "run")
        m = folder.start(_manifest())
        folder.write_part(_unit(run_rows, "q0"))
        fill(disk)
        with pytest.raises(RunFolderError, match=r"could not write a part \(No space left on device\).*parts already "
                                                 "written stay"):
            folder.write_part(_unit(run_rows, "q1", "q2", "q3"))
        assert [p.name for p in (disk / "run" / "parts").iterdir()] == [folder.parts()[0].name]  # no temporary left
        (disk / "filler").unlink()
        folder.write_part(_unit(run_rows, "q1", "q2", "q3"))
        assert folder.finish(m) == []
        pd.testing.assert_frame_equal(folder.rows(), run_rows)
