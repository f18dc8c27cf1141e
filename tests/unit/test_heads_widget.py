"""The heads widget headless on a tiny model: clicks, the slider and the switch change what is shown."""

from __future__ import annotations

import numpy as np
import pytest
from plotly.callbacks import Points

from explorer import columns as C
from explorer.probes.heads import head_attribution, mean_attribution
from explorer.probes.sweep import sweep_heads, sweep_summary
from tests.unit.test_head_attribution import RECORDS
from widgets._state import SharedState
from widgets.heads import HeadsWidget


@pytest.fixture
def widget(tiny):
    w = HeadsWidget(tiny, RECORDS, grid=(-2.0, 0.0, 1.0, 4.0))
    w.runner.wait(60)
    assert w.runner.last_error is None
    return w


def test_first_run_maps_every_head_and_sweeps_the_strongest(widget, tiny):
    mean = mean_attribution(head_attribution(tiny, RECORDS))
    z = np.asarray(widget.heat_fig.data[0].z)
    assert z.shape == (tiny.parts.n_layers, tiny.parts.n_heads)
    assert np.allclose(z, mean.pivot_table(index=C.LAYER, columns=C.HEAD, values=C.ATTRIBUTION).to_numpy(), atol=1e-6)
    top = mean.loc[mean[C.ATTRIBUTION].abs().idxmax()]
    assert widget.head == (top[C.LAYER], top[C.HEAD])
    assert (widget.heat_fig.data[1].y[0], widget.heat_fig.data[1].x[0]) == widget.head
    expect = sweep_summary(sweep_heads(tiny, RECORDS, [widget.head], [-2.0, 0.0, 1.0, 4.0]))
    assert list(widget.curve_fig.data[0].x) == [-2.0, 0.0, 1.0, 4.0]
    assert np.allclose(widget.curve_fig.data[0].y, expect[C.TARGET_RATE])
    assert list(widget.curve_fig.data[1].x) == [1.0]  # the current point, at the slider's factor
    assert widget.table.value.count("<tr>") == len(RECORDS) + 1


def test_slider_moves_the_point_and_fills_the_table(widget, tiny):
    before_table = widget.table.value
    widget.slider.value = 4.0  # on the grid: redraw only
    assert list(widget.curve_fig.data[1].x) == [4.0]
    widget.slider.value = 2.5  # off the grid: one more pass, then the curve holds it too
    widget.runner.wait(60)
    assert widget.runner.last_error is None
    assert list(widget.curve_fig.data[1].x) == [2.5] and 2.5 in widget.curve_fig.data[0].x
    expect = sweep_heads(tiny, RECORDS, [widget.head], [2.5])
    assert widget.curve_fig.data[1].y[0] == pytest.approx(expect[C.TARGET_WINS].mean())
    p_target = np.exp(expect[C.TARGET_LOGPROB].iloc[0])
    assert f"{p_target:.3f}" in widget.table.value and widget.table.value != before_table


def test_click_selects_a_head_and_recomputes_the_curve(widget, tiny):
    target = (0, 3) if widget.head != (0, 3) else (1, 0)
    widget._clicked(widget.heat_fig.data[0], Points(point_inds=[target], xs=[target[1]], ys=[target[0]],
                                                    trace_name="", trace_index=0), None)
    widget.runner.wait(60)
    assert widget.head == target
    assert (widget.heat_fig.data[1].y[0], widget.heat_fig.data[1].x[0]) == target
    assert f"L{target[0]}H{target[1]}" in widget.curve_fig.layout.title.text
    expect = sweep_summary(sweep_heads(tiny, RECORDS, [target], [-2.0, 0.0, 1.0, 4.0]))
    assert np.allclose(widget.curve_fig.data[0].y, expect[C.TARGET_RATE])


def test_switch_shares_the_intervention(tiny):
    state = SharedState()
    w = HeadsWidget(tiny, RECORDS, state=state, grid=(0.0, 1.0))
    w.runner.wait(60)
    assert state.apply_intervention is False and state.heads == {}
    w.slider.value = 0.0
    w.apply.value = True
    assert state.apply_intervention is True and state.heads == {w.head: 0.0}
    w.slider.value = 1.0
    assert state.heads == {w.head: 1.0}
    w.apply.value = False
    assert state.apply_intervention is False


def test_prompt_map_follows_the_shared_selection(widget, tiny):
    widget.state.selected_item = "short"
    assert widget.prompt.value == "short"
    one = head_attribution(tiny, [r for r in RECORDS if r.id == "short"])
    z = np.asarray(widget.heat_fig.data[0].z)
    assert np.allclose(z, one.pivot_table(index=C.LAYER, columns=C.HEAD, values=C.ATTRIBUTION).to_numpy(), atol=1e-6)
    assert "background:#fff3b0" in widget.table.value


def test_given_attribution_is_not_recomputed(tiny):
    frame = head_attribution(tiny, RECORDS)
    calls = []
    handle = tiny.parts.base_model().register_forward_hook(lambda m, a, o: calls.append(a))
    try:
        w = HeadsWidget(tiny, RECORDS, attribution=frame, grid=(0.0, 1.0))
        w.runner.wait(60)
    finally:
        handle.remove()
    assert w.runner.last_error is None and len(calls) == 1  # the sweep's single batched pass
    assert np.allclose(np.asarray(w.heat_fig.data[0].z),
                       frame.pivot_table(index=C.LAYER, columns=C.HEAD, values=C.ATTRIBUTION).to_numpy())
