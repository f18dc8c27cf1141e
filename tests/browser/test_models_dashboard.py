"""Two models side by side in the dashboard, in a real browser: SmolLM2-135M and Gemma 3 270M (both bundled),
served by Voila with a policy that holds three models. Every tab shows one panel per model, each with its
results, under a header in the model's colour, the same colour in every tab; Show code in the second panel
names its model; removing the second model returns every tab to one panel. Screenshots of each tab go to the
folder the test prints."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from explorer.cli.commands.demo import DASHBOARD, voila_command, voila_env
from explorer.serve import served
from tests.browser.servers import CHROMIUM, free_port, isolated_env, local_page, server
from tests.browser.test_voila_dashboard import TABS, screenshots_folder, wait_for
from widgets.side_by_side import MODEL_COLOURS

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium")]

MODELS = ("smollm2-135m", "gemma-3-270m")
# per panel of the open tab: [header text, header colour, results shown (numbers, no running mark, plots with data)]
PANELS = """root => [...root.querySelectorAll('.lmx-panel:not(.lmx-removed)')].map(p => {
  const head = p.querySelector('[class*=lmx-model-] .widget-html-content > div');
  const tag = p.querySelector('.lmx-numbers');
  const plots = [...p.querySelectorAll('.js-plotly-plot')].filter(d => (d.data || []).some(t => (t.y || t.z || []).length));
  const seen = !!head && head.offsetParent !== null;  // a model alone has its header hidden
  return [seen ? head.innerText.trim() : '', seen ? head.style.color : '', !!(tag && tag.getAttribute('data-numbers'))
          && !p.innerText.includes('running…') && plots.length > 0];
})"""


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_two_models_side_by_side_in_every_tab(tmp_path):
    port, errors = free_port(), []
    shots = screenshots_folder()
    print(f"\nscreenshots of every tab with two models go to {shots}", flush=True)
    policy = dataclasses.replace(served(), max_models=3)
    env = {**voila_env(isolated_env(tmp_path), port, policy), "LM_EXPLORER_RESULTS": str(tmp_path / "r.sqlite")}
    cmd = voila_command(DASHBOARD, port, spare=False, cull_idle_s=10, cull_interval_s=3)
    timings = {}
    with server(cmd, cwd=DASHBOARD.parent, env=env, log=tmp_path / "voila.log",
                ready_url=f"http://127.0.0.1:{port}/voila/static/", timeout=180), local_page(errors) as page:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
        page.locator(".lmx-view-attentiveness .lmx-numbers").first.wait_for(state="attached", timeout=300_000)
        box = page.locator(".widget-inline-hbox:has(label:text-is('compare with')) input").first
        box.fill(MODELS[1])
        started = time.monotonic()
        page.get_by_role("button", name="Add model", exact=True).click()
        for key, title in TABS.items():
            page.get_by_role("tab", name=title).click()
            root = page.locator(f".lmx-view-{key}")
            state = wait_for(page, lambda: (lambda p: p if len(p) == 2 and all(x[2] for x in p) else None)(
                root.evaluate(PANELS)), 600, f"both models' results in {key}")
            timings[f"{key}_s"] = time.monotonic() - started
            assert [s[0] for s in state] == list(MODELS), state  # each panel names its model
            assert [s[1] for s in state] == [rgb(MODEL_COLOURS[0]), rgb(MODEL_COLOURS[1])]  # fixed per model
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / f"two-models-{key}.png"))
            started = time.monotonic()
        second = page.locator(".lmx-view-chain .lmx-panel").nth(1)
        second.get_by_role("button", name="Show code").click()
        area = second.locator(".lmx-code textarea")
        wait_for(page, lambda: area.input_value().startswith("import"), 30, "the second panel's code")
        assert f"load_model({MODELS[1]!r})" in area.input_value()
        page.get_by_role("button", name=f"remove {MODELS[1]}").click()
        one = page.locator(".lmx-view-chain")
        wait_for(page, lambda: [s[0] for s in one.evaluate(PANELS)] == [""], 60, "one panel again, no header")
        assert one.evaluate(PANELS)[0][2]  # its results still on screen
    (shots / "two-models-timings.json").write_text(json.dumps(timings, indent=1))
    print("seconds until both panels showed results, per tab:", {k: round(v, 1) for k, v in timings.items()})
    assert not errors, errors
