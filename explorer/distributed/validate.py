"""Does a JSON value have the type a dataclass field declares? For manifests read back from disk."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Sequence
from dataclasses import MISSING, fields
from typing import Any


def fits(value: Any, hint: Any) -> bool:
    """True when a JSON value has the type a manifest field declares (str, int, bool, list[...], dict[str, ...],
    unions with None; Any takes anything)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(fits(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) and fits(v, args[1]) for k, v in value.items())
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def type_name(hint: Any) -> str:
    text = str(hint).replace("typing.", "")
    return {"<class 'str'>": "text", "<class 'bool'>": "true or false"}.get(text, text)


def field_problem(cls: type, data: dict, *, extra: Sequence[str] = ()) -> str | None:
    """The first way ``data`` is not the fields of dataclass ``cls`` (an unknown key other than ``extra``, a
    required field missing, a value of the wrong type), in words naming the field; None when it fits."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    for name in data:
        if name not in known and name not in extra:
            return f"field {name!r} is not a manifest field (known: {sorted(known)})"
    for name, f in known.items():
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                return f"field {name!r} is missing"
            continue
        if not fits(data[name], hints[name]):
            shown = json.dumps(data[name])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            return f"field {name!r} holds {shown}, not {type_name(hints[name])}"
    return None
