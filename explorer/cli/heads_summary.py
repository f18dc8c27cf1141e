"""The summary ``lm-explorer heads`` writes, from attribution rows and sweeps computed in process or over Ray
(``explorer.cli.scale_heads``): base rates, the strongest heads each way, and each one's scaling sweep."""

from __future__ import annotations

import argparse

from explorer import columns as C
from explorer.cli.common import write_json


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


def with_sweeps(summary: dict, sweeps: dict) -> dict:
    """The summary with each role's sweep (rows of ``sweep_heads``) added."""
    from explorer.probes.sweep import sweep_summary  # noqa: PLC0415

    for role, frame in sweeps.items():
        head = strongest(summary)[role]
        sweep = sweep_summary(frame[frame[C.HEADS] == f"L{head[0]}H{head[1]}"])
        summary["sweep"][role] = {"layer": head[0], "head": head[1], "factors": sweep[C.FACTOR].tolist(),
                                  "target_rate": sweep[C.TARGET_RATE].tolist(),
                                  "mean_logit_diff": sweep[C.MEAN_LOGIT_DIFF].tolist()}
    return summary


def show(summary: dict) -> None:
    """Print a summary's base rate and each swept head's target rate by factor."""
    print(f"{summary['n_prompts']} prompts ({summary['n_loaded']} loaded), model {summary['model']}; base target rate "
          f"{summary['base_target_rate']:.3f}")
    for role, s in summary["sweep"].items():
        rates = ", ".join(f"{a:g}: {r:.2f}" for a, r in zip(s["factors"], s["target_rate"]))
        print(f"{role} L{s['layer']}H{s['head']} target rate by factor: {rates}")


def report(summary: dict, args: argparse.Namespace) -> int:
    """Write the summary (sweeps added) and print it (also ``lm-explorer summarize``)."""
    write_json(summary, args.summary)
    show(summary)
    print(f"wrote {args.out} and {args.summary}")
    return 0


def report_models(blocks: dict, args: argparse.Namespace) -> int:
    """Several models' summaries under ``by_model`` (no paired differences: each model has heads of its own,
    and with --known-only or capitals prompts of its own), written and printed."""
    for block in blocks.values():
        show(block)
        print()
    write_json({"models": list(blocks), "by_model": dict(blocks)}, args.summary)
    print(f"wrote {args.out} and {args.summary}")
    return 0
