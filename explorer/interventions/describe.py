"""How a head scaling is named: the type of a head and the stable description that cache keys and labels use
(no torch: a dashboard's page names scalings without the model)."""

from __future__ import annotations

from collections.abc import Mapping

Head = tuple[int, int]  # (layer, query head), both 0-based


def describe_heads(factors: Mapping[Head, float]) -> str:
    """A stable description for cache keys, e.g. ``scale L12H3x0.0,L20H1x2.5``."""
    return "scale " + ",".join(f"L{l}H{h}x{float(f)!r}" for (l, h), f in sorted(factors.items()))
