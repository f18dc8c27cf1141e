"""How segments become forward passes: rows packed from segments, batched by a token budget.

Segments of one wave that continue the same past share a row (first fit, longest first, up to
``segment_tokens``), so short pieces do not each take a row and a shared past is copied once per
row. Rows are sorted by length and cut into batches whose padded size stays within a token
budget and whose padding stays small, so rows of very different lengths never pad each other out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from explorer.scoring.segments import Segment, plan_segments, subtree_sizes, waves
from explorer.scoring.trie import Node, build_tree, shared_length

# Padding a batch may add, as a share of its computed tokens. The linear layers run at the CPU's
# peak, so every padded token costs as much as a real one, while one more forward pass costs little.
MAX_WASTE = 0.03


@dataclass(eq=False)
class Row:
    """Segments continuing the same past, side by side in one row of a forward pass (``starts``: where
    each begins); the mask keeps each blind to the others."""

    segments: list[Segment] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    size: int = 0

    @property
    def past(self) -> list[Node]:
        return self.segments[0].past

    @property
    def past_len(self) -> int:
        return self.segments[0].past_len

    def add(self, seg: Segment) -> None:
        self.segments.append(seg)
        self.starts.append(self.size)
        self.size += seg.size


def pack_rows(wave: list[Segment], *, max_tokens: int) -> list[Row]:
    """Segments sharing a past packed into rows of at most ``max_tokens`` (first fit, longest first;
    a longer segment gets a row of its own)."""
    groups: dict[tuple[int, ...], list[Row]] = {}
    for seg in sorted(wave, key=lambda s: -s.size):
        rows = groups.setdefault(tuple(id(n) for n in seg.past), [])
        row = next((r for r in rows if r.size + seg.size <= max_tokens), None)
        if row is None:
            row = Row()
            rows.append(row)
        row.add(seg)
    return [row for rows in groups.values() for row in rows]


def padded(batch: list[Row]) -> tuple[int, int]:
    """What a forward pass of ``batch`` computes: (own tokens, past slots), each rows x the longest."""
    return len(batch) * max(r.size for r in batch), len(batch) * max(r.past_len for r in batch)


def batches(rows: list[Row], *, token_budget: int, max_rows: int, max_waste: float = MAX_WASTE) -> list[list[Row]]:
    """Cut rows into batches: sorted by length, a batch grows while its padded size
    (rows x (longest past + longest row)) fits ``token_budget``, it has at most ``max_rows`` rows,
    and padding stays under ``max_waste`` of its computed tokens. A row over the budget runs alone."""
    out: list[list[Row]] = []
    batch: list[Row] = []
    real = p_max = t_max = 0
    for row in sorted(rows, key=lambda r: (r.size, r.past_len)):
        p, t = max(p_max, row.past_len), max(t_max, row.size)
        n = len(batch) + 1
        if batch and (n > max_rows or n * (p + t) > token_budget or n * t - real - row.size > max_waste * n * t):
            out.append(batch)
            batch, real, p, t = [], 0, row.past_len, row.size
        batch.append(row)
        real, p_max, t_max = real + row.size, p, t
    if batch:
        out.append(batch)
    return out


def schedule(tops: list[Node], *, batch_size: int, token_budget: int, segment_tokens: int) -> list[list[Row]]:
    """Every forward pass for a tree, in an order where each segment's past is computed before it.
    Rows hold at most ``segment_tokens`` tokens, and never more than the budget (save a node longer
    than that, which runs alone)."""
    longest = min(segment_tokens, token_budget)
    return [b for wave in waves(plan_segments(tops, max_tokens=longest))
            for b in batches(pack_rows(wave, max_tokens=longest), token_budget=token_budget, max_rows=batch_size)]


def chunks(ordered: Sequence[Sequence[int]], max_tokens: int) -> Iterator[slice]:
    """Consecutive runs of sorted sequences holding at most ``max_tokens`` prefix-tree tokens each
    (a sequence adds the tokens past the prefix it shares with the one before it); a run holds at
    least one sequence."""
    start, tokens = 0, 0
    for i, seq in enumerate(ordered):
        new = len(seq) - (shared_length(ordered[i - 1], seq) if i > start else 0)
        if i > start and tokens + new > max_tokens:
            yield slice(start, i)
            start, tokens, new = i, 0, len(seq)
        tokens += new
    if start < len(ordered):
        yield slice(start, len(ordered))


@dataclass(frozen=True)
class TokenCounts:
    """What a set of prompts costs: ``flat`` tokens (one prompt at a time), ``tree`` tokens (each
    shared prefix once), ``computed`` tokens (tree tokens plus padding, as the engine runs them),
    ``past`` padded slots of earlier keys and values copied into batches, and ``forwards``."""

    flat: int
    tree: int
    computed: int
    past: int
    forwards: int


def count_tokens(sequences: Sequence[Sequence[int]], *, batch_size: int, token_budget: int, segment_tokens: int,
                 chunk_tokens: int) -> TokenCounts:
    """The engine's plan for distinct ``sequences``, counted without running a model."""
    ordered = sorted({tuple(s) for s in sequences})
    tree = computed = past = forwards = 0
    for part in chunks(ordered, chunk_tokens):
        tops = build_tree(ordered[part], [[len(s) - 1] for s in ordered[part]])
        tree += sum(len(n.tokens) for n in subtree_sizes(tops))
        for batch in schedule(tops, batch_size=batch_size, token_budget=token_budget, segment_tokens=segment_tokens):
            own, slots = padded(batch)
            computed += own
            past += slots
            forwards += 1
    return TokenCounts(sum(len(s) for s in sequences), tree, computed, past, forwards)
