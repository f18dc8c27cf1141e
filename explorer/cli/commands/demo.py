"""``lm-explorer demo``: a diagnostics summary on the bundled model, then the dashboard in Voila, served (the pages'
kernels run their work on this process's copy of the model, the model host of ``explorer.serve.host``): a
visitor loads the bundled models, the built-in sets and uploads within limits (``explorer.serve``); the
operator opens it up with ``--allow-any-model``, ``--allow-any-data`` or ``--policy FILE``."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from explorer import columns as C
from explorer.cli.common import add_model_argument, load_model
from explorer.errors import ExplorerError
from explorer.paths import cache_dir
from explorer.serve import ENV as POLICY_ENV
from explorer.models.names import DEFAULT_MODEL
from explorer.serve import Policy, served
from explorer.serve.host import hosting, run_beside
from explorer.scoring.progress import tqdm_progress

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

NAME = "demo"
HELP = "print a diagnostics summary on the bundled model, then serve the dashboard with Voila"
DASHBOARD = Path(__file__).resolve().parents[3] / "notebooks" / "explorer.ipynb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--items", type=int, default=24, help="number of built-in capitals items (default 24)")
    parser.add_argument("--no-serve", action="store_true", help="print the summary only; do not start Voila")
    parser.add_argument("--port", type=int, default=8866, help="Voila's port on 127.0.0.1 (default 8866)")
    parser.add_argument("--allow-any-model", action="store_true",
                        help="let visitors load any model the server can reach (folders, .gguf files, hub ids); "
                        "default: the bundled models, --model and the policy's list")
    parser.add_argument("--allow-any-data", action="store_true",
                        help="let visitors load any data the server can reach (folders, files, hub ids, run "
                        "folders); default: built-in sets, uploads within limits and the policy's lists")
    parser.add_argument("--policy", default=None, metavar="FILE",
                        help="a TOML file of what visitors may do (models, datasets, runs, max_items, token_budget, "
                        "max_models, [uploads] limits); see the README")
    parser.add_argument("--no-spare", action="store_true",
                        help="no pre-heated kernel: each page starts its own (for machines that cannot hold one)")


TEMPLATES = Path(__file__).resolve().parents[3] / "widgets" / "share"  # holds voila/templates/lmx
CULL_IDLE_S, CULL_INTERVAL_S = 120, 30
REFILL_DELAY_S = 30  # the spare kernel starts this long after a page takes one: not while that page's work runs


def voila_command(notebook: Path, port: int, *, cull_idle_s: int = CULL_IDLE_S,
                  cull_interval_s: int = CULL_INTERVAL_S, spare: bool = True) -> list[str]:
    """How the dashboard is served: on 127.0.0.1 only; no tracebacks on the page (they name the server's
    files); the ``lmx`` template (Voila's lab template without its CDN stylesheets: the page asks no other
    host for anything); with ``spare``, one pre-heated kernel that has already shown the dashboard's frame
    when a page opens and loads the model only once a page takes it (a spare holds no model, so a 2 GB
    machine holds it beside the page's kernel), replaced ``REFILL_DELAY_S`` after a page takes it (not while
    that page's first work runs; Voila makes a page arriving meanwhile wait for it); a kernel whose page is
    gone (no connection) and that has been idle ``cull_idle_s`` seconds is shut down, checked every
    ``cull_interval_s``; the page loads only the front-end extensions the dashboard uses (``EXTENSIONS``), not
    jupyterlab-plotly's second copy of plotly.js.
    Run it with :func:`voila_env`."""
    pool = (["--preheat_kernel=True", "--VoilaConfiguration.default_pool_size=1",
             f"--VoilaKernelManager.fill_delay={REFILL_DELAY_S}"] if spare else
            # no spare: the page's scripts load while its kernel starts, rather than after it ran the notebook
            ["--preheat_kernel=False", "--VoilaConfiguration.progressive_rendering=True"])
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
            "--show_tracebacks=False", "--template=lmx", *pool,
            # a kernel's outputs may reach Voila seconds after its reply when several pages' kernels start at
            # once; Voila's executor stops listening after 4 s, and a page would lack what came later
            "--VoilaExecutor.iopub_timeout=60",
            *(f"--VoilaConfiguration.extension_allowlist={x}" for x in EXTENSIONS),  # Voila needs both lists or neither
            *(f"--VoilaConfiguration.extension_denylist={x}" for x in UNUSED_EXTENSIONS),
            f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
            f"--MappingKernelManager.cull_interval={cull_interval_s}",
            "--MappingKernelManager.cull_connected=False"]


PLOTLY_BUNDLE = "plotly-widgetbundle.js"
# the page's front-end extensions: the widgets and anywidget (plotly's FigureWidget); not jupyterlab-plotly's
# 4.8 MB renderer of plotly outputs (the dashboard shows none) nor the lab's preview and pygments styles
EXTENSIONS = ["@voila-dashboards/widgets-manager8", "@jupyter-widgets/jupyterlab-manager", "anywidget"]
UNUSED_EXTENSIONS = ["jupyterlab-plotly", "jupyterlab_pygments"]


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


def voila_env(env: dict[str, str], port: int, policy: Policy | None = None) -> dict[str, str]:
    """``env`` for Voila on ``port``: the ``lmx`` template on Jupyter's data path, the URL of plotly's widget
    bundle for the kernels (``LM_EXPLORER_PLOTLY_ESM``, read by ``widgets._view.fig_widget``), what visitors
    may do (``LM_EXPLORER_POLICY``: ``policy``, default :func:`~explorer.serve.served`), no hub downloads
    unless the environment allows them (``HF_HUB_OFFLINE``), and glibc's allocator held to two arenas
    (threads otherwise each keep an arena of freed memory: hundreds of MB per kernel)."""
    path = os.pathsep.join(p for p in (str(template_root()), env.get("JUPYTER_PATH", "")) if p)
    url = f"http://127.0.0.1:{port}/voila/templates/lmx/static/{PLOTLY_BUNDLE}"
    return {**env, "JUPYTER_PATH": path, "HF_HUB_OFFLINE": env.get("HF_HUB_OFFLINE", "1"),
            "MALLOC_ARENA_MAX": env.get("MALLOC_ARENA_MAX", "2"), "LM_EXPLORER_PLOTLY_ESM": url,
            POLICY_ENV: (policy or served()).to_json()}


def demo_policy(args: argparse.Namespace) -> Policy:
    """What the demo's visitors may do: the policy file (or :func:`~explorer.serve.served`), opened up by the
    flags; the model the demo was started with (``--model``) is offered too."""
    policy = Policy.from_file(args.policy) if args.policy else served()
    policy = policy.opened(any_model=args.allow_any_model, any_data=args.allow_any_data)
    if args.model and not policy.any_model and args.model not in policy.models:
        policy = dataclasses.replace(policy, models=(*policy.models, args.model))
    return policy


def summary(model_name: str | None, n_items: int) -> LoadedModel:
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
    return model


def run(args: argparse.Namespace) -> int:
    policy = demo_policy(args)  # a bad policy file stops here, before the summary
    model = summary(args.model, args.items)
    if args.no_serve:
        return 0
    if not DASHBOARD.exists():
        raise ExplorerError(f"no dashboard notebook at {DASHBOARD}; run the demo from a checkout of lm-explorer")
    print(f"\nserving the dashboard at http://127.0.0.1:{args.port}/  (Ctrl-C stops it)", flush=True)
    env = voila_env(dict(os.environ), args.port, policy)
    if args.model:
        env["LM_EXPLORER_MODEL"] = args.model
    # the pages' kernels share this process's copy of the model (the model host): they hold no torch
    with hosting(policy) as host:
        host.admit(args.model or DEFAULT_MODEL, model)
        try:
            return run_beside(voila_command(DASHBOARD, args.port, spare=not args.no_spare), host, env=env,
                              cwd=DASHBOARD.parent)
        except KeyboardInterrupt:
            return 0
