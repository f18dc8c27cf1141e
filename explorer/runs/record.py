"""What every reader of a run made elsewhere gives: one scored question per record, and the run around them.

A reader (lm-eval, the Open LLM Leaderboard, Inspect) turns its source's own layout into
:class:`ScoredDoc` records and a :class:`RunLog`; :mod:`explorer.runs.frame` turns those into the
engine's frame, so every metric function applies unchanged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from explorer.errors import RunLogWarning

LETTERS, CLOZE, PARTIAL = "letters", "cloze", "partial"  # what was scored: labels, choice texts, contexts


@dataclass(frozen=True)
class ScoredDoc:
    """One question as a run scored it: each choice's log-likelihood (the harness's own numbers).

    ``targets`` are the scored continuations (" A", or " Paris"); ``choices`` the choices' texts as a
    reader sees them; ``labels`` the labels shown ("" for cloze). ``n_chars`` are the lengths lm-eval's
    ``acc_norm`` divides by (None when the log cannot tell); ``unconditional`` the log-likelihoods of
    ``acc_mutual_info``'s unconditional requests. ``logged``: the run's own per-question metrics.
    """

    task: str
    doc_id: str
    question: str
    prompt: str
    choices: tuple[str, ...]
    targets: tuple[str, ...]
    labels: tuple[str, ...]
    logprobs: tuple[float, ...]
    gold: int
    fmt: str = LETTERS
    shots: int = 0
    seed: int = 0
    order: str | None = None  # the order's name when several orders of one question were scored (Inspect)
    positions: tuple[int, ...] | None = None  # the choice (canonical index) shown at each position; None: as listed
    is_greedy: tuple[bool, ...] | None = None
    unconditional: tuple[float, ...] | None = None
    n_chars: tuple[int, ...] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    logged: dict[str, float] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.targets)

    @property
    def item_id(self) -> str:
        return f"{self.task}/{self.doc_id}"


@dataclass
class RunLog:
    """A whole run: its records, the model and source, what the run itself reported, and what was left out."""

    docs: list[ScoredDoc]
    model: str
    source: str  # "lm-eval 0.4.13", "open-llm-leaderboard", "inspect_ai 0.3.285", ...
    path: str
    logged: dict[str, dict[str, float]] = field(default_factory=dict)  # task -> the run's own aggregate metrics
    details: dict[str, Any] = field(default_factory=dict)  # JSON-ready: format, date, filters, seeds, configs
    notes: list[str] = field(default_factory=list)  # what was left out and why (also warned)

    def note(self, message: str) -> None:
        """Record and warn that something was left out."""
        self.notes.append(message)
        warnings.warn(message, RunLogWarning, stacklevel=3)

    @property
    def tasks(self) -> list[str]:
        return list(dict.fromkeys(d.task for d in self.docs))


class Shared(dict):
    """Run metadata for ``DataFrame.attrs``, which pandas deep-copies into every frame derived from a frame:
    read once and never changed, so copies share it (a whole MMLU run's metrics otherwise cost seconds)."""

    def __deepcopy__(self, memo: dict) -> Shared:
        return self
