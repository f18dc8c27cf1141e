"""One short definition per metric the views show: a tooltip on the term where it appears, and a caption
under each view listing the terms it uses."""

from __future__ import annotations

from collections.abc import Iterable

from widgets._text import esc

DEFINITIONS = {
    # attentiveness
    "PMA": "probability mass on the valid answers (the choices' labels or first tokens) at the next token",
    "accuracy": "share of items (or prompts) whose most probable choice is the gold one",
    "PMI": "accuracy when each choice is scored by log p(choice | question) − log p(choice | no question)",
    "length-normalised": "accuracy when each choice is scored by its log probability per token",
    "resolved": "share of items whose margin p1 − p2 exceeds the mass off the choices (1 − PMA): "
                "no stray mass could flip the answer (the SFC bound)",
    "greedy token invalid": "share of items whose single most probable next token is not a valid answer",
    # permutation
    "A-bias": "mean (renormalised) probability at the first position minus 1/k (0: no pull towards A)",
    "order-averaged": "accuracy after averaging each choice's probability over all orders shown",
    "circular": "share of items answered right under every cyclic shift (CircularEval)",
    "PriDe": "accuracy before → after removing the position prior estimated from the orders (PriDe)",
    "consistency": "share of items whose predicted choice (content) is the same under every order",
    "RStd (×100)": "standard deviation of recall over gold positions, ×100 (a percentage, unlike the "
                   "other numbers, which are fractions)",
    "χ² p": "p-value of a χ² test that predictions are spread uniformly over positions",
    # calibration
    "ECE": "expected calibration error: mean |accuracy − confidence| over bins, weighted by bin size",
    "MCE": "maximum calibration error: the largest |accuracy − confidence| over non-empty bins",
    "smECE": "smooth ECE (Błasiok & Nakkiran): kernel-smoothed calibration error, no bins to choose",
    "Brier": "mean squared error of the probabilities over all options (0 is perfect)",
    "brier_top": "squared error of the top answer's confidence against being right",
    "balance": "mean accuracy − mean confidence of the predicted answer (< 0: over-confident)",
    "selective AUC": "area under accuracy-vs-coverage when answering only the most confident items first",
    "mean confidence": "mean probability of the predicted answer",
    # heads
    "attribution": "a head's direct contribution to logit(target) − logit(foil) at the last position",
    "target rate": "share of prompts whose target beats the foil (logit difference > 0)",
    # chain
    "Spearman ρ": "rank correlation, over items, of a quantity under condition A and under B",
    "same direction": "share of items whose change A → B has the sign it has at the first link",
}

ALIASES = {"smece": "smECE", "ece": "ECE", "mce": "MCE", "brier": "Brier", "selective_auc": "selective AUC",
           "mean_confidence": "mean confidence", "rstd": "RStd (×100)", "a_bias": "A-bias",
           "order_avg_accuracy": "order-averaged", "circular_accuracy": "circular", "pma_mean": "PMA",
           "resolved_share": "resolved", "invalid_share": "greedy token invalid"}


def define(name: str) -> str:
    """The definition of ``name`` (a term or a column name)."""
    return DEFINITIONS[ALIASES.get(name, name)]


def term(name: str, label: str | None = None) -> str:
    """``label`` (default the term) with its definition as a tooltip (dotted underline)."""
    return (f"<abbr title='{esc(define(name))}' style='text-decoration:underline dotted;"
            f"cursor:help'>{esc(label or ALIASES.get(name, name))}</abbr>")


def caption(names: Iterable[str]) -> str:
    """A small caption defining each term, for under a view."""
    parts = [f"<b>{esc(ALIASES.get(n, n))}</b>: {esc(define(n))}" for n in names]
    return f"<div class='lmx-caption' style='font-size:11px;color:#555;line-height:1.35'>{' · '.join(parts)}</div>"
