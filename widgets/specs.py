"""The state of each view, one object per view, and the code each generates.

A view builds its spec from its controls, runs its work from that spec and keeps it as ``shown`` with the
results, so the code below reproduces exactly what is on screen. Every snippet ends by printing, as
JSON, the numbers the view's headline (and its group bars) show: the test suite runs each snippet in a
fresh process and compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from explorer import columns as C
from explorer.items.item import Item
from widgets._setup import items_literal, under
from widgets._text import literal
from widgets._view import Spec

ATTENTIVENESS_NUMBERS = ("n_items", "pma_mean", "accuracy", "accuracy_pmi", "accuracy_norm", "resolved_share",
                         "invalid_share")
PERMUTATION_NUMBERS = ("n_items", "a_bias", "accuracy", "order_avg_accuracy", "circular_accuracy",
                       "pride_accuracy_before", "pride_accuracy", "consistency", "rstd", "chi2_p")
CALIBRATION_NUMBERS = ("n", "accuracy", "mean_confidence", "ece", "mce", "brier", "balance", "selective_auc", "smece")
SMECE_BOOTSTRAP = 100  # resamples for the smooth ECE's interval in the calibration table
# the columns the calibration view keeps per prediction (and may group by)
GROUPABLE = [C.FORMAT, C.SHOTS, C.ANSWER, C.PRED, C.ORDER_ID, C.INTERVENTION, C.CONDITION, C.SEED]
HEADS = "heads"  # the chain comparison that scales the heads set in the Heads view
COMPARISONS = {"letters vs cloze": dict(formats=["letters", "cloze"]),
               "letters vs string": dict(formats=["letters", "string"]),
               "0 vs 1 demonstration": dict(shots=[0, 1]),
               "heads scaled (Heads tab) vs not": HEADS}


def _pool(pool: Sequence[Item]) -> str:
    return f"pool = {items_literal(pool)}\n" if pool else "pool = []\n"


def _given(code: str, name: str) -> str:
    """``name = `` the rows a view was given, from ``code``: an expression, or lines (imports) then one."""
    *before, expr = code.strip().splitlines()
    return "".join(f"{line}\n" for line in before) + f"{name} = {expr}\n"


def _print(expr: str) -> str:
    return f"headline = {expr}\nprint(json.dumps(headline, default=float))  # the numbers the view shows\n"


@dataclass(frozen=True)
class AttentivenessSpec(Spec):
    fmt: str = "letters"
    shots: int = 0
    seed: int = 0
    pool: tuple[Item, ...] = ()
    group: str = ""
    metric: str = "pma_mean"
    given: str = ""  # an expression for given attentiveness rows (no scoring: the first seed of fmt and shots)
    VIEW_FIELDS: ClassVar[tuple[str, ...]] = ("group", "metric")

    def code(self) -> str:
        work = (f"rows = attentiveness(model, items, [{literal(self.fmt)}], shots=[{self.shots}], seeds=[{self.seed}], "
                f"pool=pool)\n")
        imports = "from explorer.metrics import summarize_attentiveness\n"
        if self.given:
            start = (f"import json\n\nimport pandas as pd\n\n{imports}\n{_given(self.given, 'rows')}"
                     f"rows = rows[(rows[{literal(C.FORMAT)}] == {literal(self.fmt)}) & "
                     f"(rows[{literal(C.SHOTS)}] == {self.shots})]\n"
                     f"rows = rows[rows[{literal(C.SEED)}] == rows[{literal(C.SEED)}].min()].reset_index(drop=True)\n")
        else:
            start = (self.setup.code() + imports + "from explorer.probes import attentiveness\n\n" + _pool(self.pool)
                     + under(self.heads, work))
        group = (f"\nheadline['{self.metric} by {self.group}'] = {{str(k): v for k, v in summarize_attentiveness("
                 f"rows, by=[{literal(self.group)}], n_boot=0).set_index({literal(self.group)})"
                 f"[{literal(self.metric)}].items()}}\n"
                 if self.group else "")
        return (start + "summary = summarize_attentiveness(rows, n_boot=0).iloc[0]\n"
                + f"headline = {{key: float(summary[key]) for key in {literal(list(ATTENTIVENESS_NUMBERS))}}}" + group
                + "\nprint(json.dumps(headline, default=float))  # the numbers the view shows\n")


@dataclass(frozen=True)
class PermutationSpec(Spec):
    orders: str = "cyclic"
    labels: str = "ABCD"
    template: str | None = None
    shots: int = 0
    pool: tuple[Item, ...] = ()
    k: int | None = None  # the number of choices the position views show (several ks only)
    group: str = ""
    metric: str = "accuracy"
    given: str = ""  # an expression for a given permutation frame (no scoring)
    VIEW_FIELDS: ClassVar[tuple[str, ...]] = ("k", "group", "metric")

    def options(self) -> dict:
        return dict(orders=int(self.orders) if self.orders.isdigit() else self.orders, labels=self.labels,
                    template=self.template, shots=self.shots, pool=list(self.pool))

    def code(self) -> str:
        o = self.options()
        work = (f"rows = permutation_probe(model, items, orders={literal(o['orders'])}, labels={literal(self.labels)}, "
                f"template={literal(self.template)}, shots={self.shots}, pool=pool)\n")
        group = (f"headline['{self.metric} by {self.group}'] = {{str(k): v for k, v in group_table("
                 f"summarize_permutation(rows, by=[{literal(self.group)}], n_boot=0), [{literal(self.metric)}])"
                 f".set_index({literal(self.group)})[{literal(self.metric)}].items()}}\n" if self.group else "")
        imports = "from explorer.metrics import group_table, summarize_permutation\n"
        if self.given:
            start = f"import json\n\nimport pandas as pd\n\n{imports}\n{_given(self.given, 'rows')}"
        else:
            start = (self.setup.code() + imports + "from explorer.probes import permutation_probe\n\n"
                     + _pool(self.pool) + under(self.heads, work))
        return (start + "summary = summarize_permutation(rows, n_boot=0)\n"
                + f"headline = {{key: summary[key] for key in {literal(list(PERMUTATION_NUMBERS))}}}\n" + group
                + "print(json.dumps(headline, default=float))  # the numbers the view shows\n")


@dataclass(frozen=True)
class HeadsSpec(Spec):
    """``prompts``: "items" (target/foil from the loaded items) or "capitals" (the built-in counterfactuals).
    ``heads`` here is the scaling this view hands to the others (its own map is of the unscaled model)."""

    prompts: str = "items"
    head: tuple[int, int] | None = None  # None: the head with the largest mean |attribution|
    factor: float = 1.0
    map_of: str = ""
    VIEW_FIELDS: ClassVar[tuple[str, ...]] = ("head", "factor", "map_of", "heads")

    def code(self) -> str:
        if self.prompts == "given":
            records = "records = records  # the records given to HeadsWidget(records=...)\n"
        elif self.prompts == "items":
            records = ("from explorer.probes import item_contrasts\n\n"
                       "records = item_contrasts(model, items)  # target: the gold label; foil: the model's top "
                       "wrong label\n")
        else:
            records = ("from explorer.probes import capital_counterfactuals, known_facts\n\n"
                       "records = known_facts(model, capital_counterfactuals(24))[:12]  # the built-in capital "
                       "counterfactuals the model knows\n")
        pick = (f"head = {literal(self.head)}  # the head selected in the view\n" if self.head is not None else
                "head = tuple(int(v) for v in per_head.loc[per_head['attribution'].abs().idxmax(), "
                "['layer', 'head']])\n")
        applied = ("" if not self.heads else
                   f"# handed to the other views: scale_heads(model, {literal(dict(sorted(self.heads.items())))})\n")
        return (self.setup.code() + "from explorer.probes import head_attribution, mean_attribution, sweep_heads, "
                "sweep_summary\n" + records
                + "attribution = head_attribution(model, records)  # of the unscaled model\n"
                "per_head = mean_attribution(attribution)\n" + pick + applied
                + f"rates = sweep_summary(sweep_heads(model, records, [head], [1.0, {literal(float(self.factor))}]))"
                ".set_index('factor')['target_rate']\n"
                "mean = per_head.set_index(['layer', 'head'])['attribution']\n"
                + _print(f"{{'n_prompts': len(records), 'head': list(head), 'attribution': float(mean[head]), "
                         f"'target_rate_unscaled': float(rates[1.0]), 'target_rate': "
                         f"float(rates[{literal(float(self.factor))}])}}"))


@dataclass(frozen=True)
class CalibrationSpec(Spec):
    formats: tuple[str, ...] = ("letters", "cloze")
    folds: int = 5
    bins: int = 10
    strategy: str = "uniform"
    group: str = "format"  # "" for none
    metric: str = "ece"
    recalibration: str = "none"
    source: str = "prob_norm"
    smooth: bool = False
    given: str = ""  # an expression for a given choice frame (no scoring), e.g. "pd.read_parquet('run.parquet')"
    VIEW_FIELDS: ClassVar[tuple[str, ...]] = ("bins", "strategy", "group", "metric", "recalibration", "source",
                                              "smooth")

    def code(self) -> str:
        by = [self.group] if self.group else []
        if self.given:
            start = ("import json\n\nimport pandas as pd\n\nfrom explorer.probes import recalibrated, summarize\n\n"
                     + _given(self.given, "frame"))
        else:
            work = (f"frame = pd.concat([score_choices(model, items, fmt) for fmt in {literal(list(self.formats))}], "
                    "ignore_index=True)\n")
            start = (self.setup.code() + "import pandas as pd\n\nfrom explorer.probes import recalibrated, "
                     "score_choices, summarize\n\n" + under(self.heads, work))
        return (start
                + f"keep = [c for c in {literal(GROUPABLE)} if c in frame.columns]\n"
                f"fit_by = [c for c in {literal(by)} if c in frame.columns]  # recalibrate within conditions\n"
                f"predictions = recalibrated(frame, {literal(self.recalibration)}, by=fit_by, keep=keep, "
                f"folds={self.folds}, "
                f"prob={literal(self.source)})\n"
                f"summary = summarize(predictions, by={literal(by)}, n_bins={self.bins}, "
                f"strategy={literal(self.strategy)}, "
                f"n_boot={SMECE_BOOTSTRAP})\n"
                + _print(f"summary[{literal(by + list(CALIBRATION_NUMBERS))}].to_dict('records')"))


@dataclass(frozen=True)
class ChainSpec(Spec):
    """``comparison``: a key of ``COMPARISONS``; ``a``/``b``: the conditions compared."""

    comparison: str = "letters vs cloze"
    pool: tuple[Item, ...] = ()
    a: str = ""
    b: str = ""
    given: str = ""  # an expression for a given chain frame (no scoring)
    VIEW_FIELDS: ClassVar[tuple[str, ...]] = ("a", "b")

    def code(self) -> str:
        agreement = (f"agreement = chain_agreement(rows, [({literal(self.a)}, {literal(self.b)})])\n"
                     if self.a != self.b else
                     "agreement = chain_agreement(rows, [])\n")
        numbers = ("means = chain_means(rows)\n" + agreement
                   + _print("{'means': means.to_dict('records'), 'spearman': dict(zip(agreement['link'], "
                            "agreement['spearman']))}"))
        if self.given:
            return ("import json\n\nfrom explorer.metrics import chain_agreement, chain_means\n\n"
                    + _given(self.given, "rows") + numbers)
        spec = COMPARISONS[self.comparison]
        lines = ["from explorer.metrics import chain_agreement, chain_means",
                 "from explorer.probes import chain_conditions, chain_probe", "", _pool(self.pool).rstrip("\n")]
        if spec == HEADS:
            scaled = dict(sorted(self.heads.items()))
            label = "scaled " + ",".join(f"L{l}H{h}x{f:g}" for (l, h), f in scaled.items())
            lines.append(f"conditions = chain_conditions(interventions={{'not scaled': {{}}, "
                         f"{literal(label)}: {literal(scaled)}}})")
            work, heads = "rows = chain_probe(model, items, conditions, pool=pool)\n", {}
        else:
            args = ", ".join(f"{k}={literal(v)}" for k, v in spec.items())
            if max(spec.get("shots", [0])) > len(self.pool):
                lines += ["from explorer.prompts.demos import split_pool",
                          "pool, items = split_pool(items, max(1, min(4, len(items) // 3)), seed=0)  # demonstrations "
                          "kept apart"]
            lines.append(f"conditions = chain_conditions({args})")
            work, heads = "rows = chain_probe(model, items, conditions, pool=pool)\n", self.heads
        return self.setup.code() + "\n".join(lines) + "\n" + under(heads, work) + numbers
