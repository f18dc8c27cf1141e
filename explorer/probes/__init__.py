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

from explorer.probes.counterfactual import (Counterfactual, capital_counterfactuals, known_facts,  # noqa: E402
                                            load_counterfactuals)
from explorer.probes.contrasts import item_contrasts  # noqa: E402
from explorer.probes.heads import head_attribution, logit_diff_components, mean_attribution, top_heads  # noqa: E402
from explorer.probes.sweep import sweep_heads, sweep_summary  # noqa: E402

__all__ += ["Counterfactual", "load_counterfactuals", "capital_counterfactuals", "known_facts", "item_contrasts",
            "head_attribution", "mean_attribution", "top_heads", "logit_diff_components", "sweep_heads", "sweep_summary"]

from explorer.probes.chain import Condition, chain_conditions, chain_probe  # noqa: E402

__all__ += ["Condition", "chain_conditions", "chain_probe"]
