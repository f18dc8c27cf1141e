"""Choose the data: a built-in set, a recognised benchmark (hub id or local copy, config, split, a seeded
sample), or an uploaded JSONL/CSV file; edit any item inline; see what was loaded.

What may be loaded is the dashboard's :class:`~explorer.serve.Policy`: in a notebook anything; served, the
built-in sets, the hub ids its operator lists and uploads within limits. An upload is parsed from its bytes
in memory (never written to the server's disk), and its name is only ever shown as text or quoted as code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import ipywidgets as W

from explorer.errors import ExplorerError
from explorer.items.benchmarks import BENCHMARKS, benchmark
from explorer.items.builtin import DATASETS
from explorer.items.files import FileBytes
from explorer.items.io import Loaded, load_builtin, load_source
from explorer.items.item import Item
from explorer.serve import OPEN, Policy, read_upload
from widgets._runner import Runner
from widgets._setup import INLINE_LIMIT, Setup
from widgets._state import SharedState
from widgets._text import esc, literal, one_line

BUILTIN = tuple(DATASETS)
HUB = "hub"  # the data choice that reveals the benchmark controls
AUTO = "(auto)"


def _upload_entries(value) -> list[dict]:
    """FileUpload's value as a list of {name, content} (ipywidgets 8 gives a tuple of dicts)."""
    return list(value.values()) if isinstance(value, dict) else list(value)


