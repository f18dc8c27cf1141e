"""Metrics: pure numpy/pandas functions with doctest examples and documented formulas."""

from explorer.metrics.recalibration import (apply_platt, apply_temperature, cross_fit_platt, cross_fit_temperature,
                                            fit_platt, fit_temperature)
from explorer.metrics.reliability import ReliabilityCurve, ece, mce, reliability_curve
from explorer.metrics.scores import (balance_score, balance_terms, bootstrap_interval, brier_multiclass, brier_top, selective_auc,
                                     selective_curve)

__all__ = ["reliability_curve", "ReliabilityCurve", "ece", "mce", "brier_multiclass", "brier_top", "balance_score", "balance_terms",
           "selective_curve", "selective_auc", "bootstrap_interval", "fit_temperature", "apply_temperature",
           "fit_platt", "apply_platt", "cross_fit_temperature", "cross_fit_platt"]

from explorer.metrics.attentiveness import (bootstrap_ci, length_normalised, pma_accuracy_relation, pmi_scores,  # noqa: E402
                                            sfc_resolved, summarize_attentiveness, top_two)

__all__ += ["sfc_resolved", "top_two", "pmi_scores", "length_normalised", "bootstrap_ci", "summarize_attentiveness",
            "pma_accuracy_relation"]

from explorer.metrics.permutation_summary import group_table, summarize_permutation  # noqa: E402

__all__ += ["summarize_permutation", "group_table"]

from explorer.metrics.chain import chain_quantities, pearson, same_sign_share, spearman  # noqa: E402
from explorer.metrics.chain_summary import chain_agreement, chain_means, summarize_chain  # noqa: E402
from explorer.metrics.scores import brier_per_item  # noqa: E402
from explorer.metrics.smooth import smooth_ece, smooth_ece_interval, smooth_reliability  # noqa: E402

__all__ += ["chain_quantities", "spearman", "pearson", "same_sign_share", "chain_means", "chain_agreement",
            "summarize_chain", "brier_per_item", "smooth_ece", "smooth_ece_interval", "smooth_reliability"]
