"""Uploads a served dashboard accepts: checked on the server, in the order that keeps memory bounded.

The browser's ``accept=`` filter is a hint to the visitor's file chooser, nothing more: the bytes that
arrive may be anything. Before anything is parsed, the type (by name), the size and, for JSON, the nesting
depth are checked (a byte scan, no objects built), and a CSV's header is read alone (a table of a million
columns would take gigabytes); only then is the content parsed, and its items, fields, choices and text
lengths checked. Parquet is not taken by default: a few kilobytes of it can decode to gigabytes.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from explorer.items.files import FileBytes
from explorer.serve.policy import UploadLimits, shown

if TYPE_CHECKING:
    from explorer.items.io import Loaded

OPENERS, CLOSERS = frozenset(b"[{"), frozenset(b"]}")


def json_depth(data: bytes, limit: int) -> int:
    """The deepest nesting of arrays and objects in JSON (or JSON lines) ``data``, counted up to ``limit + 1``
    (the scan stops there); brackets inside strings do not count.

    >>> json_depth(b'{"a": [1, {"b": "[[["}]}', 10), json_depth(b"[[[[[[[[]]]]]]]]", 3)
    (3, 4)
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in CLOSERS:
            depth = max(depth - 1, 0)
    return deepest


def read_upload(name: str, content: bytes, limits: UploadLimits) -> Loaded:
    """The items of an upload within ``limits``, or :class:`~explorer.errors.Refused` saying which limit and
    what is allowed; a file that is within limits but broken gets the loader's own one-line error."""
    suffix = FileBytes(name, b"").suffix
    if suffix not in limits.types:
        raise limits.refuse(f"{shown(name)} is not one of the file types taken")
    if len(content) > limits.max_bytes:
        raise limits.refuse(f"{shown(name)} holds {len(content):,} bytes")
    if suffix in (".json", ".jsonl", ".ndjson"):
        depth = json_depth(content, limits.max_depth)
        if depth > limits.max_depth:
            raise limits.refuse(f"{shown(name)} nests JSON more than {limits.max_depth} deep")
    if suffix == ".csv":
        first = content.split(b"\n", 1)[0].decode("utf-8", "replace")
        columns = next(csv.reader(io.StringIO(first)), [])
        if len(columns) > limits.max_fields:
            raise limits.refuse(f"{shown(name)} has {len(columns):,} columns")
    from explorer.items.io import load_source  # noqa: PLC0415 - pandas: only when an upload is read

    loaded = load_source(FileBytes(name, content))
    _check_items(loaded, name, limits)
    return loaded


def _check_items(loaded: Loaded, name: str, limits: UploadLimits) -> None:
    if loaded.n_available > limits.max_items:
        raise limits.refuse(f"{shown(name)} holds {loaded.n_available:,} items")
    for item in loaded.items:
        limits.check_item(item, shown(name))
