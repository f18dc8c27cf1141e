"""Where a view's model, items and intervention come from, as code: the start of every "Show code".

A view records a :class:`Setup` with each run, so the code it shows names the model and data that
produced what is on screen (not what a box says now). ``Setup.code()`` loads them; ``under()`` wraps
the probe's lines in the intervention that was applied.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from explorer.items.item import Item
from widgets._text import comment, literal

Head = tuple[int, int]
INLINE_LIMIT = 400  # items written out in the code; a larger upload is named by its file instead


def item_literal(item: Item) -> str:
    """``explorer.Item(...)`` that rebuilds ``item`` (metadata included, origin as loaded)."""
    parts = [f"id={literal(item.id)}", f"question={literal(item.question)}", f"choices={literal(tuple(item.choices))}"]
    if item.answer is not None:
        parts.append(f"answer={literal(item.answer)}")
    if item.metadata:
        parts.append(f"metadata={literal(dict(item.metadata))}")
    return f"explorer.Item({', '.join(parts)})"


def items_literal(items: Sequence[Item]) -> str:
    """A list expression of the items, one per line."""
    return "[\n" + "".join(f"    {item_literal(i)},\n" for i in items) + "]"


def heads_label(heads: Mapping[Head, float]) -> str:
    """``{(12, 3): 0.0}`` -> ``"L12H3×0"`` (sorted by head)."""
    return ", ".join(f"L{l}H{h}×{f:g}" for (l, h), f in sorted(heads.items()))


def heads_literal(heads: Mapping[Head, float]) -> str:
    return "{" + ", ".join(f"({int(l)}, {int(h)}): {literal(float(f))}" for (l, h), f in sorted(heads.items())) + "}"


@dataclass(frozen=True)
class Setup:
    """``model``: the argument of ``explorer.load_model`` (None: the bundled model). ``data``: an
    expression that loads the items, or None to write ``items`` out; ``items``: the items the view got
    (written out when ``data`` is None; compared with what ``data`` loads to list the edits)."""

    model: str | None = None
    data: str | None = None
    items: tuple[Item, ...] = ()
    loaded: tuple[Item, ...] = ()  # what ``data`` gives before any edit (empty: no edits to list)
    note: str = ""  # said in a comment above the data line (e.g. "the file you uploaded")

    def code(self) -> str:
        """Imports, the model, the items (with edits replayed)."""
        model = "" if self.model is None else literal(self.model)
        lines = ["import json", "", "import explorer", "", f"model = explorer.load_model({model})"]
        if self.note:
            lines.append(comment(self.note))
        if self.data is None:
            lines.append(f"items = {items_literal(self.items)}")
        else:
            lines.append(f"items = {self.data}")
            lines += self._edits()
        return "\n".join(lines) + "\n\n"

    def _edits(self) -> list[str]:
        if not self.loaded:
            return []
        before = {i.id: n for n, i in enumerate(self.loaded)}
        out = []
        for n, item in enumerate(self.items):
            if n >= len(self.loaded) or before.get(item.id) != n or self.loaded[n] != item:
                out.append(f"items[{n}] = {item_literal(item)}  # edited in the dashboard")
        return out


def under(heads: Mapping[Head, float], body: str) -> str:
    """``body`` run inside ``scale_heads(model, heads)`` when there are heads, else as is."""
    if not heads:
        return body
    return (f"from explorer.interventions import scale_heads\n\n"
            f"{comment('intervention applied in the dashboard: ' + heads_label(heads))}\n"
            f"with scale_heads(model, {heads_literal(heads)}):\n" + textwrap.indent(body, "    "))
