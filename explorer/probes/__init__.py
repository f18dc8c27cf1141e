"""Probes: plain functions of (model, items, options) returning tidy DataFrames."""

from __future__ import annotations

import sys
import types
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
    from explorer.probes.heads import head_attribution, logit_diff_components
    from explorer.metrics.heads import mean_attribution, sweep_summary, top_heads
    from explorer.probes.sweep import sweep_heads
    from explorer.probes.chain import chain_probe
    from explorer.probes.conditions import chain_conditions, Condition

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
    "mean_attribution": "explorer.metrics.heads",
    "top_heads": "explorer.metrics.heads",
    "logit_diff_components": "explorer.probes.heads",
    "sweep_heads": "explorer.probes.sweep",
    "sweep_summary": "explorer.metrics.heads",
    "Condition": "explorer.probes.conditions",
    "chain_conditions": "explorer.probes.conditions",
    "chain_probe": "explorer.probes.chain",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class _Probes(types.ModuleType):
    """``attentiveness`` names both a module of this package and the function it defines. Importing the module
    (``explorer.probes.attentiveness``) sets the package's attribute to the module; this keeps the function there,
    so ``from explorer.probes import attentiveness`` is the probe however the module was first imported, and
    importing this package (its plain data: conditions, counterfactual records, calibration summaries) imports
    no torch."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "attentiveness" and isinstance(value, types.ModuleType):
            value = value.attentiveness
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Probes
