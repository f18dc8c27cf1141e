"""Probes: plain functions of (model, items, options) returning tidy DataFrames."""

from explorer.probes.choices import choice_frame, score_choices

__all__ = ["score_choices", "choice_frame"]
