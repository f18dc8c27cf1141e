"""Probes: plain functions of (model, items, options) returning tidy DataFrames."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.probes.choices import choice_frame, score_choices
    from explorer.probes.attentiveness import attentiveness, explode_choices
    from explorer.probes.layers import layer_pma
    from explorer.probes.permutation import permutation_probe
    from explorer.probes.calibration import (compare_debiasing, compare_intervention, debias_orders, item_confidence,
                                             recalibrated, reliability_frame, summarize)
    from explorer.probes.ptrue import ptrue_predictions, score_ptrue
    from explorer.probes.counterfactual import (capital_counterfactuals, Counterfactual, known_facts,
                                                load_counterfactuals)
    from explorer.probes.contrasts import item_contrasts
    from explorer.probes.heads import head_attribution, logit_diff_components, mean_attribution, top_heads
    from explorer.probes.sweep import sweep_heads, sweep_summary
    from explorer.probes.chain import chain_conditions, chain_probe, Condition

_EXPORTS = {
    "score_choices": "explorer.probes.choices",
    "choice_frame": "explorer.probes.choices",
    "attentiveness": "explorer.probes.attentiveness",
    "explode_choices": "explorer.probes.attentiveness",
    "layer_pma": "explorer.probes.layers",
    "permutation_probe": "explorer.probes.permutation",
    "item_confidence": "explorer.probes.calibration",
    "summarize": "explorer.probes.calibration",
    "reliability_frame": "explorer.probes.calibration",
    "recalibrated": "explorer.probes.calibration",
    "debias_orders": "explorer.probes.calibration",
    "compare_debiasing": "explorer.probes.calibration",
    "compare_intervention": "explorer.probes.calibration",
    "score_ptrue": "explorer.probes.ptrue",
    "ptrue_predictions": "explorer.probes.ptrue",
    "Counterfactual": "explorer.probes.counterfactual",
    "load_counterfactuals": "explorer.probes.counterfactual",
    "capital_counterfactuals": "explorer.probes.counterfactual",
    "known_facts": "explorer.probes.counterfactual",
    "item_contrasts": "explorer.probes.contrasts",
    "head_attribution": "explorer.probes.heads",
    "mean_attribution": "explorer.probes.heads",
    "top_heads": "explorer.probes.heads",
    "logit_diff_components": "explorer.probes.heads",
    "sweep_heads": "explorer.probes.sweep",
    "sweep_summary": "explorer.probes.sweep",
    "Condition": "explorer.probes.chain",
    "chain_conditions": "explorer.probes.chain",
    "chain_probe": "explorer.probes.chain",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

# Imported now: the function shares its module's name, and importing that module later would leave the module here.
from explorer.probes.attentiveness import attentiveness  # noqa: E402
