"""State shared by the probe widgets of one dashboard: the selected item and the intervention.

Each probe widget takes an optional ``SharedState``; selecting an item in one selects it in all,
and head scaling set in the heads view applies to the work of every other view.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import traitlets as T

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel


class SharedState(T.HasTraits):
    """``selected_item``: an item id or "". ``heads``: {(layer, head): factor}, {} for none.
    ``apply_intervention``: whether other views run their work under ``heads``."""

    selected_item = T.Unicode("")
    heads = T.Dict()
    apply_intervention = T.Bool(False)

    def applied(self) -> dict[tuple[int, int], float]:
        """The head scaling the other views run under now ({} when the switch is off)."""
        return dict(self.heads) if self.apply_intervention else {}

    def intervention(self, model: LoadedModel) -> contextlib.AbstractContextManager:
        """Run the block under the current head scaling when it is switched on, else as is."""
        return self.scaled(model, self.applied())

    @staticmethod
    @contextlib.contextmanager
    def scaled(model: LoadedModel, heads: dict) -> Iterator[None]:
        """Run the block with ``heads`` scaled (a view passes the heads of the spec it runs), or as is."""
        if not heads:
            yield
            return
        from explorer.interventions import scale_heads  # noqa: PLC0415 - the engine's one way to scale heads

        with scale_heads(model, dict(heads)):
            yield
