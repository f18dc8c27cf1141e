"""Bad input reaching the command line: exit status 2 and one line ``lm-explorer CMD: error: ...`` that
names the file, item or field and the fix; never a traceback. Every data-reading command gets the same
corpus of broken files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from explorer.cli.main import main

GOOD = {"id": "q1", "question": "What is the capital of France ?", "choices": ["Paris", "Berlin", "Rome"],
        "answer": 0}


def _jsonl(*rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


CORPUS: dict[str, tuple[str, bytes | str, str]] = {  # name: (file name, content, words the error must contain)
    "empty": ("items.jsonl", "", "no items"),
    "blank lines": ("items.jsonl", "\n\n  \n", "no items"),
    "not utf-8": ("items.jsonl", b'{"question": "caf\xe9 ?"}\n', "UTF-8"),
    "malformed json line": ("items.jsonl", '{"question": "x", "choices": [\n', "not valid JSON"),
    "malformed json file": ("items.json", '[{"question": "x",', "not valid JSON"),
    "json of the wrong shape": ("items.json", '"just a string"', "list"),
    "malformed csv": ("items.csv", 'question,choices,answer\n"What is, 1|2,0\n', "CSV"),
    "answer inf": ("items.jsonl", '{"id": "q", "question": "Q ?", "choices": ["a", "b"], "answer": Infinity}\n',
                   "'answer'"),
    "question nan": ("items.jsonl", '{"id": "q", "question": NaN, "choices": ["a", "b"], "answer": 0}\n',
                     "'question'"),
    "choice nan": ("items.jsonl", '{"id": "q", "question": "Q ?", "choices": ["a", NaN], "answer": 0}\n',
                   "'choices'"),
    "missing choices": ("items.jsonl", _jsonl({"id": "q", "question": "Q ?", "answer": 0}), "'choices'"),
    "missing question": ("items.jsonl", _jsonl({"id": "q", "choices": ["a", "b"]}), "question"),
    "one choice": ("items.jsonl", _jsonl({**GOOD, "choices": ["Paris"]}), "at least 2 choices"),
    "duplicate choices": ("items.jsonl", _jsonl({**GOOD, "choices": ["Paris", "Paris", "Rome"]}), "both 'Paris'"),
    "empty question": ("items.jsonl", _jsonl({**GOOD, "question": "  "}), "question is empty"),
    "gold out of range": ("items.jsonl", _jsonl({**GOOD, "answer": 7}), "out of range"),
    "30 choices": ("items.jsonl", _jsonl(*[{**GOOD, "id": f"q{n}", "choices": [f"c{i}" for i in range(30)]}
                                           for n in range(2)]), "labels"),
    "a 50 MB file": ("items.jsonl", "x" * (50 * 2**20), "not valid JSON"),
    "missing file": ("nowhere.jsonl", None, "no items file"),
}
COMMANDS = {  # the arguments each data-reading command needs besides --data
    "score": ["--out", "{tmp}/rows.csv"],
    "permutation": ["--out", "{tmp}/rows.csv", "--summary", "{tmp}/s.json", "--n-boot", "0"],
    "attentiveness": ["--formats", "letters", "--shots", "0", "--out", "{tmp}/rows.csv", "--summary", "{tmp}/s.json"],
    "calibration": ["--out", "{tmp}/bins.csv", "--summary", "{tmp}/s.json", "--n-boot", "0"],
    "chain": ["--out", "{tmp}/rows.csv", "--summary", "{tmp}/s.json"],
    "heads": ["--out", "{tmp}/rows.csv", "--summary", "{tmp}/s.json", "--alphas", "0,1"],
}


@pytest.fixture
def tiny_everywhere(tiny, monkeypatch):
    import importlib

    for name in COMMANDS:  # each command's own name for the loader (imported before it is patched)
        monkeypatch.setattr(importlib.import_module(f"explorer.cli.commands.{name}"), "load_model",
                            lambda *a, **k: tiny)
    return tiny


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(CORPUS))
def test_bad_input_is_one_error_line_with_exit_status_2(command, case, tiny_everywhere, tmp_path, capsys):
    name, content, words = CORPUS[case]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    args = [command, "--data", str(path), *(a.format(tmp=tmp_path) for a in COMMANDS[command])]
    assert main(args) == 2, case
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(f"lm-explorer {command}: warning:")]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"lm-explorer {command}: error: "), lines[0]
    assert words in lines[0], lines[0]  # heads reads what is not prompt/target/foil records as items
    assert "Fix" in lines[0] or "fix" in lines[0] or case == "missing file", lines[0]


def test_a_real_process_prints_no_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xff\xfe not text")
    done = subprocess.run([sys.executable, "-m", "explorer.cli.main", "score", "--data", str(bad), "--out",
                           str(tmp_path / "o.csv")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "UTF-8" in done.stderr


def test_help_imports_no_heavy_library():
    """``lm-explorer --help`` and every command's ``--help`` build the parser without torch, transformers,
    pandas or datasets (that import took seconds): checked in a fresh interpreter."""
    code = ("import sys, explorer.cli.main as m; m.build_parser(); "
            "print(sorted(x for x in ('torch', 'transformers', 'pandas', 'datasets', 'ray', 'scipy') "
            "if x in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    for argv in (["--help"], ["permutation", "--help"], ["calibration", "--help"]):
        shown = subprocess.run([sys.executable, "-m", "explorer.cli.main", *argv], capture_output=True, text=True,
                               timeout=60)
        assert shown.returncode == 0 and "usage: lm-explorer" in shown.stdout
