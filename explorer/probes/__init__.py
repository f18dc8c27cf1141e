"""Probes: plain functions of (model, items, options) returning tidy DataFrames."""

from explorer.probes.choices import choice_frame, score_choices

__all__ = ["score_choices", "choice_frame"]

from explorer.probes.attentiveness import attentiveness, explode_choices  # noqa: E402
from explorer.probes.layers import layer_pma  # noqa: E402

__all__ += ["attentiveness", "explode_choices", "layer_pma"]

from explorer.probes.permutation import permutation_probe  # noqa: E402

__all__ += ["permutation_probe"]

from explorer.probes.calibration import (compare_debiasing, compare_intervention, debias_orders,  # noqa: E402
                                         item_confidence, recalibrated, reliability_frame, summarize)
from explorer.probes.ptrue import ptrue_predictions, score_ptrue  # noqa: E402

__all__ += ["item_confidence", "summarize", "reliability_frame", "recalibrated", "debias_orders", "compare_debiasing",
            "compare_intervention", "score_ptrue", "ptrue_predictions"]
