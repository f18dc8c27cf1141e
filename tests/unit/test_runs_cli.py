"""``lm-explorer import`` writes a run folder (RunFolder's manifest and parts) that ``summarize`` reads; an
lm-eval folder summarises directly; bad input ends with one line and exit status 2."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.distributed.folder import RunFolder, RunFolderError
from explorer.errors import RunLogWarning
from explorer.runs import import_run, load_run, read_lmeval, run_frame

DATA = Path(__file__).resolve().parents[1] / "data"
RUN = DATA / "lmeval" / "v0.4.13"
MODEL = RUN / "SmolLM2-135M-Instruct"


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)
        return fn(*args, **kwargs)


def test_import_writes_a_complete_run_folder_whose_rows_are_the_run_frame(tmp_path):
    folder = quiet(import_run, RUN, tmp_path / "run")
    manifest = folder.manifest()
    assert manifest.probe == "imported" and manifest.complete and folder.problems() == []
    assert manifest.model["name"] == "SmolLM2-135M-Instruct" and manifest.options["source"] == "lm-eval 0.4.13"
    assert len(folder.parts()) == 6  # one per task
    frame = run_frame(quiet(read_lmeval, RUN))
    back = load_run(tmp_path / "run")
    pd.testing.assert_frame_equal(back, frame, check_like=False)
    assert back.attrs["logged"] == quiet(read_lmeval, RUN).logged and back.attrs["model"] == "SmolLM2-135M-Instruct"


def test_importing_again_adds_only_what_is_missing_and_another_run_is_refused(tmp_path):
    quiet(import_run, RUN, tmp_path / "run", task="mmlu_*")
    first = RunFolder(tmp_path / "run").parts()
    quiet(import_run, RUN, tmp_path / "run", task="mmlu_*")
    assert RunFolder(tmp_path / "run").parts() == first and RunFolder(tmp_path / "run").problems() == []
    with pytest.raises(RunFolderError, match="holds a run with another"):
        quiet(import_run, RUN, tmp_path / "run", task="lmx_arc")


def test_cli_import_then_summarize_equal_summarize_of_the_lm_eval_folder(tmp_path, capsys):
    assert main(["import", str(RUN), "--task", "mmlu_sample", "--out", str(tmp_path / "run"),
                 "--summary", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr()
    assert "imported 20 questions (80 rows)" in out.out and "mmlu_philosophy: acc 0.2000 (log) = 0.2000" in out.out
    assert main(["summarize", str(tmp_path / "run"), "--summary", str(tmp_path / "b.json")]) == 0
    assert main(["summarize", str(RUN / "SmolLM2-135M-Instruct" / next(MODEL.glob("results_*")).name), "--summary",
                 str(tmp_path / "c.json")]) == 0
    a, b, c = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "abc")
    assert a == b
    for task in a["tasks"]:
        assert c["reported"][task] == a["reported"][task]
    assert a["accuracy"] == 0.1 and a["reported"]["mmlu_abstract_algebra"]["acc"] == {"logged": 0.2, "reproduced": 0.2}


def test_cli_prints_what_it_left_out_as_warnings(tmp_path, capsys):
    assert main(["import", str(RUN), "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "lm-explorer import: warning: task lmx_generate is generate_until, not multiple_choice" in err


@pytest.mark.parametrize("case", ["no samples", "missing", "truncated everything", "bad record", "unknown task"])
def test_bad_logs_end_with_one_line_and_status_2(case, tmp_path, capsys):
    run = tmp_path / "out" / "m"
    args: list[str] = []
    if case == "no samples":
        run.mkdir(parents=True)
        shutil.copy(next(MODEL.glob("results_*.json")), run)
        words = "re-run lm-eval with --log_samples"
    elif case == "missing":
        words = "no run at"
        run = tmp_path / "nothing"
    elif case == "truncated everything":
        shutil.copytree(MODEL, run)
        for p in run.glob("samples_*"):
            p.write_text('{"doc_id": 0, "doc"\n')
        words = "holds no multiple-choice task"
    elif case == "bad record":
        shutil.copytree(MODEL, run)
        p = next(run.glob("samples_mmlu_philosophy_*"))
        p.write_text(p.read_text().replace('"arguments"', '"argumentz"', 1))
        words = "line 1 (doc 0): arguments is a NoneType"
    else:
        shutil.copytree(MODEL, run)
        args = ["--task", "hellaswag"]
        words = "holds no task 'hellaswag'"
    code = main(["import", str(run), "--out", str(tmp_path / "run"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("lm-explorer import: error: ") and words in err[-1], err
    assert not (tmp_path / "run").exists() or not RunFolder(tmp_path / "run").parts()


def test_the_frame_of_a_run_folder_opens_with_pandas_alone(tmp_path):
    quiet(import_run, RUN, tmp_path / "run", task="lmx_arc")
    parts = RunFolder(tmp_path / "run").parts()
    rows = pd.concat([pd.read_parquet(p) for p in parts])
    assert set(C.RUN_COLUMNS) <= set(rows.columns) and rows[C.N_CHARS].dtype == "Int64"
