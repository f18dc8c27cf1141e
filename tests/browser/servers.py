"""Start a Voila or JupyterLab server on 127.0.0.1 in its own process group, and a Chromium page
that can reach nothing but 127.0.0.1 and records console errors."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path) -> dict[str, str]:
    """Jupyter, IPython and XDG state in a temporary folder; offline hub; shared model cache."""
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "XDG_CONFIG_HOME",
                "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[var] = str(home / var.lower())
    env["HF_HUB_OFFLINE"] = "1"
    return env


@contextlib.contextmanager
def server(cmd: list[str], *, cwd: Path, env: dict[str, str], ready_url: str, log: Path,
           timeout: float = 120) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` until the block ends; ready once ``ready_url`` answers with any HTTP status. A block that
    fails prints the end of the server's log (the kernel's errors are there)."""
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(ready_url, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # any HTTP status means it is up
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server not up after {timeout} s:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.3)
        try:
            yield proc
        except BaseException:
            print(f"--- the server's log, last 6000 characters ({log}) ---\n{log.read_text()[-6000:]}", flush=True)
            raise
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def kernels(proc: subprocess.Popen) -> int:
    """How many ipykernel processes the server ``proc`` runs now."""
    import psutil  # noqa: PLC0415 - the test environment has it (jupyter_server depends on it)

    def is_kernel(p: psutil.Process) -> bool:
        try:
            return p.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(p.cmdline())
        except psutil.Error:  # gone (or a zombie) between listing and reading: a kernel shut down
            return False

    return sum(is_kernel(p) for p in psutil.Process(proc.pid).children(recursive=True))


@contextlib.contextmanager
def local_page(errors: list[str], outside: list[str] | None = None) -> Iterator:
    """A Chromium page whose requests off 127.0.0.1 are aborted (and listed in ``outside``); console errors
    go to ``errors``."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            def route(r) -> None:
                if r.request.url.startswith("http://127.0.0.1") or r.request.url.startswith("data:"):
                    r.continue_()
                else:
                    if outside is not None:
                        outside.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            blocked: set[str] = set()
            page.on("requestfailed", lambda r: blocked.add(r.url) if not r.url.startswith("http://127.0.0.1") else None)

            def console(msg) -> None:
                if msg.type != "error":
                    return
                url = (msg.location or {}).get("url", "")
                if url in blocked or (url and not url.startswith("http://127.0.0.1")):
                    return  # a request off this machine that we aborted ourselves (a CDN font sheet)
                errors.append(f"console: {msg.text}")

            page.on("console", console)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            yield page
        finally:
            browser.close()
