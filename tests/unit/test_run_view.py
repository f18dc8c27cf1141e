"""A finished run opens in the dashboard's score-only views, headless and without loading any model."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import columns as C
from explorer.distributed import TASKS, RunFolder
from explorer.distributed.folder import Manifest
from explorer.distributed.units import digest
from explorer.items import Item
from explorer.probes.attentiveness import attentiveness
from explorer.probes.choices import score_choices
from explorer.probes.permutation import permutation_probe
from widgets.run_view import RunView

CITIES = ("Paris", "Berlin", "Rome", "Madrid")
ITEMS = [Item(f"{c}-{n}", f"What is the capital of {c}?", CITIES[n:] + CITIES[:n], answer=(i - n) % 4)
         for i, c in enumerate(("France", "Germany", "Italy")) for n in range(2)]
POOL = [Item("pool", "What is the capital of Spain?", CITIES, answer=3)]


def write_run(folder, probe: str, rows, options: dict, *, parts: int = 2) -> RunFolder:
    """A run folder as a distributed run leaves it: a manifest and parts of whole units."""
    task = TASKS[probe]
    opts = task.prepare(ITEMS, options)
    run = RunFolder(folder)
    manifest = run.start(Manifest(
        probe=probe, model={"name": "tiny", "dtype": "float32"}, options=opts, unit_key=task.key,
        row_key=list(task.row_key), unit_ids=[i.id for i in ITEMS], units_digest=digest(ITEMS),
        rows_per_unit=[task.rows_per_unit(i, opts) for i in ITEMS]))
    chunks = np.array_split(np.arange(len(ITEMS)), parts)
    for chunk in chunks:
        ids = {ITEMS[n].id for n in chunk}
        run.write_part(rows[rows[C.ITEM_ID].isin(ids)].assign(**{C.WORKER: f"host:{chunk[0]}"}))
    run.finish(manifest)
    return run


@pytest.fixture(autouse=True)
def no_model_loads(monkeypatch):
    """Opening a run must not load a model (every load, the dashboard's model registry's included, goes
    through explorer.models.load.load_model, looked up when a load starts)."""
    import explorer.models.load as load

    def refuse(*a, **kw):
        raise AssertionError("a run opened without a model must not load one")

    monkeypatch.setattr(load, "load_model", refuse)


def opened(path) -> RunView:
    view = RunView(path)
    view.runner.wait(60)
    assert view.runner.last_error is None, view.runner.last_error
    return view


def test_permutation_run_opens_in_the_order_bias_and_calibration_views(tiny, tmp_path):
    rows = permutation_probe(tiny, ITEMS, orders="cyclic", cache=None)
    write_run(tmp_path / "run", "permutation", rows, {"orders": "cyclic"})
    view = opened(tmp_path / "run")
    assert list(view.views) == ["Order bias", "Calibration by order"] and view.tabs.titles == tuple(view.views)
    assert "permutation</b> run of <b>tiny" in view.info.value and "complete" in view.info.value
    assert "2 actor(s)" in view.info.value
    order = view.views["Order bias"]
    expected = rows.groupby(C.POSITION)[C.PROB_NORM].mean().tolist()
    np.testing.assert_allclose(order.position_fig.data[0].y, expected, atol=1e-12)  # the run's numbers on screen
    assert list(order.grid_fig.data[0].y) == [i.id for i in ITEMS]
    calibration = view.views["Calibration by order"]
    calibration.group.value = C.ORDER_ID
    assert {t.name for t in calibration.fig.data[1:]} >= {str(n) for n in range(4)}


def test_attentiveness_run_controls_pick_among_the_rows(tiny, tmp_path):
    rows = attentiveness(tiny, ITEMS, ["letters", "cloze"], shots=[0, 1], seeds=[0, 1], pool=POOL, cache=None)
    write_run(tmp_path / "run", "attentiveness", rows,
              {"formats": ["letters", "cloze"], "shots": [0, 1], "seeds": [0, 1], "pool": POOL})
    widget = opened(tmp_path / "run").views["Attentiveness"]
    assert list(widget.format.options) == ["letters", "cloze"] and widget.shots.max == 1
    letters = rows[(rows[C.FORMAT] == "letters") & (rows[C.SHOTS] == 0)]
    np.testing.assert_allclose(widget.bars_fig.data[0].x, [p[0] for p in letters[C.CHOICE_PROBS]], atol=1e-12)
    assert "<b>6</b> items" in widget.headline.value
    before = [list(t.x) for t in widget.bars_fig.data]
    widget.format.value = "cloze"  # a control moves: the figure shows other rows of the run, nothing is scored
    after = [list(t.x) for t in widget.bars_fig.data]
    assert before != after
    cloze = rows[(rows[C.FORMAT] == "cloze") & (rows[C.SHOTS] == 0)]
    np.testing.assert_allclose(widget.bars_fig.data[0].x, [p[0] for p in cloze[C.CHOICE_PROBS]], atol=1e-12)
    widget.shots.value = 1
    one = rows[(rows[C.FORMAT] == "cloze") & (rows[C.SHOTS] == 1) & (rows[C.SEED] == 0)]
    np.testing.assert_allclose(widget.bars_fig.data[0].x, [p[0] for p in one[C.CHOICE_PROBS]], atol=1e-12)
    assert widget.rows[C.SEED].eq(0).all() and widget.runner.last_error is None


def test_calibration_run_in_the_dashboard_without_a_model(tiny, tmp_path):
    from widgets.dashboard import Dashboard

    rows = score_choices(tiny, ITEMS, "letters", cache=None)
    write_run(tmp_path / "run", "calibration", rows, {"fmt": "letters"})
    dash = Dashboard(start=False, run=str(tmp_path / "run"))
    dash.runs.runner.wait(60)
    assert dash.model is None and not dash.models
    widget = dash.runs.views["Calibration"]
    assert widget.scoring_runs == 0 and len(widget.frame) == len(rows)
    first = [list(t.y) for t in widget.fig.data]
    widget.bins.value = 3
    assert [list(t.y) for t in widget.fig.data] != first


def test_unfinished_runs_show_what_they_hold_and_head_runs_say_why_not(tiny, tmp_path):
    rows = score_choices(tiny, ITEMS, "letters", cache=None)
    run = write_run(tmp_path / "run", "calibration", rows, {"fmt": "letters"})
    run.parts()[0].unlink()
    view = opened(tmp_path / "run")
    assert "not finished: 3 of 6 units have no rows yet" in view.info.value
    assert len(view.views["Calibration"].frame) == len(rows) // 2
    manifest = run.manifest()
    manifest.probe = "heads"
    run.save(manifest)
    view = RunView(tmp_path / "run")
    view.runner.wait(60)
    assert "views need the model" in view.info.value and "could not open the run" in view.info.value
    view = RunView(tmp_path / "nothing-here")
    view.runner.wait(60)
    assert "is not a run folder" in view.info.value


def test_given_rows_views_show_code_that_reproduces_them(tiny, tmp_path):
    """Views of given rows (frame=) print the numbers they show from the expression that loads the rows."""
    from tests.snippets import close, run_snippets
    from widgets.attentiveness import AttentivenessWidget
    from widgets.permutation import PermutationWidget

    perm = permutation_probe(tiny, ITEMS, orders="cyclic", cache=None)
    att = attentiveness(tiny, ITEMS, ["letters", "cloze"], shots=[0, 1], seeds=[0, 1], pool=POOL, cache=None)
    att = att[~((att[C.FORMAT] == "cloze") & (att[C.SHOTS] == 1))]  # a run without one of the combinations
    perm.to_parquet(tmp_path / "perm.parquet")
    att.to_parquet(tmp_path / "att.parquet")
    order = PermutationWidget(frame=perm, frame_code="pd.read_parquet('perm.parquet')", n_boot=0)
    attentive = AttentivenessWidget(frame=att, frame_code="pd.read_parquet('att.parquet')")
    assert order.shown.heads == {} and "permutation_probe" not in order.code()
    attentive.format.value, attentive.shots.value = "cloze", 1  # not in the rows: cleared, and says why
    assert attentive.condition == "error" and "no cloze prompts with 1 demonstrations" in attentive.note.value
    assert attentive.code() == "" and not attentive.bars_fig.data[0].x
    attentive.format.value = "letters"
    assert attentive.condition == "fresh" and "'letters'" in attentive.code() and "== 1)" in attentive.code()
    views = {"order": order, "attentiveness": attentive}
    ran = run_snippets({k: v.code() for k, v in views.items()}, tmp_path, {})
    for key, view in views.items():
        close(view.shown_numbers(), ran[key], key)


def test_show_code_of_a_run_reads_the_folder_and_prints_the_numbers_shown(tiny, tmp_path):
    """Every view of an opened run has "Show code" that loads the run's rows from its folder (pandas
    alone) and prints the numbers the view shows, with non-default controls."""
    from tests.snippets import close, run_snippets

    perm = permutation_probe(tiny, ITEMS, orders="cyclic", cache=None)
    write_run(tmp_path / "perm", "permutation", perm, {"orders": "cyclic"})
    att = attentiveness(tiny, ITEMS, ["letters", "cloze"], shots=[0, 1], seeds=[0, 1], pool=POOL, cache=None)
    write_run(tmp_path / "att", "attentiveness", att,
              {"formats": ["letters", "cloze"], "shots": [0, 1], "seeds": [0, 1], "pool": POOL})
    cal = score_choices(tiny, ITEMS, "letters", cache=None)
    write_run(tmp_path / "cal", "calibration", cal, {"fmt": "letters"})
    views = {**{f"perm {k}": v for k, v in opened(tmp_path / "perm").views.items()},
             **{f"att {k}": v for k, v in opened(tmp_path / "att").views.items()},
             **{f"cal {k}": v for k, v in opened(tmp_path / "cal").views.items()}}
    views["perm Calibration by order"].group.value = C.ORDER_ID
    views["att Attentiveness"].format.value = "cloze"
    views["cal Calibration"].bins.value = 3
    codes = {k: v.code() for k, v in views.items()}
    for key, code in codes.items():
        assert "RunFolder(" in code and "placeholder" not in code and "frame  # the rows passed" not in code, key
    ran = run_snippets(codes, tmp_path, {})
    for key, view in views.items():
        close(view.shown_numbers(), ran[key], key)
