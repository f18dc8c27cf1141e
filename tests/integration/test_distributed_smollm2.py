"""The permutation probe on the bundled SmolLM2 over a real local Ray cluster: interrupted, resumed by
the CLI into the same folder, equal to the in-process run, every item scored once, and summarised
from the folder alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer import columns as C
from explorer.cli.main import main
from explorer.distributed import RunFolder, run_probe
from explorer.errors import Cancelled
from explorer.items import capitals, load_items, save_jsonl
from explorer.metrics.permutation_summary import summarize_permutation
from explorer.probes.permutation import permutation_probe

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_cluster")]
CLI_OPTIONS = {"orders": "cyclic", "fmt": "letters", "labels": None, "template": None, "seed": 0}  # the CLI's defaults


def test_interrupted_run_resumed_by_the_cli_equals_the_in_process_run(smollm2, tmp_path, capsys):
    data = save_jsonl(capitals(8, seed=11), tmp_path / "items.jsonl")
    items = load_items(data)
    run = tmp_path / "run"
    with pytest.raises(Cancelled):
        run_probe("permutation", "smollm2-135m", items, run, options=CLI_OPTIONS, actors=2, units_per_block=2,
                  cancel=lambda: True)  # stop after the first block
    first = set(RunFolder(run).rows()[C.ITEM_ID])
    assert len(first) == 2
    summary = tmp_path / "summary.json"
    assert main(["permutation", "--data", str(data), "--out", str(run), "--summary", str(summary), "--n-boot", "0",
                 "--ray", "local", "--actors", "2"]) == 0
    assert "6 units computed over Ray, 2 already in" in capsys.readouterr().out  # only the missing items
    folder = RunFolder(run)
    manifest = folder.manifest()
    assert manifest.complete and manifest.fingerprint == smollm2.fingerprint
    rows = folder.rows()
    assert len({p.name.split("-")[1] for p in folder.parts()}) == 2  # parts written by the two runs
    assert len(rows) == len(items) * 4 * 4 and not rows.duplicated([C.ITEM_ID, C.ORDER_ID, C.POSITION]).any()
    assert (rows.groupby(C.ITEM_ID)[C.WORKER].nunique() == 1).all()  # each item scored by exactly one actor
    local = permutation_probe(smollm2, items, orders="cyclic", cache=None)
    np.testing.assert_allclose(rows[C.PROB], local[C.PROB], atol=1e-5, rtol=0)
    np.testing.assert_allclose(rows[C.PROB_NORM], local[C.PROB_NORM], atol=1e-5, rtol=0)
    assert rows[C.PROMPT].tolist() == local[C.PROMPT].tolist() and rows[C.ORDER].tolist() == local[C.ORDER].tolist()
    written = json.loads(summary.read_text())
    expect = summarize_permutation(local, n_boot=0)
    for key in ("accuracy", "a_bias", "rstd", "consistency", "order_avg_accuracy", "pride_accuracy"):
        assert written[key] == pytest.approx(expect[key], abs=1e-6), key
    assert main(["summarize", str(run), "--summary", str(tmp_path / "again.json")]) == 0
    assert json.loads((tmp_path / "again.json").read_text()) == written
