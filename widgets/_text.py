"""The two ways text from outside (item ids, questions, file and model names, error messages) reaches the
page: into HTML, through :func:`esc`; into generated Python ("Show code"), through :func:`literal` and
:func:`comment`. Every view builds its HTML and its code with these, so markup in an upload's item id shows
as text, and a newline in an upload's file name cannot end a comment line and start a statement.
"""

from __future__ import annotations

import html
import math
import unicodedata
from typing import Any

import numpy as np

LINE_BREAKS = ("Cc", "Zl", "Zp")  # control characters (\n, \r, \x0b, \x1c...) and line/paragraph separators


def esc(value: Any) -> str:
    """``value`` as text that HTML shows as written (``<``, ``>``, ``&`` and both quotes escaped, so it is
    safe in element content and in quoted attributes).

    >>> esc("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    return html.escape(str(value), quote=True)


def literal(value: Any) -> str:
    """A Python expression that evaluates to ``value`` (str, int, float, bool, None, numpy scalars as their
    Python values, and tuples, lists and dicts of those); anything else is a TypeError, so no object's own
    ``repr`` ever becomes code.

    >>> literal({"id": "a\\nb", "k": (1, 2.5, float("nan"))})
    "{'id': 'a\\\\nb', 'k': (1, 2.5, float('nan'))}"
    """
    if isinstance(value, np.generic):
        return literal(value.item())
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no code literal for a {type(value).__name__}")


def comment(text: Any) -> str:
    """``# text`` on one line: every line break or control character in ``text`` is written as its escape.

    >>> comment("mine.jsonl\\nprint('INJECTED')")
    "# mine.jsonl\\\\nprint('INJECTED')"
    """
    flat = "".join(repr(ch)[1:-1] if unicodedata.category(ch) in LINE_BREAKS else ch for ch in str(text))
    return f"# {flat}"


def one_line(text: Any, limit: int = 200) -> str:
    """``text`` on one line (whitespace runs as one space), cut at ``limit`` characters (for status lines)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