class DataPanel:
    """Holds the current items; calls ``on_change(items)`` when they change (new set or an edit)."""

    def __init__(self, state: SharedState, on_change: Callable[[list[Item]], None],
                 on_error: Callable[[str], None], *, dataset: str = "capitals", n_items: int = 12,
                 policy: Policy = OPEN) -> None:
        self.state, self._on_change, self._on_error, self.policy = state, on_change, on_error, policy
        self.items: list[Item] = []
        self.loaded: Loaded | None = None
        self._source: tuple[str, str | None] = ("", None)  # (how the items were loaded, as code; a note)
        hub = [("benchmark (hub id or folder)…" if policy.any_data else "benchmark (hub id)…", HUB)] \
            if policy.any_data or policy.datasets else []
        self.dataset = W.Dropdown(options=[*((b, b) for b in BUILTIN), *hub], value=dataset, description="data")
        self.n_items = W.IntText(value=n_items, description="items", layout=W.Layout(width="160px"),
                                 tooltip=f"a sample of 1 to {policy.max_items:,} items")
        types = policy.uploads.types if policy.uploads is not None else (".jsonl", ".json", ".csv")
        self.upload = W.FileUpload(accept=",".join(types), multiple=False, description="Upload JSONL/CSV")
        offered = policy.dataset_choices([b.id for b in BENCHMARKS])
        self.source = W.Combobox(value=offered[0] if offered else "", options=offered, description="dataset",
                                 placeholder="hub id, or a folder with a copy" if policy.any_data else
                                 "a hub id this dashboard offers", ensure_option=False)
        self.config = W.Combobox(description="config", ensure_option=False, layout=W.Layout(width="260px"))
        self.split = W.Combobox(value=AUTO, options=[AUTO, "test", "validation", "train"], description="split",
                                ensure_option=False, layout=W.Layout(width="220px"))
        self.seed = W.IntText(value=0, description="seed", layout=W.Layout(width="140px"))
        self.load_button = W.Button(description="Load", layout=W.Layout(width="auto"))
        self.runner = Runner("data")
        self.hub_box = W.HBox([self.source, self.config, self.split, self.seed, self.load_button, self.runner.widget],
                              layout=W.Layout(display="none", flex_flow="row wrap"))
        self.status = W.HTML()
        self.status.add_class("lmx-data-status")
        self.item = W.Dropdown(description="item", layout=W.Layout(width="380px"))
        self.question = W.Text(description="question", layout=W.Layout(width="560px"))
        self.choices = W.Textarea(description="choices", placeholder="one choice per line",
                                  layout=W.Layout(width="560px", height="90px"))
        self.answer = W.BoundedIntText(description="gold (0-based)", min=-1, max=25, value=-1,
                                       style={"description_width": "initial"}, layout=W.Layout(width="180px"))
        self.apply = W.Button(description="Apply edit", layout=W.Layout(width="auto"),
                              tooltip="replace the selected item in the data set; every view re-scores only it")
        self.dataset.observe(lambda _: self._dataset_changed(), "value")
        self.n_items.observe(lambda _: self._dataset_changed(), "value")
        self.source.observe(lambda _: self._suggest(), "value")
        self.load_button.on_click(lambda _: self.load_benchmark())
        self.upload.observe(lambda ch: self.load_upload(ch["new"]), "value")
        self.item.observe(lambda ch: self._select(ch["new"]), "value")
        self.state.observe(lambda ch: self._follow(ch["new"]), "selected_item")
        self.apply.on_click(lambda _: self.apply_edit())
        self._suggest()
        self.widget = W.VBox([W.HBox([self.dataset, self.n_items, self.upload]), self.hub_box, self.status,
                              W.HBox([self.item, self.answer, self.apply]), self.question, self.choices])

    # --- loading ----------------------------------------------------------------------------------
    def _dataset_changed(self) -> None:
        self.hub_box.layout.display = None if self.dataset.value == HUB else "none"
        if self.dataset.value != HUB:
            self.load_builtin()

    def _suggest(self) -> None:
        """The recognised benchmark's configs and split, when the dataset box names one."""
        known = benchmark(self.source.value.strip())
        if known is not None:
            self.config.options = list(known.configs)
            self.config.value = known.configs[0]
            self.split.value = known.split

    def _sample(self) -> int | None:
        """The sample size asked for, or None (said in the status line) when the policy refuses it."""
        try:
            return self.policy.check_sample(int(self.n_items.value))
        except ExplorerError as e:
            self._failed(str(e))
            return None

    def load_builtin(self) -> None:
        if self.dataset.value != HUB and (n := self._sample()) is not None:
            name = self.dataset.value
            self._loaded(load_builtin(name, n=n), f"explorer.load_items({literal(name)}, n={n})")

    def load_benchmark(self):
        """Load the benchmark the controls name, off the message loop (a hub download can take a while);
        a seeded sample of ``n_items`` items. Served, only the hub ids the operator lists load."""
        source, config, split = self.source.value.strip(), self.config.value.strip(), self.split.value.strip()
        try:
            self.policy.check_dataset(source)
        except ExplorerError as e:
            self._failed(str(e))
            return None
        if (n := self._sample()) is None:
            return None
        options = dict(config=None if config in ("", "default") else config,
                       split=None if split in ("", AUTO) else split, n=n, seed=int(self.seed.value))
        self.status.value = f"<i>loading {esc(one_line(source, 80))}…</i>"

        def loaded(result: Loaded) -> None:
            args = ", ".join(f"{k}={literal(v)}" for k, v in dict(options, config=result.config,
                                                                 split=result.split).items())
            self._loaded(result, f"explorer.load_items({literal(source)}, {args})")

        return self.runner.start(lambda job: load_source(source, **options), on_result=loaded,
                                 on_error=lambda e: self._failed(f"could not load {source}: {e}"))

    def load_upload(self, value) -> None:
        """Read an upload from its bytes: under the policy's limits when it has any (checked before parsing)."""
        entries = _upload_entries(value)
        if not entries:
            return
        name, content = str(entries[0]["name"]), bytes(entries[0]["content"])
        limits = self.policy.uploads
        try:
            loaded = read_upload(name, content, limits) if limits is not None else load_source(FileBytes(name, content))
        except (ExplorerError, ValueError, KeyError) as e:
            self._failed(str(e) if limits is not None and "upload refused" in str(e) else f"could not load {name}: {e}")
            return
        inline = len(loaded.items) <= INLINE_LIMIT  # small uploads are written out in the code
        self._loaded(dataclasses.replace(loaded, name=name),
                     None if inline else f"explorer.load_items({literal(name)})",
                     "" if inline else f"{len(loaded.items)} items uploaded from {name}: put that file here")

    def _loaded(self, loaded: Loaded, code: str | None, note: str = "") -> None:
        if not loaded.items:
            self._failed(f"{loaded.name} holds no items")
            return
        self.loaded, self._source = loaded, (code, note)
        skipped = "" if not loaded.skipped else (f" (e.g. {loaded.skipped[0].item_id!r}: {loaded.skipped[0].problem})")
        self.status.value = f"<span style='color:#2a6'>loaded: {esc(one_line(loaded.describe() + skipped, 400))}</span>"
        self._set(loaded.items)

    def _failed(self, text: str) -> None:
        line = one_line(text, 600)
        self.status.value = f"<span style='color:#b00'>{esc(line)}</span>"
        self._on_error(line)

    def setup(self, model: str | None) -> Setup:
        """Model and data as code: how the items were loaded (the controls as they were then), with the
        edits made since replayed, or the items written out (small uploads)."""
        code, note = self._source
        loaded = tuple(self.loaded.items) if self.loaded is not None and code is not None else ()
        return Setup(model=model, data=code, items=tuple(self.items), loaded=loaded, note=note)

    def code(self) -> str:
        """The library call that loads the current data."""
        return self._source[0] or "[...]  # the items, written out"

    # --- editing ----------------------------------------------------------------------------------
    def apply_edit(self) -> None:
        """Replace the selected item with the edited one (validated: a bad edit shows an error; served, within
        the upload limits' choices and characters)."""
        old = next(i for i in self.items if i.id == self.item.value)
        choices = tuple(c.strip() for c in self.choices.value.splitlines() if c.strip())
        try:
            new = Item(id=old.id, question=self.question.value, choices=choices,
                       answer=None if self.answer.value < 0 else int(self.answer.value), metadata=old.metadata)
            if self.policy.uploads is not None:
                self.policy.uploads.check_item(new, "the edited item")
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
