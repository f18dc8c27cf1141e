"""JupyterLab smoke test: open a notebook in a real browser, run it, and see its widgets render."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

from tests.browser.servers import CHROMIUM, free_port, isolated_env, local_page, server

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium")]

TOKEN = "lm-explorer-smoke"
CODE = ("import ipywidgets as W\nimport plotly.graph_objects as go\n"
        "W.VBox([W.IntSlider(value=7, description='smoke'), go.FigureWidget(go.Bar(x=['A', 'B'], y=[1, 2]))])")


def test_lab_renders_a_notebooks_widgets(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "smoke.ipynb")
    env = isolated_env(tmp_path / "home")
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"checkForUpdates": False,
                                                                          "fetchNews": "false"}))
    port = free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           "--ServerApp.allow_root=True", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={tmp_path}"]
    errors: list[str] = []
    with server(cmd, cwd=tmp_path, env=env, log=tmp_path / "lab.log",
                ready_url=f"http://127.0.0.1:{port}/api/status"), local_page(errors) as page:
        page.goto(f"http://127.0.0.1:{port}/lab/tree/smoke.ipynb?token={TOKEN}", timeout=120_000)
        cell = page.locator(".jp-Notebook .jp-Cell").first
        cell.wait_for(timeout=120_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)  # the kernel is connected
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector(".jp-OutputArea .widget-slider", timeout=120_000)
        page.wait_for_selector(".jp-OutputArea .js-plotly-plot", timeout=120_000)
        assert page.locator(".jp-OutputArea .widget-readout").first.inner_text().strip() == "7"
    assert not errors, errors
