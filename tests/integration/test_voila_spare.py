"""The demo's Voila, serving a one-cell notebook: a page opened while the spare kernel waits out its refill
delay gets a kernel of its own at once (Voila alone made it wait out the delay: 30 s in the demo), and the
spare is still made after the delay."""

from __future__ import annotations

import http.client
import json
import time

from explorer.cli.commands.demo import voila_command, voila_env
from tests.browser.servers import free_port, isolated_env, kernels, server

DELAY_S = 40


def opened(port: int) -> tuple[float, str]:
    """Seconds to the whole page of a GET /, and the page."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", "/")
    page = conn.getresponse().read().decode()
    return time.monotonic() - started, page


def test_a_page_opened_before_the_spare_is_made_does_not_wait_for_it(tmp_path):
    notebook = tmp_path / "hello.ipynb"
    notebook.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": ["print('hello ' + 'from the kernel')"]}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    port = free_port()
    cmd = voila_command(notebook, port, cull_idle_s=600, cull_interval_s=300, refill_delay_s=DELAY_S)
    with server(cmd, cwd=tmp_path, env=voila_env(isolated_env(tmp_path), port), log=tmp_path / "voila.log",
                ready_url=f"http://127.0.0.1:{port}/voila/static/") as proc:
        deadline = time.monotonic() + 120
        while "Kernel pool of" not in (tmp_path / "voila.log").read_text():  # the first spare is ready
            assert time.monotonic() < deadline, (tmp_path / "voila.log").read_text()
            time.sleep(0.2)
        first, page = opened(port)  # takes the spare; the next one is due DELAY_S later
        assert "hello from the kernel" in page and first < 10, first
        second, page = opened(port)
        assert "hello from the kernel" in page
        assert second < DELAY_S / 2, f"the second page took {second:.1f} s: it waited for the spare's refill delay"
        assert kernels(proc) == 2  # the two pages' own, no spare yet
        refilled_by = time.monotonic() + DELAY_S + 60
        while kernels(proc) < 3:
            assert time.monotonic() < refilled_by, "no spare made after the delay"
            time.sleep(0.5)
