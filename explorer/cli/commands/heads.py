"""``lm-explorer heads``: which attention heads push towards the target or the foil, and scaling them."""

from __future__ import annotations

import argparse
import re

from explorer import columns as C
from explorer.cli.common import add_model_argument, add_scale_arguments, load_model, model_options, write_json
from explorer.errors import ExplorerError
from explorer.scoring.progress import tqdm_progress

NAME = "heads"
HELP = "per-head direct logit attribution (target vs foil) and a scaling sweep of the strongest heads"


def _factors(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--alphas {text!r}: write comma-separated numbers, e.g. -5,0,1,2") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # let "--alphas -5,0,1" read its value instead of taking "-5,0,1" for an option
    parser._negative_number_matcher = re.compile(r"^-\d[\d.,\-]*$")
    parser.add_argument("--data", required=True, help="JSONL with prompt, target, foil (optional id, fact_prompt); "
                        "or 'capitals' for the built-in counterfactual capitals, filtered to facts the model knows")
    add_model_argument(parser)
    parser.add_argument("--top", type=int, default=5, help="heads listed per direction in the summary (default 5)")
    parser.add_argument("--alphas", type=_factors, default=[-5.0, 0.0, 1.0, 2.0, 5.0, 10.0],
                        help="scaling factors for the sweep (default -5,0,1,2,5,10)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N prompts (after filtering)")
    parser.add_argument("--known-only", action="store_true",
                        help="JSONL data: keep only records whose fact_prompt the model answers with the foil")
    parser.add_argument("--batch-size", type=int, default=16, help="prompts per forward pass (default 16)")
    parser.add_argument("--out", required=True, help="per prompt x layer x head attribution: .csv, .jsonl, .parquet")
    parser.add_argument("--summary", required=True, help="summary JSON")
    add_scale_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from explorer.cli.scale import write_rows  # noqa: PLC0415 - heavy: not for --help
    from explorer.probes.counterfactual import capital_counterfactuals, known_facts, load_counterfactuals  # noqa: PLC0415
    from explorer.probes.heads import head_attribution  # noqa: PLC0415
    from explorer.probes.sweep import sweep_heads  # noqa: PLC0415

    builtin = args.data == "capitals"
    records = capital_counterfactuals() if builtin else load_counterfactuals(args.data)
    loaded = len(records)
    if not loaded:
        raise ExplorerError(f"no prompts in {args.data}. Fix: give one JSON object per line with prompt, target and "
                            "foil")
    if args.ray:
        from explorer.cli.scale_heads import run_heads  # noqa: PLC0415 - the Ray path of this command

        return run_heads(args, records, check_known=builtin or args.known_only)
    model = load_model(args.model, **model_options(args))
    if builtin or args.known_only:
        records = known_facts(model, records)  # rule "candidates": the true answer beats every other answer
    records = records[: args.limit] if args.limit else records
    if not records:
        raise ExplorerError(f"no prompts left in {args.data}: {loaded} loaded, none the model knows without "
                            "context. Fix: give prompts whose facts the model knows, or drop --known-only")
    frame = head_attribution(model, records, batch_size=args.batch_size, progress=tqdm_progress("attribution"))
    write_rows(frame, args)
    summary = attribution_summary(frame, args, model.name, n_loaded=loaded)
    sweeps = {role: sweep_heads(model, records, [head], args.alphas, batch_size=args.batch_size * 4)
              for role, head in strongest(summary).items()}
    return report(summary, sweeps, args)


def attribution_summary(frame, args: argparse.Namespace, model: str, *, n_loaded: int) -> dict:
    """The summary's attribution part: base rates and the strongest heads each way."""
    from explorer.probes.heads import mean_attribution, top_heads  # noqa: PLC0415

    mean = mean_attribution(frame)
    per_prompt = frame.groupby(C.PROMPT_ID)[C.LOGIT_DIFF].first()
    return {"model": model, "data": args.data, "n_loaded": n_loaded, "n_prompts": len(per_prompt),
            "base_target_rate": float((per_prompt > 0).mean()), "base_mean_logit_diff": float(per_prompt.mean()),
            "top_target_heads": top_heads(mean, args.top, toward="target"),
            "top_foil_heads": top_heads(mean, args.top, toward="foil"), "alphas": args.alphas, "sweep": {}}


def strongest(summary: dict) -> dict[str, tuple[int, int]]:
    """The head swept for each role: the strongest towards the target, and towards the foil."""
    return {role: (ranked[0][0], ranked[0][1]) for role, ranked in
            (("target_head", summary["top_target_heads"]), ("foil_head", summary["top_foil_heads"])) if ranked}


def report(summary: dict, sweeps: dict, args: argparse.Namespace) -> int:
    """Add each role's sweep (rows of ``sweep_heads``) to the summary, write it and print it (also
    ``lm-explorer summarize``)."""
    from explorer.probes.sweep import sweep_summary  # noqa: PLC0415

    for role, frame in sweeps.items():
        head = strongest(summary)[role]
        sweep = sweep_summary(frame[frame[C.HEADS] == f"L{head[0]}H{head[1]}"])
        summary["sweep"][role] = {"layer": head[0], "head": head[1], "factors": sweep[C.FACTOR].tolist(),
                                  "target_rate": sweep[C.TARGET_RATE].tolist(),
                                  "mean_logit_diff": sweep[C.MEAN_LOGIT_DIFF].tolist()}
    write_json(summary, args.summary)
    print(f"{summary['n_prompts']} prompts ({summary['n_loaded']} loaded), model {summary['model']}; base target rate "
          f"{summary['base_target_rate']:.3f}")
    for role, s in summary["sweep"].items():
        rates = ", ".join(f"{a:g}: {r:.2f}" for a, r in zip(s["factors"], s["target_rate"]))
        print(f"{role} L{s['layer']}H{s['head']} target rate by factor: {rates}")
    print(f"wrote {args.out} and {args.summary}")
    return 0
