"""State shared by the probe widgets of one dashboard: the selected item and the intervention.

Each probe widget takes an optional ``SharedState``; selecting an item in one selects it in all,
and head scaling set in the heads view applies to the work of every other view (each view hands it to
:func:`explorer.serve.calls.run` with its work).
"""

from __future__ import annotations

import traitlets as T


class SharedState(T.HasTraits):
    """``selected_item``: an item id or "". ``heads``: {(layer, head): factor}, {} for none.
    ``apply_intervention``: whether other views run their work under ``heads``."""

    selected_item = T.Unicode("")
    heads = T.Dict()
    apply_intervention = T.Bool(False)

    def applied(self) -> dict[tuple[int, int], float]:
        """The head scaling the other views run under now ({} when the switch is off)."""
        return dict(self.heads) if self.apply_intervention else {}
