"""``lm-explorer import``: a run made elsewhere (lm-eval, the Open LLM Leaderboard, Inspect) as a run folder."""

from __future__ import annotations

import argparse

NAME = "import"
HELP = ("read a run made elsewhere (an lm-eval --log_samples output folder, an Open LLM Leaderboard details repo or "
        "local copy, Inspect logs) into a run folder that the dashboard and `lm-explorer summarize` open")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="PATH-OR-HUB-ID", help="an lm-eval output folder (or its model folder, or "
                        "one results/samples file), open-llm-leaderboard/<org>__<model>-details or a local copy, an "
                        "Inspect .eval/.json log or a folder of them (several logs of one task: an order study)")
    parser.add_argument("--task", action="append", default=None, help="tasks to keep: a name, a group (mmlu: its "
                        "subtasks) or a glob (mmlu_*); repeat or separate with commas (default: every task)")
    parser.add_argument("--out", required=True, help="the run folder to write (importing again adds what it lacks)")
    parser.add_argument("--summary", default=None, help="also write the run's summary JSON here")
    parser.add_argument("--filter", default=None, help="lm-eval: the filter whose records to read (default none)")
    parser.add_argument("--split", default="latest", help="leaderboard: the run (a date split) to read "
                        "(default latest)")
    parser.add_argument("--revision", default=None, help="leaderboard: the repo's commit, tag or branch")


def tasks_of(values: list[str] | None) -> list[str] | None:
    return [t.strip() for v in values for t in v.split(",") if t.strip()] if values else None


def run(args: argparse.Namespace) -> int:
    from explorer.cli.runs import quietly, report  # noqa: PLC0415 - heavy: not for --help
    from explorer.cli.scale import command_record  # noqa: PLC0415
    from explorer.runs.store import folder_frame, import_run  # noqa: PLC0415
    from explorer.runs.summary import summarize_run  # noqa: PLC0415

    folder = quietly(NAME, lambda: import_run(args.source, args.out, task=tasks_of(args.task), filter=args.filter,
                                              split=args.split, revision=args.revision, command=command_record(args)))
    frame = folder_frame(folder)
    print(f"imported {frame['item_id'].nunique()} questions ({len(frame)} rows) into {folder.path}")
    report(summarize_run(frame, logged=frame.attrs["logged"]), args.summary)
    return 0
