"""Every tab of a dashboard walked headless, then the heads' scaling (factor 0) applied to the order-bias view: the
numbers each view shows. Imports no torch, so a page's kernel beside the model host can run it as well."""

from __future__ import annotations

import json
from typing import Any


def walk(d: Any, timeout: float = 300) -> dict[str, Any]:
    """``d``: a Dashboard with its model loaded. The numbers each view shows, as JSON would carry them."""
    from widgets.registry import VIEWS, view  # noqa: PLC0415

    def settle(key: str) -> Any:
        w = d.build(view(key))
        w.runner.wait(timeout)
        for extra in ("layer_runner", "item_runner"):
            if hasattr(w, extra):
                getattr(w, extra).wait(timeout)
        assert w.condition == "fresh", (key, w.note.value)
        return w

    numbers = {v.key: settle(v.key).shown_numbers() for v in VIEWS}
    heads = d.views["heads"]
    heads.slider.value = 0.0
    heads.runner.wait(timeout)
    heads.apply.value = True
    w = settle("permutation")
    assert w.shown.heads and set(w.shown.heads.values()) == {0.0}, w.shown.heads
    numbers["permutation scaled"] = w.shown_numbers()
    return json.loads(json.dumps(numbers, default=float))
