"""Run-time interventions on a loaded model; every one cleans up after itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.interventions.heads import describe_heads, scale_heads, scale_heads_per_row, validate_heads
    from explorer.interventions.hooks import add_hook

_EXPORTS = {
    "scale_heads": "explorer.interventions.heads",
    "scale_heads_per_row": "explorer.interventions.heads",
    "describe_heads": "explorer.interventions.describe",
    "validate_heads": "explorer.interventions.heads",
    "add_hook": "explorer.interventions.hooks",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
