"""Smooth ECE and the smoothed reliability curve: relplot's own values, in every calibration summary,
the CLI JSON, the figure and the reliability view."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pytest
import relplot

from explorer import columns as C
from explorer.cli.main import main
from explorer.items import save_jsonl
from explorer.metrics import smooth
from explorer.metrics.scores import bootstrap_interval
from explorer.metrics.smooth import smooth_ece, smooth_ece_interval, smooth_reliability
from explorer.probes.calibration import item_confidence, smooth_reliability_frame, summarize
from explorer.probes.choices import score_choices
from tests.tiny import tiny_items
from widgets._state import SharedState
from widgets.calibration import CalibrationWidget
from widgets.figures.calibration import reliability_figure


def sample(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.3, 1.0, n)
    return c, (rng.uniform(size=n) < c ** 2).astype(float)  # over-confident


def test_doctests():
    result = doctest.testmod(smooth)
    assert result.attempted > 0 and result.failed == 0


def test_equals_relplot_and_the_interval_is_a_seeded_bootstrap():
    c, y = sample()
    assert smooth_ece(c, y) == relplot.smECE(c, y)
    est, lo, hi = smooth_ece_interval(c, y, n_boot=60, seed=3)
    assert (est, lo, hi) == bootstrap_interval(relplot.smECE, c, y, n_boot=60, seed=3)
    assert lo <= est <= hi and smooth_ece_interval(c, y, n_boot=60, seed=3) == (est, lo, hi)
    assert smooth_ece_interval(c, y, n_boot=60, seed=4) != (est, lo, hi)
    assert np.isnan(smooth_ece_interval(c, y, n_boot=0)[1])
    with pytest.raises(ValueError, match="0/1"):
        smooth_ece(c, y * 2)


def test_a_calibrated_sample_scores_lower_than_an_overconfident_one():
    rng = np.random.default_rng(1)
    c = rng.uniform(0, 1, 2000)
    calibrated = (rng.uniform(size=2000) < c).astype(float)
    assert smooth_ece(c, calibrated) < 0.03 < smooth_ece(c, (rng.uniform(size=2000) < c ** 3).astype(float))


def test_curve_is_reproducible_and_leaves_numpys_global_generator_alone():
    c, y = sample()
    np.random.seed(11)
    state = np.random.get_state()[1].copy()
    curve = smooth_reliability(c, y, n_boot=30, seed=2)
    assert np.array_equal(np.random.get_state()[1], state)
    assert list(curve.columns) == [*C.SMOOTH_RELIABILITY_COLUMNS, C.SMECE] and len(curve) == 200
    assert curve[C.MESH].iloc[0] == 0 and curve[C.MESH].iloc[-1] == 1
    assert (curve[C.SMOOTH_LOW] <= curve[C.SMOOTH_HIGH]).all() and curve[C.SMECE].iloc[0] == relplot.smECE(c, y)
    smooth._curve.cache_clear()
    again = smooth_reliability(c, y, n_boot=30, seed=2)
    assert again.equals(curve)  # the same seed gives the same band, memoised or not
    with pytest.raises(ValueError, match="at least 2"):
        smooth_reliability(c, y, n_boot=1)


@pytest.fixture(scope="module")
def predictions():
    from tests.tiny import tiny_model

    model = tiny_model("llama")
    frame = score_choices(model, tiny_items(12), "letters", cache=None)
    return item_confidence(frame.assign(**{C.FORMAT: ["letters"] * 24 + ["other"] * 24}), by=[C.FORMAT])


def test_every_summary_has_smece_per_group(predictions):
    s = summarize(predictions, by=[C.FORMAT], n_boot=50).set_index(C.FORMAT)
    assert {C.SMECE, C.SMECE_LOW, C.SMECE_HIGH} <= set(s.columns)
    for fmt, g in predictions.groupby(C.FORMAT):
        c, y = g[C.CONFIDENCE].to_numpy(float), g[C.CORRECT].to_numpy(float)
        assert s.loc[fmt, C.SMECE] == relplot.smECE(c, y)
        assert s.loc[fmt, C.SMECE_LOW] <= s.loc[fmt, C.SMECE] <= s.loc[fmt, C.SMECE_HIGH]
    curves = smooth_reliability_frame(predictions, by=[C.FORMAT], n_boot=20)
    assert curves.groupby(C.FORMAT).size().tolist() == [200, 200]
    assert curves.groupby(C.FORMAT)[C.SMECE].first().to_dict() == s[C.SMECE].to_dict()


def test_calibration_cli_json_has_smece(tiny, monkeypatch, tmp_path):
    import explorer.cli.commands.calibration as cmd

    monkeypatch.setattr(cmd, "load_model", lambda name, **placement: tiny)
    data = save_jsonl(tiny_items(12), tmp_path / "items.jsonl")
    summ = tmp_path / "s.json"
    assert main(["calibration", "--data", str(data), "--n-boot", "40", "--folds", "3", "--out",
                 str(tmp_path / "bins.csv"), "--summary", str(summ)]) == 0
    s = json.loads(summ.read_text())
    items = item_confidence(score_choices(tiny, tiny_items(12), "letters"))
    assert s["smece"] == relplot.smECE(items[C.CONFIDENCE].to_numpy(float), items[C.CORRECT].to_numpy(float))
    assert s["smece_low"] <= s["smece"] <= s["smece_high"]
    for recal in ("temperature_scaled", "platt_scaled"):
        assert {"smece", "smece_low", "smece_high"} <= set(s[recal])


def test_figure_adds_each_groups_smoothed_curve_after_the_bins(predictions):
    from explorer.probes.calibration import reliability_frame

    rel = reliability_frame(predictions, by=[C.FORMAT], n_bins=5)
    plain = reliability_figure(rel, group=C.FORMAT)
    curves = smooth_reliability_frame(predictions, by=[C.FORMAT], n_boot=20)
    fig = reliability_figure(rel, group=C.FORMAT, smooth=curves)
    assert len(fig.data) == len(plain.data) + 6 and [t.name for t in fig.data[:5]] == [t.name for t in plain.data]
    line = fig.data[-1]
    assert line.name.startswith("other smoothed (smECE") and fig.data[-2].fill == "tonexty"
    np.testing.assert_allclose(line.y, curves[curves[C.FORMAT] == "other"][C.SMOOTH_ACCURACY])


def test_reliability_view_shows_the_smoothed_curve_on_demand(tiny):
    w = CalibrationWidget(tiny, tiny_items(8), formats=("letters",), state=SharedState())
    w.runner.wait(120)
    assert w.runner.last_error is None and "smece" in w.table.value
    n = len(w.fig.data)
    w.smooth.value = True
    assert len(w.fig.data) == n + 3 and "smoothed (smECE" in w.fig.data[-1].name
    curve = next(t for t in w.fig.data[1:] if t.customdata is not None and t.type == "scatter")
    group, b = curve.customdata[0]
    assert len(w.show_bin(group, int(b))) > 0  # the bins still answer clicks
    w.smooth.value = False
    assert len(w.fig.data) == n
