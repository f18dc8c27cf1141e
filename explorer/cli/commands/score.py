"""``lm-explorer score``: per item, each choice's probability and the mass on all choices."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from explorer import columns as C
from explorer.cli.common import (add_batch_argument, add_data_arguments, add_model_argument, cache_arg, load_data,
                                 load_model, write_frame)
from explorer.prompts.format import NAMED_FORMATS
from explorer.scoring.progress import tqdm_progress

if TYPE_CHECKING:
    import pandas as pd

NAME = "score"
HELP = "score every choice of every item; write one row per item with each choice's probability"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)
    add_model_argument(parser)
    parser.add_argument("--format", default="letters", choices=sorted(NAMED_FORMATS),
                        help="prompt format (default: letters, 'Question: ...\\nA. ...\\nAnswer:')")
    parser.add_argument("--out", required=True, help="output file: .csv, .jsonl or .parquet")
    parser.add_argument("--long", action="store_true", help="write the long frame (one row per item x choice)")
    add_batch_argument(parser)


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per item: p of each choice (p_A.. or p_0..), their sum (mass), prediction, correctness."""
    rows = []
    for item_id, g in frame.groupby(C.ITEM_ID, sort=False):
        row = {C.ITEM_ID: item_id}
        for _, r in g.iterrows():
            row[f"p_{r[C.LABEL] or r[C.POSITION]}"] = r[C.PROB]
        row["mass"] = float(g[C.PROB].sum())
        pred = g[g[C.IS_PRED]].iloc[0]
        row["prediction"] = pred[C.LABEL] or pred[C.CHOICE]
        row["confidence"] = float(pred[C.PROB_NORM])
        gold = g[g[C.IS_GOLD].fillna(False).astype(bool)]
        row["correct"] = bool(pred[C.IS_GOLD]) if len(gold) else None
        rows.append(row)
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame(rows)


def run(args: argparse.Namespace) -> int:
    from explorer.probes.choices import score_choices  # noqa: PLC0415

    items = load_data(args)
    model = load_model(args.model)
    frame = score_choices(model, items, args.format, batch_size=args.batch_size, cache=cache_arg(args),
                          progress=tqdm_progress("scoring"))
    summary = wide(frame)
    path = write_frame(frame if args.long else summary, args.out)
    acc = summary["correct"].dropna()
    print(f"{len(items)} items, format {args.format}, model {model.name}")
    print(f"mean mass on the choices: {summary['mass'].mean():.4f}")
    if len(acc):
        print(f"accuracy: {acc.astype(float).mean():.4f} ({int(acc.sum())}/{len(acc)})")
    print(f"wrote {path}")
    return 0
