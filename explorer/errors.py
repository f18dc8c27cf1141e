"""Every error the engine raises on purpose: each says what went wrong, where, and how to fix it."""

from __future__ import annotations


class ExplorerError(Exception):
    """Base class for lm-explorer errors that a user can act on."""


class ItemError(ExplorerError, ValueError):
    """A multiple-choice item is malformed; names the item, the field and the fix (and the data set
    it came from, when it came from one)."""

    def __init__(self, item_id: str, field: str, problem: str, fix: str, *, source: str | None = None) -> None:
        self.item_id, self.field, self.problem, self.fix, self.source = item_id, field, problem, fix, source
        where = f"dataset {source}, " if source else ""
        super().__init__(f"{where}item {item_id!r}, field {field!r}: {problem}. Fix: {fix}")

    def within(self, source: str) -> ItemError:
        """The same error, naming the data set it came from."""
        return ItemError(self.item_id, self.field, self.problem, self.fix, source=source)


class DataError(ExplorerError, ValueError):
    """A data source cannot be read as items (unknown schema, missing split or config, no network);
    names the data set, the field or argument at fault, and the fix. Always one line."""

    def __init__(self, dataset: str, field: str, problem: str, fix: str) -> None:
        self.dataset, self.field, self.problem, self.fix = dataset, field, problem, fix
        text = f"dataset {dataset}, field {field!r}: {problem}. Fix: {fix}"
        super().__init__(" ".join(text.split()))


class NoItemsError(ExplorerError, ValueError):
    """A probe, metric or command was given nothing to work on."""


def need_items(items, what: str, *, kind: str = "items") -> list:
    """``items`` as a list; a :class:`NoItemsError` naming ``what`` when it is empty."""
    items = list(items)
    if not items:
        raise NoItemsError(f"no {kind}: {what} needs at least one. Fix: give a data set with at least one item "
                           f"(check --limit, filters and the split)")
    return items


class FormatError(ExplorerError, ValueError):
    """A prompt format or label set cannot be used with this item or tokenizer."""


class ModelLoadError(ExplorerError, OSError):
    """A model could not be found or loaded; says what was tried."""


class UnsupportedArchitectureError(ExplorerError, KeyError):
    """The model's architecture has no adapter (module locations unknown)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class Refused(ExplorerError, PermissionError):
    """A served dashboard does not do what a visitor asked (an unlisted model or data set, a path of the
    server's disk, an upload over the limits); one line saying what is allowed (``explorer.serve``)."""


class RemoteError(ExplorerError):
    """An error where the model runs (the model host of a served dashboard), of a type the page's kernel does not
    import (torch's, say): its type and message, as text."""


class Cancelled(ExplorerError):
    """A run was cancelled between batches; results finished before it are cached."""


class SkippedItemsWarning(UserWarning):
    """Items a data set holds but an :class:`~explorer.items.Item` refuses were left out (``invalid="skip"``)."""


class RunLogError(ExplorerError, ValueError):
    """A run made elsewhere (an lm-eval output folder, a leaderboard details repo, an Inspect log) cannot be
    read; names the file (and line or record), what is wrong and the fix. Always one line."""


class RunLogWarning(UserWarning):
    """Part of a run's log was left out (a truncated line, a task that is not multiple-choice, another
    filter's records); the message names what and why."""
