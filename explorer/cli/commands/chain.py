"""``lm-explorer chain``: the per-item quantity chain under several conditions, and where two
conditions stop agreeing item by item (log p_vocab(gold) -> p_vocab -> p_choices -> correct / Brier)."""

from __future__ import annotations

import argparse
import re

from explorer.cli.common import (add_batch_argument, add_data_arguments, add_model_argument, cache_arg, load_data,
                                 load_model, seed_of, write_frame, write_json)
from explorer.cli.demos import add_demonstration_arguments, demonstration_split, format_list, int_list
from explorer.scoring.progress import tqdm_progress

NAME = "chain"
HELP = ("per item: log p_vocab(gold), p_vocab(gold), p_choices(gold), correct, Brier under each condition (models, "
        "shots, formats, a head scaling); per pair of conditions, the Spearman correlation over items at each link")
HEAD = re.compile(r"^L(\d+)H(\d+)x(-?\d+(?:\.\d*)?(?:e-?\d+)?)$")


def _heads(text: str) -> dict[tuple[int, int], float]:
    out = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        m = HEAD.match(part)
        if not m:
            raise argparse.ArgumentTypeError(f"--heads {part!r}: write LAYERhHEADxFACTOR, e.g. L12H3x0 or "
                                             "L12H3x0,L20H1x2.5 (0-based layer and query head)")
        out[(int(m[1]), int(m[2]))] = float(m[3])
    if not out:
        raise argparse.ArgumentTypeError("--heads: give at least one head, e.g. L12H3x0")
    return out


def _models(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"--models {text!r}: give distinct model names, comma-separated")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser, seed_help=" and of the demonstration draws")
    add_model_argument(parser)
    parser.add_argument("--models", type=_models, default=None, help="compare models: comma-separated aliases, "
                        "folders, .gguf files or hub ids (e.g. smollm2-135m,gemma-3-270m); overrides --model")
    parser.add_argument("--shots", type=int_list, default=[0], help="numbers of demonstrations, e.g. 0,1 (default 0)")
    parser.add_argument("--format", type=format_list, default=["letters"], help="prompt format(s), comma-separated "
                        "(default letters)")
    parser.add_argument("--heads", type=_heads, default=None, help="also score with these query heads scaled, e.g. "
                        "L12H3x0 (layer 12, head 3, factor 0); compared against no scaling")
    add_demonstration_arguments(parser)
    parser.add_argument("--out", required=True, help="rows (one per item x condition): .csv, .jsonl or .parquet")
    parser.add_argument("--summary", required=True, help="summary JSON: per condition the mean logp_vocab_gold, "
                        "p_vocab_gold, p_choices_gold, accuracy, brier and n_items; per pair the per-link Spearman "
                        "correlations and the share of items changing in the same direction at both ends")
    add_batch_argument(parser)


def table(summary: dict) -> str:
    """Per condition the means, then per pair the Spearman correlation at each link."""
    keys = ["logp_vocab_gold", "p_vocab_gold", "p_choices_gold", "accuracy", "brier", "n_items"]
    width = max(len(n) for n in [*summary["conditions"], "condition"]) + 2
    lines = ["condition".ljust(width) + "  ".join(f"{k:>15}" for k in keys)]
    for name, s in summary["conditions"].items():
        lines.append(name.ljust(width) + "  ".join(f"{s[k]:>15.4f}" if k != "n_items" else f"{s[k]:>15d}"
                                                   for k in keys))
    for pair, s in summary["correlations"].items():
        rhos = "  ".join(f"{link} {'-' if v is None else f'{v:+.2f}'}" for link, v in s["spearman"].items())
        share = s["same_sign_share"]
        lines += ["", f"{pair} ({s['n_items']} items), Spearman by link:", f"  {rhos}",
                  f"  same direction at the first and last link: {'-' if share is None else f'{share:.2f}'}"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from explorer.metrics.chain_summary import summarize_chain  # noqa: PLC0415 - heavy: not for --help
    from explorer.probes.chain import chain_conditions, chain_probe  # noqa: PLC0415

    items = load_data(args)
    pool, scored, demos = demonstration_split(args, items)
    if args.models:
        models = {name: load_model(name) for name in args.models}
    else:
        model = load_model(args.model)
        models = {model.name: model}
    interventions = {"no scaling": {}, "scaled " + ",".join(f"L{l}H{h}x{f:g}" for (l, h), f in args.heads.items()):
                     args.heads} if args.heads else None
    conditions = chain_conditions(models=list(models), formats=args.format, shots=args.shots,
                                  interventions=interventions)
    frame = chain_probe(models, scored, conditions, pool=pool, seed=seed_of(args), batch_size=args.batch_size,
                        cache=cache_arg(args), progress=tqdm_progress("chain"))
    write_frame(frame, args.out)
    summary = summarize_chain(frame)
    summary["_meta"] = {"models": {key: m.name for key, m in models.items()}, "data": args.data,
                        "n_scored": len(scored), "demonstrations": demos, "seed": seed_of(args),
                        "condition_settings": {c.name: {"model": c.model, "format": c.fmt, "shots": c.shots,
                                                        "heads": {f"L{l}H{h}": f for (l, h), f in c.heads.items()}}
                                               for c in conditions}}
    write_json(summary, args.summary)
    print(f"{len(scored)} items scored under {len(conditions)} condition(s)")
    print(table(summary))
    print(f"wrote {args.out} and {args.summary}")
    return 0
