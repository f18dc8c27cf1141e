"""The dashboard in a real browser: Voila serves it, Chromium runs a probe on the bundled model,
a control moves, the plot's data changes, and the console stays free of errors."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from explorer.cli.commands.demo import DASHBOARD, voila_command
from tests.browser.servers import CHROMIUM, free_port, isolated_env, local_page, server

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path(CHROMIUM).exists() or not shutil.which("voila")
                                                      and not Path(DASHBOARD).exists(), reason="needs Chromium")]

PLOT_DATA = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                      .map(d => JSON.stringify((d.data || []).map(t => [t.x, t.y, t.name])))"""


def _wait_for(page, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(250)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


CHAIN_POINTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                        .flatMap(d => (d.data || []).filter(t => t.name === 'log p_vocab(gold)'))
                        .map(t => (t.customdata || []).length)"""


def _chain_points(page) -> int:
    """Items drawn in the chain view's first panel (log p_vocab(gold)); 0 until it has drawn."""
    return max(page.evaluate(CHAIN_POINTS), default=0)


def test_dashboard_runs_a_probe_and_updates_on_a_control(tmp_path):
    port = free_port()
    errors: list[str] = []
    cmd = voila_command(DASHBOARD, port)
    with server(cmd, cwd=DASHBOARD.parent, env=isolated_env(tmp_path), log=tmp_path / "voila.log",
                ready_url=f"http://127.0.0.1:{port}/voila/static/"), local_page(errors) as page:
        start = time.monotonic()
        page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
        tab = page.locator(".lm-TabPanel-tabContents, .widget-tab-contents").first
        _wait_for(page, lambda: tab.get_by_text("done in").count() > 0, 240, "the first probe to finish")
        first = page.evaluate(PLOT_DATA)
        loaded_s = time.monotonic() - start
        assert first and "choice A" in first[0] and "everything else" in first[0], first  # mass bars, letters

        page.get_by_role("button", name="cloze", exact=True).first.click()
        clicked = time.monotonic()
        _wait_for(page, lambda: page.evaluate(PLOT_DATA)[0] != first[0], 120, "the plot to change")
        updated_s = time.monotonic() - clicked
        assert "everything else" in page.evaluate(PLOT_DATA)[0]  # the same bars, now for the cloze format
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        page.get_by_role("tab", name="Chain").click()  # the chain view: a scatter per link over the items
        opened = time.monotonic()
        points = _wait_for(page, lambda: _chain_points(page), 240, "the chain view's scatter to render")
        chain_s = time.monotonic() - opened
        assert points == 12, points  # one point per item of the built-in set, letters against cloze
        page.screenshot(path=str(tmp_path / "chain.png"), full_page=True)

    (tmp_path / "timings.json").write_text(json.dumps({"page_to_first_probe_s": loaded_s, "control_to_plot_s":
                                                       updated_s, "chain_tab_to_plot_s": chain_s}))
    print(f"\nVoila: page load to first probe result {loaded_s:.1f} s; control change to updated plot "
          f"{updated_s:.2f} s; chain tab to its plot {chain_s:.1f} s")
    assert not errors, errors
