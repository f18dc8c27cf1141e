"""``lm-explorer info``: the model's architecture and size."""

from __future__ import annotations

import argparse

from explorer.cli.common import add_model_argument, load_model

NAME = "info"
HELP = "print the model's architecture and size"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)


def run(args: argparse.Namespace) -> int:

    info = load_model(args.model).info()
    width = max(map(len, info))
    for key, value in info.items():
        shown = f"{value:,}" if isinstance(value, int) else value
        print(f"{key:<{width}}  {shown}")
    return 0
