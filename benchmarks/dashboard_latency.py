"""Latency of the dashboard as a user meets it, against the targets (the frame: controls, tabs and a progress
line, on screen within 3 s of opening the page, cold or warm; interactive within 5 s; a cached control change
updating its plot within 0.3 s), for this checkout and optionally a baseline checkout measured in the same run
(e.g. the code before a change), with the ratio of the two.

    .venv/bin/python benchmarks/dashboard_latency.py [--baseline DIR] [--repeats 3] [--warm 75]

Each run starts ``lm-explorer demo`` (what ``make demo`` runs, the summary included) from the checkout, on a
free port, with a fresh result cache, and drives Debian's Chromium through Playwright, offline, on the
bundled model:

- ``page_to_frame_s``: from ``page.goto`` to the frame on screen (the data panel, the tab bar with every
  tab, the model's progress line);
- ``page_to_interactive_s``: from ``page.goto`` to the first tab's plot holding all 12 items with its work
  done, for a page opened as soon as the server answers (``cold``: it takes the spare pre-heated kernel), a
  page opened as soon as that one is interactive (``second``: a visitor arriving before the demo makes its next
  spare, 30 s after a page took one), a page opened ``--warm`` seconds after that (``warm``: what a user who
  opens the page once the demo is up meets; the spare is ready), and for this checkout also a page of a
  demo started with ``--no-spare`` (``fresh``: no pre-heated kernel at all, the kernel starts for the page, as
  on Binder);
- ``cached_control_to_plot_s``: the median, over four clicks between two formats already scored, from the
  click to the first change of the plot's data.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.servers import free_port, isolated_env, local_page, server  # noqa: E402

TARGETS = {"page_to_frame_s": 3.0, "page_to_interactive_s": 5.0, "cached_control_to_plot_s": 0.3}
FRAME = ("() => !!document.querySelector('.lmx-data') && !!(document.querySelector('.lmx-message') || {}).innerText"
         " && [...document.querySelectorAll('.lm-TabBar-tab, .p-TabBar-tab')].length >= 5")  # the line says what runs
FIRST_PLOT = "() => { const d = document.querySelector('.js-plotly-plot'); return d ? JSON.stringify(d.data) : ''; }"
FULL = ("() => { const d = document.querySelector('.js-plotly-plot');"
        " return !!d && (d.data || []).some(t => (t.y || []).length === 12); }")


def wait_until(page, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout} s")
        page.wait_for_timeout(20)


def open_page(page, port: int, label: str, out: dict[str, float]) -> None:
    """Open the dashboard; the seconds to its frame and to an interactive first tab go to ``out``."""
    opened = time.monotonic()
    page.goto(f"http://127.0.0.1:{port}/", timeout=300_000, wait_until="commit")
    wait_until(page, lambda: page.evaluate(FRAME), 600, "the frame")
    out[f"page_to_frame_{label}_s"] = time.monotonic() - opened
    tab = page.locator(".lm-TabPanel-tabContents, .widget-tab-contents").first
    wait_until(page, lambda: page.evaluate(FULL) and tab.get_by_text("done in").count() > 0
               and tab.get_by_text("running…").count() == 0, 600, "interactive first tab")
    out[f"page_to_interactive_{label}_s"] = time.monotonic() - opened


def fresh_kernel_run(checkout: Path, home: Path) -> dict[str, float]:
    """A page of a demo with no pre-heated kernel (``--no-spare``): its kernel starts when it opens."""
    port = free_port()
    cmd = [sys.executable, "-m", "explorer.cli.main", "demo", f"--port={port}", "--items=12", "--no-spare"]
    env = {**isolated_env(home), "LM_EXPLORER_RESULTS": str(home / "results.sqlite"), "PYTHONPATH": str(checkout)}
    out: dict[str, float] = {}
    with server(cmd, cwd=checkout, env=env, log=home / "demo-fresh.log", timeout=600,
                ready_url=f"http://127.0.0.1:{port}/voila/static/"), local_page([]) as page:
        open_page(page, port, "fresh", out)
    return out


def one_run(checkout: Path, home: Path, warm_s: float) -> dict[str, float]:
    port = free_port()
    cmd = [sys.executable, "-m", "explorer.cli.main", "demo", f"--port={port}", "--items=12"]
    env = {**isolated_env(home), "LM_EXPLORER_RESULTS": str(home / "results.sqlite"), "PYTHONPATH": str(checkout)}
    errors: list[str] = []
    out: dict[str, float] = {}
    started = time.monotonic()
    with server(cmd, cwd=checkout, env=env, log=home / "demo.log", timeout=600,
                ready_url=f"http://127.0.0.1:{port}/voila/static/"), local_page(errors) as page:
        out["demo_to_server_s"] = time.monotonic() - started
        for label, pause in (("cold", 0.0), ("second", 0.0), ("warm", warm_s)):
            time.sleep(pause)
            if label != "cold":
                page = page.context.new_page()
            open_page(page, port, label, out)
        tab = page.locator(".lm-TabPanel-tabContents, .widget-tab-contents").first
        clicks = []
        for name in ("string", "letters", "string", "letters", "string"):  # the first scores; the rest are cached
            before = page.evaluate(FIRST_PLOT)
            clicked = time.monotonic()
            page.get_by_role("button", name=name, exact=True).first.click()
            wait_until(page, lambda: page.evaluate(FIRST_PLOT) != before, 300, "plot change")
            clicks.append(time.monotonic() - clicked)
            wait_until(page, lambda: tab.get_by_text("running…").count() == 0, 600, "work done")
        out["cached_control_to_plot_s"] = statistics.median(clicks[1:])
    out["console_errors"] = float(len(errors))
    return out


def measure(checkouts: list[Path], repeats: int, warm_s: float) -> list[dict[str, float]]:
    """Medians per checkout, the checkouts' runs alternating (a load that comes and goes hits both alike)."""
    runs: list[list[dict[str, float]]] = [[] for _ in checkouts]
    for _ in range(repeats):
        for checkout, done in zip(checkouts, runs):
            with tempfile.TemporaryDirectory() as home:
                done.append(one_run(checkout, Path(home), warm_s))
                if checkout == ROOT:  # --no-spare is this checkout's
                    done[-1].update(fresh_kernel_run(checkout, Path(home)))
            print(checkout, {k: round(v, 3) for k, v in done[-1].items()}, f"load {os.getloadavg()[0]:.2f}",
                  flush=True)
    return [{key: statistics.median(r[key] for r in done) for key in done[0]} for done in runs]  # first's keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to measure in the same run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warm", type=float, default=75.0,
                        help="seconds between the second page being interactive and the third (warm) one")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}", flush=True)
    this, *rest = measure([ROOT, *([args.baseline] if args.baseline else [])], args.repeats, args.warm)
    base = rest[0] if rest else None
    print(f"\n{'median of ' + str(args.repeats):>34} {'this':>8} {'baseline':>9} {'this/base':>9} {'target':>7}")
    for key, value in this.items():
        target = TARGETS.get(key) or TARGETS.get(re.sub("_(cold|second|warm|fresh)_s$", "_s", key))
        b = base.get(key, float("nan")) if base else float("nan")
        ratio = value / b if base and b else float("nan")
        print(f"{key:>34} {value:8.2f} {b:9.2f} {ratio:9.2f} {'' if target is None else f'{target:7.1f}'}")
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
