"""Every view's "Show code", run in a fresh Python process, gives the numbers the view shows: with
non-default controls in every view, an edited item, and an intervention applied from the Heads tab."""

from __future__ import annotations

import html
import json

from tests.snippets import close, run_snippets
from tests.unit.test_dashboard import HEADS, saved_tiny, settle
from widgets.dashboard import Dashboard
from widgets.registry import VIEWS


def test_every_views_code_reproduces_its_numbers_in_a_fresh_process(tmp_path):
    d = Dashboard(start=False, dataset="mmlu", n_items=6, model=str(saved_tiny(tmp_path / "tiny")))
    d.load()
    d.runner.wait(60)
    d.data.item.value = d.data.items[1].id  # an edit the code must replay
    d.data.question.value = "What is the capital of Italy?"
    assert len({i.metadata["subject"] for i in d.data.items}) == 2  # two groups for "group by"
    d.data.apply.click()
    heads = settle(d, "heads")  # the intervention, set in the Heads tab: L1H0 x 0, applied to the other views
    heads.select_head(1, 0)
    heads.runner.wait(120)
    heads.slider.value = 0.0
    heads.apply.value = True
    heads.runner.wait(120)
    assert d.state.applied() == HEADS
    controls = {
        "attentiveness": dict(format="string", group="subject", metric="accuracy"),
        "permutation": dict(orders="all", labels="1234", template="Q: … A:", group="subject",
                            metric="consistency"),
        "heads": dict(slider=2.0),
        "calibration": dict(bins=4, strategy="quantile", recalibration="temperature", source="prob",
                            group="answer", metric="brier"),
        "chain": dict(comparison="letters vs string"),
    }
    shown, codes = {}, {}
    for v in sorted(VIEWS, key=lambda v: v.key == "heads"):  # heads last: its slider moves the applied scaling
        w = settle(d, v.key)
        for name, value in controls[v.key].items():
            getattr(w, name).value = value
            w.runner.wait(120)
        if v.key == "heads":
            w.select_head(0, 2)
            w.runner.wait(120)
        assert w.up_to_date() and w.condition == "fresh", (v.key, w.note.value)
        shown[v.key], codes[v.key] = w.shown_numbers(), w.code()
        assert json.loads(html.unescape(w.numbers_tag.value.split("data-numbers='")[1].split("'")[0])) is not None
    for key in ("attentiveness", "permutation", "calibration", "chain"):
        assert "with scale_heads(model, {(1, 0): 0.0}):" in codes[key], codes[key]
    assert "items[1] = explorer.Item(" in codes["permutation"] and "'1234'" in codes["permutation"]
    ran = run_snippets(codes, tmp_path, {"LM_EXPLORER_RESULTS": str(tmp_path / "fresh.sqlite")})
    for key in codes:
        close(shown[key], ran[key], key)
