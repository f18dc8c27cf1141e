"""The dashboard in a real browser, as ``lm-explorer demo`` serves it (Voila, pre-heated kernel, the bundled
model): every tab is driven (controls, a failing run, the intervention banner in every tab, cancel, upload,
edit), the plots follow the controls, every "Show code" reproduces its tab's numbers in a fresh process,
nothing is asked of another host, the console stays clean, screenshots of each tab at 1400 and 1000 px are
written to a folder the test prints, and the page's kernel is culled once the page is closed."""

from __future__ import annotations

import html
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from explorer.cli.commands.demo import DASHBOARD, voila_command, voila_env
from tests.browser.servers import CHROMIUM, free_port, isolated_env, kernels, local_page, server
from tests.snippets import ROOT, close, run_snippets

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium")]

TABS = {"attentiveness": "Attentiveness", "permutation": "Order bias", "heads": "Heads", "calibration": "Calibration",
        "chain": "Chain"}
PLOTS = "els => els.map(d => (d.data || []).map(t => [t.name, t.x, t.y]))"
# Every plot's svg fits its box, and its legend and colour bar fit the svg (no clipped text).
OVERFLOW = """els => els.flatMap(d => {
  const box = d.getBoundingClientRect(), svg = d.querySelector('.main-svg');
  if (!svg || box.width === 0) return [];
  const s = svg.getBoundingClientRect(), out = [];
  if (s.right > box.right + 2) out.push(`svg ${s.right} > box ${box.right}`);
  for (const part of d.querySelectorAll('.legend, .colorbar, .gtitle, .xtitle, .ytitle')) {
    const r = part.getBoundingClientRect();
    if (r.width && (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1))
      out.push(`${part.getAttribute('class')} [${r.left|0}, ${r.right|0}] x [${r.top|0}, ${r.bottom|0}] outside `
               + `[${s.left|0}, ${s.right|0}] x [${s.top|0}, ${s.bottom|0}]`);
  }
  return out.map(m => (d.closest('[class*=lmx-view]')?.className.match(/lmx-view-\\w+/) || ['?'])[0] + ': ' + m);
})"""


