"""Metrics: pure numpy/pandas functions with doctest examples and documented formulas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.metrics.reliability import ece, mce, reliability_curve, ReliabilityCurve
    from explorer.metrics.scores import (balance_score, balance_terms, bootstrap_interval, brier_multiclass,
                                         brier_per_item, brier_top, selective_auc, selective_curve)
    from explorer.metrics.recalibration import (apply_platt, apply_temperature, cross_fit_platt, cross_fit_temperature,
                                                fit_platt, fit_temperature)
    from explorer.metrics.attentiveness import (bootstrap_ci, length_normalised, pma_accuracy_relation, pmi_scores,
                                                sfc_resolved, summarize_attentiveness, top_two)
    from explorer.metrics.permutation_summary import group_table, summarize_permutation
    from explorer.metrics.chain import chain_quantities, pearson, same_sign_share, spearman
    from explorer.metrics.chain_summary import chain_agreement, chain_means, summarize_chain
    from explorer.metrics.smooth import smooth_ece, smooth_ece_interval, smooth_reliability

_EXPORTS = {
    "reliability_curve": "explorer.metrics.reliability",
    "ReliabilityCurve": "explorer.metrics.reliability",
    "ece": "explorer.metrics.reliability",
    "mce": "explorer.metrics.reliability",
    "brier_multiclass": "explorer.metrics.scores",
    "brier_top": "explorer.metrics.scores",
    "balance_score": "explorer.metrics.scores",
    "balance_terms": "explorer.metrics.scores",
    "selective_curve": "explorer.metrics.scores",
    "selective_auc": "explorer.metrics.scores",
    "bootstrap_interval": "explorer.metrics.scores",
    "fit_temperature": "explorer.metrics.recalibration",
    "apply_temperature": "explorer.metrics.recalibration",
    "fit_platt": "explorer.metrics.recalibration",
    "apply_platt": "explorer.metrics.recalibration",
    "cross_fit_temperature": "explorer.metrics.recalibration",
    "cross_fit_platt": "explorer.metrics.recalibration",
    "sfc_resolved": "explorer.metrics.attentiveness",
    "top_two": "explorer.metrics.attentiveness",
    "pmi_scores": "explorer.metrics.attentiveness",
    "length_normalised": "explorer.metrics.attentiveness",
    "bootstrap_ci": "explorer.metrics.attentiveness",
    "summarize_attentiveness": "explorer.metrics.attentiveness",
    "pma_accuracy_relation": "explorer.metrics.attentiveness",
    "summarize_permutation": "explorer.metrics.permutation_summary",
    "group_table": "explorer.metrics.permutation_summary",
    "chain_quantities": "explorer.metrics.chain",
    "spearman": "explorer.metrics.chain",
    "pearson": "explorer.metrics.chain",
    "same_sign_share": "explorer.metrics.chain",
    "chain_means": "explorer.metrics.chain_summary",
    "chain_agreement": "explorer.metrics.chain_summary",
    "summarize_chain": "explorer.metrics.chain_summary",
    "brier_per_item": "explorer.metrics.scores",
    "smooth_ece": "explorer.metrics.smooth",
    "smooth_ece_interval": "explorer.metrics.smooth",
    "smooth_reliability": "explorer.metrics.smooth",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
