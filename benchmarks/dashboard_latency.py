"""Latency of the dashboard as a user meets it: from `lm-explorer demo` (what `make demo` runs,
venv already built) to an interactive page, and from a control change to updated plots.

    .venv/bin/python benchmarks/dashboard_latency.py [--repeats 3]

Drives Debian's Chromium through Playwright, offline, on the bundled model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.servers import free_port, isolated_env, local_page, server  # noqa: E402

PLOT_DATA = "() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => JSON.stringify(d.data || []))"


def wait_until(page, predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("page did not get there")
        page.wait_for_timeout(50)


def one_run(home: Path) -> dict[str, float]:
    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "lm-explorer"), "demo", f"--port={port}"]
    errors: list[str] = []
    start = time.monotonic()
    env = {**isolated_env(home), "LM_EXPLORER_RESULTS": str(home / "results.sqlite")}  # cold result cache
    with server(cmd, cwd=ROOT, env=env, log=home / "demo.log", timeout=300,
                ready_url=f"http://127.0.0.1:{port}/voila/static/"), local_page(errors) as page:
        served = time.monotonic()
        page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
        tab = page.locator(".lm-TabPanel-tabContents, .widget-tab-contents").first
        wait_until(page, lambda: tab.get_by_text("done in").count() > 0, 240)
        interactive = time.monotonic()
        first, done = [], []
        for name in ("string", "cloze", "letters"):  # letters again: served from the result cache
            before = page.evaluate(PLOT_DATA)[0]
            clicked = time.monotonic()
            page.get_by_role("button", name=name, exact=True).first.click()
            wait_until(page, lambda: page.evaluate(PLOT_DATA)[0] != before, 120)
            first.append(time.monotonic() - clicked)
            wait_until(page, lambda: tab.get_by_text("running…").count() == 0, 240)
            done.append(time.monotonic() - clicked)
    return {"demo_to_server_s": served - start, "demo_to_interactive_s": interactive - start,
            "control_to_first_update_s": statistics.median(first[:2]), "control_to_all_plots_s":
            statistics.median(done[:2]), "control_cached_all_plots_s": done[2], "console_errors": len(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as home:
            runs.append(one_run(Path(home)))
            print(runs[-1], flush=True)
    for key in runs[0]:
        print(f"{key:>28}: median {statistics.median(r[key] for r in runs):.2f}")


if __name__ == "__main__":
    main()