def wait_for(page, predicate, timeout: float, what: str | Callable[[], str]):
    """``predicate()``'s first truthy value within ``timeout`` s; ``what`` (or what it returns, read at the
    timeout, to say what the page showed) names the wait in the error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")


class Tab:
    """One view on the page, found by its ``lmx-view-KEY`` class."""

    def __init__(self, page, key: str) -> None:
        self.page, self.key = page, key
        self.root = page.locator(f".lmx-view-{key}")

    def open(self) -> Tab:
        self.page.get_by_role("tab", name=TABS[self.key]).click()
        self.root.wait_for(state="visible", timeout=60_000)
        return self

    def plots(self) -> list:
        return self.root.locator(".js-plotly-plot").evaluate_all(PLOTS)

    def numbers(self):
        tag = self.root.locator(".lmx-numbers")
        raw = tag.first.get_attribute("data-numbers") if tag.count() else None
        return json.loads(html.unescape(raw)) if raw else None

    def fresh(self) -> bool:
        """Results of the current controls on screen: no stale, error or partial mark, work done."""
        classes = self.root.locator(".widget-vbox").evaluate_all("els => els.map(e => e.className).join(' ')")
        busy = self.root.get_by_text("running…").count() > 0
        return not busy and "lmx-stale" not in classes and "lmx-error" not in classes and self.numbers() is not None

    def settle(self, timeout: float = 300) -> Tab:
        """Wait for :meth:`fresh`, then for the figures to hold still: plotly applies the kernel's update to a
        figure a while after the numbers beside it arrive (seconds, on a loaded machine)."""
        wait_for(self.page, self.fresh, timeout, f"{self.key} to show results of its controls")
        last: list = [None]

        def still() -> bool:
            now = self.plots()
            held, last[0] = now == last[0], now
            if not held:
                self.page.wait_for_timeout(400)
            return held

        wait_for(self.page, still, 60, f"{self.key}'s figures to hold still")
        return self

    def select(self, label: str, option: str) -> None:
        self.root.locator(f".widget-dropdown:has(label:text-is('{label}')) select").first.select_option(label=option)

    def banner(self) -> str:
        return " ".join(self.root.locator(".lmx-banner").all_inner_texts())

    def set_slider(self, label: str, value: str, timeout: float = 60) -> None:
        """Type ``value`` into the readout of the slider ``label`` and press Enter, again until the readout shows
        it (a click landing while the widget re-renders leaves the old value)."""
        readout = self.root.locator(f".widget-slider:has(label:text-is('{label}')) .widget-readout")
        deadline = time.monotonic() + timeout
        while readout.inner_text().strip() != value:
            if time.monotonic() > deadline:
                raise AssertionError(f"the {label} slider shows {readout.inner_text()!r} after typing {value!r}")
            readout.click()
            self.page.keyboard.press("Control+A")
            self.page.keyboard.type(value)
            self.page.keyboard.press("Enter")
            self.page.wait_for_timeout(500)

    def code(self) -> str:
        self.root.get_by_role("button", name="Show code").click()
        area = self.root.locator(".lmx-code textarea")
        wait_for(self.page, lambda: area.input_value().startswith("import"), 30, f"{self.key}'s code")
        code = area.input_value()
        self.root.get_by_role("button", name="Show code").click()  # hide it again
        return code

    def shoot(self, folder: Path, width: int) -> None:
        """The page at ``width`` x 1000 with this tab scrolled to the top, and the whole tab as one image."""
        self.page.set_viewport_size({"width": width, "height": 1000})
        self.page.wait_for_timeout(800)  # plotly relayouts to the new width
        self.root.evaluate("e => e.scrollIntoView()")
        self.page.screenshot(path=str(folder / f"{self.key}-{width}.png"))
        # the whole tab: a viewport as tall as the page (the page scrolls inside, not the document)
        tall = int(self.page.evaluate("() => Math.max(...Array.from(document.querySelectorAll('body, body *'))"
                                      ".map(e => e.scrollHeight))")) + 200
        self.page.set_viewport_size({"width": width, "height": min(tall, 8000)})
        self.page.wait_for_timeout(300)
        self.root.screenshot(path=str(folder / f"{self.key}-{width}-whole-tab.png"))
        self.page.set_viewport_size({"width": width, "height": 1000})


def screenshots_folder() -> Path:
    folder = Path(os.environ.get("LMX_SCREENSHOTS") or ROOT / ".cache" / "screenshots" / time.strftime("%Y%m%d-%H%M%S"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_dashboard_in_a_real_browser(tmp_path):
    port, errors, outside = free_port(), [], []
    shots = screenshots_folder()
    print(f"\nscreenshots of every tab at 1400x1000 and 1000x1000 go to {shots}", flush=True)
    results = tmp_path / "results.sqlite"
    env = {**voila_env(isolated_env(tmp_path), port), "LM_EXPLORER_RESULTS": str(results)}
    cmd = voila_command(DASHBOARD, port, cull_idle_s=10, cull_interval_s=3)
    timings = {}
    with server(cmd, cwd=DASHBOARD.parent, env=env, log=tmp_path / "voila.log",
                ready_url=f"http://127.0.0.1:{port}/voila/static/") as proc, local_page(errors, outside) as page:
        opened = time.monotonic()
        page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
        page.get_by_text("lm-explorer").first.wait_for(timeout=120_000)
        timings["page_to_frame_s"] = time.monotonic() - opened
        att = Tab(page, "attentiveness").settle()
        timings["page_to_interactive_s"] = time.monotonic() - opened
        assert att.plots()[0][0][0] == "choice A" and len(att.plots()[0][0][2]) == 12  # letters, 12 items

        # a control: the plots follow it (cloze: numbered choices); back to letters, from the cache
        page.get_by_role("button", name="cloze", exact=True).first.click()
        wait_for(page, lambda: att.plots()[0][0][0] == "choice 1", 300, "the cloze bars")
        att.settle()
        before = att.plots()[0]
        clicked = time.monotonic()
        page.get_by_role("button", name="letters", exact=True).first.click()
        wait_for(page, lambda: att.plots()[0] != before, 60, "the letters bars again")
        timings["cached_control_to_plot_s"] = time.monotonic() - clicked
        assert att.settle().plots()[0][0][0] == "choice A"
        att.shoot(shots, 1400)

        # order bias: the position bars follow the label set (1234: numbers, scored as continuations on SmolLM2
        # whose " 1" is two tokens; abcd: lower-case letters)
        perm = Tab(page, "permutation").open().settle()
        assert perm.plots()[0][0][1] == ["A", "B", "C", "D"]
        perm.select("labels", "1234")
        wait_for(page, lambda: perm.plots()[0][0][1] == ["1", "2", "3", "4"], 300, "numbered positions")
        perm.settle()
        perm.select("labels", "abcd")
        wait_for(page, lambda: perm.plots()[0][0][1] == ["a", "b", "c", "d"], 300, "lettered positions")
        perm.settle()
        # cancel a long run: the partial results say which settings they belong to
        perm.select("orders", "all orders (k!)")
        wait_for(page, lambda: perm.root.get_by_text("running…").count() > 0, 60, "the run to start")
        perm.root.get_by_role("button", name="Cancel").first.click()
        note = perm.root.locator(".lmx-note-partial, .lmx-note-error")
        wait_for(page, lambda: note.count() > 0, 120, "the cancel note")
        said = note.first.inner_text()  # partial results of "all", or (cancelled before any) those of "cyclic"
        assert said.startswith("Cancelled") and ("partial and belong to orders all" in said or
                                                 "belong to the earlier settings orders cyclic" in said), said
        perm.select("orders", "cyclic shifts (k)")
        perm.settle()
        perm.shoot(shots, 1400)

        # a failing run: the chain of scaled heads before any head is scaled clears the tab and says why
        chain = Tab(page, "chain").open().settle()
        chain.select("compare", "heads scaled (Heads tab) vs not")
        error = chain.root.locator(".lmx-note-error")
        wait_for(page, lambda: error.count() > 0, 60, "the comparison's error")
        assert "no heads are scaled yet" in error.inner_text() and "comparison heads scaled" in error.inner_text()
        scatter, agreement = chain.plots()
        assert all(not t[1] for t in scatter[0::3] + agreement)  # no item and no correlation left: cleared
        chain.select("compare", "letters vs cloze")
        chain.settle()

        # heads: on the loaded items; scale the strongest head by 0 and hand it to every other view
        heads = Tab(page, "heads").open().settle()
        assert heads.numbers()["n_prompts"] == 12 and "loaded items" in heads.root.inner_text()
        heads.set_slider("factor", "0.0")
        wait_for(page, lambda: heads.numbers() and "×0:" in heads.root.inner_text(), 300,
                 lambda: f"factor 0; the tab says {heads.root.inner_text()[:600]!r}")
        heads.root.get_by_role("button", name="apply to other views").click()
        wait_for(page, lambda: "applied to every other view" in heads.banner(), 60, "the heads banner")
        head = "L{}H{}×0".format(*heads.numbers()["head"])
        heads.settle().shoot(shots, 1400)
        for key in ("attentiveness", "permutation", "calibration", "chain"):
            tab = Tab(page, key).open().settle()
            assert head in tab.banner() and "Intervention" in tab.banner(), (key, tab.banner())
            if key in ("calibration", "chain"):
                tab.shoot(shots, 1400)

        # every "Show code" reproduces its tab's numbers in a fresh process
        codes, shown = {}, {}
        for key in TABS:
            tab = Tab(page, key).open().settle()
            codes[key], shown[key] = tab.code(), tab.numbers()
            if key != "heads":
                assert "with scale_heads(model" in codes[key], key
        ran = run_snippets(codes, tmp_path, {"LM_EXPLORER_RESULTS": str(results)})
        for key in TABS:
            close(shown[key], ran[key], key, tol=1e-5)

        # upload a file, then edit an item: the open view follows, keeping its controls
        upload = tmp_path / "mine.jsonl"
        upload.write_text("\n".join(json.dumps({"question": f"What is the capital of {c}?", "choices": choices,
                                                "answer": 0}) for c, choices in
                                    (("France", ["Paris", "Rome", "Berlin"]), ("Italy", ["Rome", "Paris", "Oslo"]),
                                     ("Spain", ["Madrid", "Lisbon", "Rome"]))))
        perm = Tab(page, "permutation").open()
        with page.expect_file_chooser() as chooser:
            page.locator(".lmx-data .widget-upload").first.click()
        chooser.value.set_files(str(upload))
        wait_for(page, lambda: "mine.jsonl" in page.locator(".lmx-data").inner_text(), 60, "the upload")
        wait_for(page, lambda: perm.fresh() and len(perm.plots()[2][0][2]) == 3, 300, "the uploaded items")
        assert perm.plots()[0][0][1] == ["a", "b", "c"]  # the labels control kept (abcd), k = 3
        question = page.locator(".lmx-data .widget-text:has(label:text-is('question')) input")
        question.fill("What is the capital city of France?")
        page.locator(".lmx-data").get_by_role("button", name="Apply edit").click()
        wait_for(page, lambda: "capital city of France" in perm.settle().code(), 120, "the edit in the code")
        assert perm.plots()[0][0][1] == ["a", "b", "c"]  # the controls stay through an edit too

        # layout at 1000 px, and nothing clipped at either width
        clipped = []
        for width in (1400, 1000):
            for key in TABS:
                tab = Tab(page, key).open().settle()
                if width == 1000:
                    tab.shoot(shots, 1000)
                else:
                    page.set_viewport_size({"width": 1400, "height": 1000})
                page.wait_for_timeout(800)  # plotly's relayout to the tab's width
                clipped += [f"{width}px {m}" for m in tab.root.locator(".js-plotly-plot").evaluate_all(OVERFLOW)]
        assert not clipped, clipped

        page.close()  # the page is gone: its kernel goes once idle (the pre-heated spare stays)
        closed = time.monotonic()
        wait_for_kernels = lambda: kernels(proc) <= 1  # noqa: E731
        deadline = time.monotonic() + 120
        while not wait_for_kernels() and time.monotonic() < deadline:
            time.sleep(1)
        timings["closed_page_to_kernel_gone_s"] = time.monotonic() - closed
        assert wait_for_kernels(), f"{kernels(proc)} kernels still running 120 s after the page closed"

    print(f"\nscreenshots of every tab at 1400 and 1000 px: {shots}\ntimings: {json.dumps(timings)}")
    (shots / "timings.json").write_text(json.dumps(timings, indent=1))
    assert not outside, outside
    assert not errors, errors
