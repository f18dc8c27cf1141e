"""``lm-explorer demo``: a diagnostics summary on the bundled model, then the dashboard in Voila."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from explorer import columns as C
from explorer.cli.common import add_model_argument, load_model
from explorer.errors import ExplorerError
from explorer.scoring.progress import tqdm_progress

NAME = "demo"
HELP = "print a diagnostics summary on the bundled model, then serve the dashboard with Voila"
DASHBOARD = Path(__file__).resolve().parents[3] / "notebooks" / "explorer.ipynb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--items", type=int, default=24, help="number of built-in capitals items (default 24)")
    parser.add_argument("--no-serve", action="store_true", help="print the summary only; do not start Voila")
    parser.add_argument("--port", type=int, default=8866, help="Voila's port on 127.0.0.1 (default 8866)")


def voila_command(notebook: Path, port: int) -> list[str]:
    """How the dashboard is served: on 127.0.0.1 only. No pre-heated kernel: widgets its background
    threads create before the page connects can be missing from the page's state (a console error)."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True"]


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
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    if args.model:
        env["LM_EXPLORER_MODEL"] = args.model
    try:
        return subprocess.call(voila_command(DASHBOARD, args.port), env=env, cwd=DASHBOARD.parent)
    except KeyboardInterrupt:
        return 0
