"""The multiple-choice item: a frozen record that validates itself and remembers choice origins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from explorer.errors import ItemError


@dataclass(frozen=True)
class Item:
    """One question with k choices and optionally the index of the gold choice.

    ``origin[i]`` is the index, in the item as loaded, of the choice now at position ``i``;
    so undoing a permutation is a sort by origin. ``answer`` always indexes ``choices``.
    """

    id: str
    question: str
    choices: tuple[str, ...]
    answer: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    origin: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "choices", tuple(self.choices))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        if not self.origin:
            object.__setattr__(self, "origin", tuple(range(len(self.choices))))
        self._validate()

    def __reduce__(self) -> tuple:
        """Pickled as its fields, the metadata as a dict (a read-only mapping view does not pickle): an item goes
        to the model host of a served dashboard and to a cluster's workers as it is."""
        return (Item, (self.id, self.question, self.choices, self.answer, dict(self.metadata), self.origin))

    def _validate(self) -> None:
        fail = lambda fld, problem, fix: ItemError(self.id, fld, problem, fix)  # noqa: E731
        if not isinstance(self.question, str) or not self.question.strip():
            raise fail("question", "the question is empty", "give every item a non-empty question")
        if len(self.choices) < 2:
            raise fail("choices", f"it has {len(self.choices)} choice(s)", "give at least 2 choices")
        for i, choice in enumerate(self.choices):
            if not isinstance(choice, str) or not choice.strip():
                raise fail("choices", f"choice {i} is empty or not text", "make every choice non-empty text")
        seen: dict[str, int] = {}
        for i, choice in enumerate(self.choices):
            key = choice.strip()
            if key in seen:
                raise fail("choices", f"choices {seen[key]} and {i} are both {choice!r}", "remove the duplicate")
            seen[key] = i
        if self.answer is not None:
            if isinstance(self.answer, bool) or not isinstance(self.answer, int):
                raise fail("answer", f"{self.answer!r} is not an integer index", "use a 0-based choice index")
            if not 0 <= self.answer < len(self.choices):
                raise fail(
                    "answer",
                    f"index {self.answer} is out of range for {len(self.choices)} choices",
                    f"use an index from 0 to {len(self.choices) - 1}",
                )
        if sorted(self.origin) != list(range(len(self.choices))):
            raise fail("origin", f"{self.origin} is not a permutation of the choices", "leave origin unset")

    @property
    def k(self) -> int:
        """Number of choices."""
        return len(self.choices)

    @property
    def gold(self) -> str | None:
        """The gold choice's text, if known."""
        return None if self.answer is None else self.choices[self.answer]

    def permuted(self, order: Sequence[int]) -> Item:
        """The item with ``choices[order[i]]`` at position ``i``; the answer and origins follow."""
        order = tuple(int(o) for o in order)
        if sorted(order) != list(range(self.k)):
            raise ItemError(self.id, "order", f"{order} is not a permutation of 0..{self.k - 1}",
                            f"give each index 0..{self.k - 1} exactly once")
        return Item(
            id=self.id,
            question=self.question,
            choices=tuple(self.choices[o] for o in order),
            answer=None if self.answer is None else order.index(self.answer),
            metadata=self.metadata,
            origin=tuple(self.origin[o] for o in order),
        )

    def with_(self, **changes: Any) -> Item:
        """A copy with some fields replaced (validated again); it keeps ``origin`` unless the choices change."""
        values = {f: getattr(self, f) for f in ("id", "question", "choices", "answer", "metadata", "origin")}
        if "choices" in changes and tuple(changes["choices"]) != self.choices:
            values["origin"] = ()
        values.update(changes)
        return Item(**values)
