"""Every error the engine raises on purpose: each says what went wrong, where, and how to fix it."""

from __future__ import annotations


class ExplorerError(Exception):
    """Base class for lm-explorer errors that a user can act on."""


class ItemError(ExplorerError, ValueError):
    """A multiple-choice item is malformed; names the item, the field and the fix."""

    def __init__(self, item_id: str, field: str, problem: str, fix: str) -> None:
        self.item_id, self.field, self.problem, self.fix = item_id, field, problem, fix
        super().__init__(f"item {item_id!r}, field {field!r}: {problem}. Fix: {fix}")


class FormatError(ExplorerError, ValueError):
    """A prompt format or label set cannot be used with this item or tokenizer."""


class ModelLoadError(ExplorerError, OSError):
    """A model could not be found or loaded; says what was tried."""


class UnsupportedArchitectureError(ExplorerError, KeyError):
    """The model's architecture has no adapter (module locations unknown)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class Cancelled(ExplorerError):
    """A run was cancelled between batches; results finished before it are cached."""
