"""Choose the data: a built-in set or an uploaded JSONL/CSV file, and edit any item inline."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import ipywidgets as W

from explorer.errors import ExplorerError
from explorer.items import Item, builtin_items, load_items
from widgets._state import SharedState

BUILTIN = ("capitals", "arithmetic")


def _upload_entries(value) -> list[dict]:
    """FileUpload's value as a list of {name, content} (ipywidgets 8 gives a tuple of dicts)."""
    return list(value.values()) if isinstance(value, dict) else list(value)


class DataPanel:
    """Holds the current items; calls ``on_change(items)`` when they change (new set or an edit)."""

    def __init__(self, state: SharedState, on_change: Callable[[list[Item]], None],
                 on_error: Callable[[str], None], *, dataset: str = "capitals", n_items: int = 12) -> None:
        self.state, self._on_change, self._on_error = state, on_change, on_error
        self.items: list[Item] = []
        self.dataset = W.Dropdown(options=list(BUILTIN), value=dataset, description="data")
        self.n_items = W.BoundedIntText(value=n_items, min=2, max=500, description="items", layout=W.Layout(width="160px"))
        self.upload = W.FileUpload(accept=".jsonl,.json,.csv", multiple=False, description="Upload JSONL/CSV")
        self.item = W.Dropdown(description="item", layout=W.Layout(width="380px"))
        self.question = W.Text(description="question", layout=W.Layout(width="560px"))
        self.choices = W.Textarea(description="choices", placeholder="one choice per line",
                                  layout=W.Layout(width="560px", height="90px"))
        self.answer = W.BoundedIntText(description="gold (0-based)", min=-1, max=25, value=-1,
                                       style={"description_width": "initial"}, layout=W.Layout(width="180px"))
        self.apply = W.Button(description="Apply edit", icon="check")
        self.dataset.observe(lambda _: self.load_builtin(), "value")
        self.n_items.observe(lambda _: self.load_builtin(), "value")
        self.upload.observe(lambda ch: self.load_upload(ch["new"]), "value")
        self.item.observe(lambda ch: self._select(ch["new"]), "value")
        self.state.observe(lambda ch: self._follow(ch["new"]), "selected_item")
        self.apply.on_click(lambda _: self.apply_edit())
        self.widget = W.VBox([W.HBox([self.dataset, self.n_items, self.upload]),
                              W.HBox([self.item, self.answer, self.apply]), self.question, self.choices])

    def load_builtin(self) -> None:
        self._set(builtin_items(self.dataset.value, n=int(self.n_items.value)))

    def load_upload(self, value) -> None:
        entries = _upload_entries(value)
        if not entries:
            return
        entry = entries[0]
        suffix = Path(entry["name"]).suffix
        with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as f:
            f.write(bytes(entry["content"]))
        try:
            items = load_items(f.name)
        except (ExplorerError, ValueError, KeyError) as e:
            self._on_error(f"could not load {entry['name']}: {e}")
            return
        finally:
            Path(f.name).unlink(missing_ok=True)
        if not items:
            self._on_error(f"{entry['name']} holds no items")
            return
        self._set(items)

    def apply_edit(self) -> None:
        """Replace the selected item with the edited one (validated: a bad edit shows an error)."""
        old = next(i for i in self.items if i.id == self.item.value)
        choices = tuple(c.strip() for c in self.choices.value.splitlines() if c.strip())
        try:
            new = Item(id=old.id, question=self.question.value, choices=choices,
                       answer=None if self.answer.value < 0 else int(self.answer.value), metadata=old.metadata)
        except ExplorerError as e:
            self._on_error(str(e))
            return
        self._set([new if i.id == old.id else i for i in self.items], keep=old.id)

    def _set(self, items: list[Item], keep: str | None = None) -> None:
        self.items = items
        self.item.options = [(f"{i.id}: {i.question[:40]}", i.id) for i in items]
        self.item.value = keep if keep is not None else items[0].id
        self._select(self.item.value)
        self._on_change(items)

    def _select(self, item_id: str | None) -> None:
        it = next((i for i in self.items if i.id == item_id), None)
        if it is None:
            return
        self.question.value, self.choices.value = it.question, "\n".join(it.choices)
        self.answer.value = -1 if it.answer is None else it.answer
        self.state.selected_item = it.id

    def _follow(self, item_id: str) -> None:
        if item_id and item_id != self.item.value and any(i.id == item_id for i in self.items):
            self.item.value = item_id
