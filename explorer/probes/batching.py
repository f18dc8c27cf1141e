"""Forward passes sized by padded tokens: prompts of similar length together, shortest first.

A pass's memory grows with its padded tokens (rows x longest prompt), not with its number of prompts:
sixteen capital questions of 30 tokens cost what one MMLU passage of 480 does. Sizing passes by a token
budget keeps the peak bounded whatever the data; callers put rows back in data order.
"""

from __future__ import annotations

from collections.abc import Sequence


def token_passes(lengths: Sequence[int], *, max_rows: int, token_budget: int, copies: int = 1) -> list[list[int]]:
    """Prompt indices per forward pass: shortest first, a pass growing while its rows (prompts x ``copies``,
    e.g. the sweep's factors) fit ``max_rows`` and its padded tokens (rows x longest) fit ``token_budget``;
    a prompt longer than the budget gets a pass of its own.

    >>> token_passes([5, 30, 10, 20], max_rows=8, token_budget=100, copies=2)
    [[0, 2], [3], [1]]
    >>> token_passes([5, 30, 10, 20], max_rows=2, token_budget=1000)
    [[0, 2], [3, 1]]
    """
    out: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        rows = (len(out[-1]) + 1) * copies if out else 0
        if out and rows <= max_rows and rows * lengths[i] <= token_budget:
            out[-1].append(i)
        else:
            out.append([i])
    return out
