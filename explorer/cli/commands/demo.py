"""``lm-explorer demo``: a diagnostics summary on the bundled model, then the dashboard in Voila."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from explorer import columns as C
from explorer.cli.common import add_model_argument, load_model
from explorer.errors import ExplorerError
from explorer.paths import cache_dir
from explorer.scoring.progress import tqdm_progress

NAME = "demo"
HELP = "print a diagnostics summary on the bundled model, then serve the dashboard with Voila"
DASHBOARD = Path(__file__).resolve().parents[3] / "notebooks" / "explorer.ipynb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--items", type=int, default=24, help="number of built-in capitals items (default 24)")
    parser.add_argument("--no-serve", action="store_true", help="print the summary only; do not start Voila")
    parser.add_argument("--port", type=int, default=8866, help="Voila's port on 127.0.0.1 (default 8866)")


TEMPLATES = Path(__file__).resolve().parents[3] / "widgets" / "share"  # holds voila/templates/lmx
CULL_IDLE_S, CULL_INTERVAL_S = 120, 30
REFILL_DELAY_S = 30  # the spare kernel starts this long after a page takes one: not while that page's work runs


def voila_command(notebook: Path, port: int, *, cull_idle_s: int = CULL_IDLE_S,
                  cull_interval_s: int = CULL_INTERVAL_S) -> list[str]:
    """How the dashboard is served: on 127.0.0.1 only; the ``lmx`` template (Voila's lab template without
    its CDN stylesheets: the page asks no other host for anything); one pre-heated kernel that has already
    run the notebook when a page opens (the dashboard builds every widget on the kernel's main thread, so
    the page's widget state is complete whenever it connects), replaced ``REFILL_DELAY_S`` after a page takes
    it (on a small machine a spare loading the model at once would halve the speed of the page's first
    results); a kernel whose page is gone (no connection) and that has been idle ``cull_idle_s`` seconds is
    shut down, checked every ``cull_interval_s``.
    Run it with :func:`voila_env`."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True", "--template=lmx", "--preheat_kernel=True",
            "--VoilaConfiguration.default_pool_size=1", f"--VoilaKernelManager.fill_delay={REFILL_DELAY_S}",
            f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
            f"--MappingKernelManager.cull_interval={cull_interval_s}",
            "--MappingKernelManager.cull_connected=False"]


PLOTLY_BUNDLE = "plotly-widgetbundle.js"


def template_root() -> Path:
    """A Jupyter data folder holding ``voila/templates/lmx``: the project's template files, and in its static
    folder a copy of plotly's widget bundle (Voila serves no link that leaves the folder), so the page loads
    that 5 MB module once, by URL, instead of once per figure inside each figure's widget state."""
    import plotly  # noqa: PLC0415 - the demo's own dependency

    root = cache_dir() / "voila-share"
    folder = root / "voila" / "templates" / "lmx"
    (folder / "static").mkdir(parents=True, exist_ok=True)
    source = TEMPLATES / "voila" / "templates" / "lmx"
    for f in source.iterdir():
        if f.is_file():
            shutil.copyfile(f, folder / f.name)
    copy = folder / "static" / PLOTLY_BUNDLE
    bundle = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    if not copy.is_file() or copy.stat().st_size != bundle.stat().st_size or copy.is_symlink():
        copy.unlink(missing_ok=True)
        shutil.copyfile(bundle, copy)
    return root


def voila_env(env: dict[str, str], port: int) -> dict[str, str]:
    """``env`` for Voila on ``port``: the ``lmx`` template on Jupyter's data path, and the URL of plotly's
    widget bundle for the kernels (``LM_EXPLORER_PLOTLY_ESM``, read by ``widgets._view.fig_widget``)."""
    path = os.pathsep.join(p for p in (str(template_root()), env.get("JUPYTER_PATH", "")) if p)
    url = f"http://127.0.0.1:{port}/voila/templates/lmx/static/{PLOTLY_BUNDLE}"
    return {**env, "JUPYTER_PATH": path, "HF_HUB_OFFLINE": env.get("HF_HUB_OFFLINE", "1"),
            "LM_EXPLORER_PLOTLY_ESM": url}


def summary(model_name: str | None, n_items: int) -> None:
    from explorer.items.builtin import builtin_items  # noqa: PLC0415 - heavy: not for --help
    from explorer.probes.choices import score_choices  # noqa: PLC0415

    t0 = time.perf_counter()
    model = load_model(model_name)
    info = model.info()
    print(f"model: {info['name']} ({info['architecture']}, {info['parameters']:,} parameters, "
          f"{info['layers']} layers x {info['heads']} heads), loaded in {time.perf_counter() - t0:.1f} s")
    items = builtin_items("capitals", n=n_items)
    print(f"data: {len(items)} built-in 'capital of' items, 4 choices each\n")
    print(f"{'format':<8} {'mass on choices':>16} {'accuracy':>9} {'share predicting 1st':>21}")
    for fmt in ("letters", "string", "cloze"):
        frame = score_choices(model, items, fmt, progress=tqdm_progress(fmt))
        mass = frame.groupby(C.ITEM_ID, sort=False)[C.PROB].sum().mean()
        pred = frame[frame[C.IS_PRED]]
        print(f"{fmt:<8} {mass:>16.4f} {pred[C.IS_GOLD].astype(float).mean():>9.3f} "
              f"{(pred[C.POSITION] == 0).mean():>21.3f}", flush=True)
    print(f"\nsummary done in {time.perf_counter() - t0:.1f} s", flush=True)


def run(args: argparse.Namespace) -> int:
    summary(args.model, args.items)
    if args.no_serve:
        return 0
    if not DASHBOARD.exists():
        raise ExplorerError(f"no dashboard notebook at {DASHBOARD}; run the demo from a checkout of lm-explorer")
    print(f"\nserving the dashboard at http://127.0.0.1:{args.port}/  (Ctrl-C stops it)", flush=True)
    env = voila_env(dict(os.environ), args.port)
    if args.model:
        env["LM_EXPLORER_MODEL"] = args.model
    try:
        return subprocess.call(voila_command(DASHBOARD, args.port), env=env, cwd=DASHBOARD.parent)
    except KeyboardInterrupt:
        return 0
