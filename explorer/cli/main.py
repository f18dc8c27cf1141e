"""``lm-explorer``: one sub-command per module in :mod:`explorer.cli.commands`.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Adding a command is adding a module; nothing here changes. Command modules import only light modules
at the top (torch, transformers and pandas are imported inside ``run``), so ``--help`` answers at once.
A user's error (an :class:`~explorer.errors.ExplorerError`, a missing or unreadable file) ends the
command with exit status 2 and one line ``lm-explorer COMMAND: error: ...``; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings

from explorer.cli import commands
from explorer.errors import ExplorerError


def command_modules() -> list:
    """Every command module, sorted by name."""
    return [importlib.import_module(f"{commands.__name__}.{m.name}")
            for m in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name) if not m.name.startswith("_")]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lm-explorer", description="See how language models answer "
                                     "multiple-choice questions.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line(args.command, warnings.showwarning)
            return int(args._run(args) or 0)
    except (ExplorerError, FileNotFoundError, IsADirectoryError, PermissionError) as e:  # the user's to fix
        message = " ".join(str(e).split())  # one line, whatever the message held
        print(f"lm-explorer {args.command}: error: {message}", file=sys.stderr)
        return 2


def _one_line(command: str, show):
    """lm-explorer's own warnings as ``lm-explorer COMMAND: warning: ...`` (one line); others as Python shows them."""
    def showwarning(message, category, filename, lineno, file=None, line=None):
        if category.__module__.split(".")[0] != "explorer":
            return show(message, category, filename, lineno, file, line)
        print(f"lm-explorer {command}: warning: {' '.join(str(message).split())}", file=sys.stderr)
    return showwarning


if __name__ == "__main__":
    sys.exit(main())
