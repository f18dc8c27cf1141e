"""Probes over a real local Ray cluster on a tiny model: the rows of an in-process run, every unit
scored by one actor, exactly once, through a killed actor and an interrupted, resumed run."""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest

from explorer import columns as C
from explorer import load_model
from explorer.distributed import DistributedRunError, RunFolder, run_probe
from explorer.errors import Cancelled
from explorer.items import Item
from explorer.metrics.attentiveness import summarize_attentiveness
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.probes.attentiveness import attentiveness
from explorer.probes.permutation import permutation_probe

pytestmark = pytest.mark.usefixtures("ray_cluster")
CITIES = ("Paris", "Berlin", "Rome", "Madrid")
ITEMS = [Item(f"{c}-{n}", f"What is the capital of {c}?", CITIES[n:] + CITIES[:n] if n < 2 else CITIES[:3],
              answer=(i - n) % (4 if n < 2 else 3))
         for i, c in enumerate(("France", "Germany", "Italy")) for n in range(3)]  # 4 and 3 choices
POOL = [Item(f"pool-{c}", f"What is the capital of {c}?", CITIES, answer=i) for i, c in enumerate(("Spain", "France"))]


def same_rows(distributed: pd.DataFrame, local: pd.DataFrame, key: list[str]) -> None:
    """The distributed rows are the in-process ones (numbers to 1e-5), whatever their order."""
    assert set(distributed.columns) == set(local.columns) | {C.WORKER}
    a = distributed.drop(columns=[C.WORKER]).sort_values(key, ignore_index=True)[list(local.columns)]
    b = local.sort_values(key, ignore_index=True)
    for col in b.columns:
        x, y = a[col].tolist(), b[col].tolist()
        if pd.api.types.is_float_dtype(b[col]):
            np.testing.assert_allclose(x, y, atol=1e-5, rtol=0, err_msg=col)
        elif isinstance(y[0], (list, np.ndarray)):
            for u, v in zip(x, y):
                assert len(u) == len(v) and all(s == t or abs(s - t) <= 1e-5 for s, t in zip(u, v)), col
        else:
            assert [None if pd.isna(v) else v for v in x] == [None if pd.isna(v) else v for v in y], col


def test_permutation_over_two_actors_equals_in_process_exactly_once(tiny_folder, tmp_path):
    out = tmp_path / "run"
    killed: list[int] = []

    def kill_first_actor(done: int, total: int) -> None:  # a real failure: an actor dies mid-run
        if not killed and 0 < done < total:
            worker = RunFolder(out).rows()[C.WORKER].iloc[0]
            killed.append(int(worker.rsplit(":", 1)[1]))
            os.kill(killed[0], signal.SIGKILL)

    result = run_probe("permutation", tiny_folder, ITEMS, out, options={"orders": "cyclic"}, actors=2,
                       units_per_block=1, progress=kill_first_actor)
    assert result.complete and not result.problems and killed
    rows = result.rows()
    local = permutation_probe(load_model(tiny_folder), ITEMS, orders="cyclic", cache=None)
    same_rows(rows, local, [C.ITEM_ID, C.ORDER_ID, C.POSITION])
    assert len(rows) == sum(i.k * i.k for i in ITEMS) == result.manifest.expected_rows  # items x orders x positions
    assert not rows.duplicated([C.ITEM_ID, C.ORDER_ID, C.POSITION]).any()
    assert (rows.groupby(C.ITEM_ID)[C.WORKER].nunique() == 1).all()  # each item scored by exactly one actor
    assert sorted(result.computed) == sorted(i.id for i in ITEMS) and result.skipped == 0
    manifest = RunFolder(out).manifest()
    assert manifest.fingerprint == load_model(tiny_folder).fingerprint and manifest.complete
    a, b = summarize_permutation(rows, n_boot=0), summarize_permutation(local, n_boot=0)  # items of several k
    for key in ("accuracy", "consistency", "order_avg_accuracy", "circular_accuracy"):
        assert a[key] == pytest.approx(b[key], abs=1e-6)
    for k in b["by_k"]:
        for key in ("a_bias", "rstd", "accuracy"):
            assert a["by_k"][k][key] == pytest.approx(b["by_k"][k][key], abs=1e-6)
    again = run_probe("permutation", tiny_folder, ITEMS, out, options={"orders": "cyclic"})  # nothing left to do
    assert again.computed == [] and again.skipped == len(ITEMS) and len(again.rows()) == len(rows)


def test_interrupted_run_resumes_computing_only_the_missing_items(tiny_folder, tmp_path):
    out = tmp_path / "run"
    options = {"formats": ["letters", "cloze"], "shots": [0, 1], "seeds": [0, 1], "pool": POOL + ITEMS[:1]}
    with pytest.raises(Cancelled, match="keeps them"):
        run_probe("attentiveness", tiny_folder, ITEMS, out, options=options, actors=2, units_per_block=2,
                  cancel=lambda: len(RunFolder(out).parts()) >= 2)
    first = RunFolder(out).rows()
    done = set(first[C.ITEM_ID])
    assert 0 < len(done) < len(ITEMS) and not RunFolder(out).manifest().complete
    assert (first.groupby(C.ITEM_ID).size() == 2 * 3).all()  # whole items only: 2 formats x (1 + 2 seeds)
    result = run_probe("attentiveness", tiny_folder, ITEMS, out, options=options, actors=2, units_per_block=2)
    assert set(result.computed) == {i.id for i in ITEMS} - done and result.skipped == len(done)
    assert result.complete
    rows = result.rows()
    pd.testing.assert_frame_equal(rows[rows[C.ITEM_ID].isin(done)].reset_index(drop=True),
                                  first.set_index(C.ITEM_ID).loc[[i.id for i in ITEMS if i.id in done]].reset_index()
                                  [rows.columns])  # the first run's rows are kept as written
    # demonstrations drawn as in-process (the pool item that is also scored is never shown)
    local = attentiveness(load_model(tiny_folder), ITEMS, ["letters", "cloze"], shots=[0, 1], seeds=[0, 1],
                          pool=POOL + ITEMS[:1], cache=None)
    same_rows(rows, local, [C.ITEM_ID, C.FORMAT, C.SHOTS, C.SEED])
    s, t = summarize_attentiveness(rows, n_boot=0), summarize_attentiveness(local, n_boot=0)
    np.testing.assert_allclose(s["pma_mean"], t["pma_mean"], atol=1e-6)


def test_an_actor_that_cannot_load_its_model_stops_the_run_with_the_cause(tmp_path):
    with pytest.raises(DistributedRunError, match=r"could not load model 'no-such-org/no-such-model'.*Fix: pass"):
        run_probe("permutation", "no-such-org/no-such-model", ITEMS, tmp_path / "run", actors=1)
    assert RunFolder(tmp_path / "run").parts() == []  # nothing half-written
