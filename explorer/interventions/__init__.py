"""Run-time interventions on a loaded model; every one cleans up after itself."""

from explorer.interventions.hooks import add_hook
from explorer.interventions.heads import describe_heads, scale_heads, scale_heads_per_row, validate_heads

__all__ = ["scale_heads", "scale_heads_per_row", "describe_heads", "validate_heads", "add_hook"]
