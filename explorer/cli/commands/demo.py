"""``lm-explorer demo``: the explorer's main job on the bundled model, as a readable summary."""

from __future__ import annotations

import argparse
import time

from explorer import columns as C
from explorer.cli.common import add_model_argument
from explorer.items import builtin_items
from explorer.models import load_model
from explorer.probes.choices import score_choices
from explorer.scoring.progress import tqdm_progress

NAME = "demo"
HELP = "run the diagnostics on the bundled model and print a readable summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--items", type=int, default=24, help="number of built-in capitals items (default 24)")


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    model = load_model(args.model)
    info = model.info()
    print(f"model: {info['name']} ({info['architecture']}, {info['parameters']:,} parameters, "
          f"{info['layers']} layers x {info['heads']} heads), loaded in {time.perf_counter() - t0:.1f} s")
    items = builtin_items("capitals", n=args.items)
    print(f"data: {len(items)} built-in 'capital of' items, 4 choices each\n")
    print(f"{'format':<8} {'mass on choices':>16} {'accuracy':>9} {'share predicting 1st':>21}")
    for fmt in ("letters", "string", "cloze"):
        frame = score_choices(model, items, fmt, progress=tqdm_progress(fmt))
        per_item = frame.groupby(C.ITEM_ID, sort=False)
        mass = per_item[C.PROB].sum().mean()
        pred = frame[frame[C.IS_PRED]]
        acc = pred[C.IS_GOLD].astype(float).mean()
        first = (pred[C.POSITION] == 0).mean()
        print(f"{fmt:<8} {mass:>16.4f} {acc:>9.3f} {first:>21.3f}")
    print(f"\ndone in {time.perf_counter() - t0:.1f} s")
    return 0
