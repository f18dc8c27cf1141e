"""How a prefix tree is cut into forward passes: packed segments, grouped into batches by a token budget.

A *segment* is a connected piece of the tree laid out as one row, its nodes in depth-first order:
a subtree small enough is packed whole (a tree-shaped attention mask keeps each branch blind to
its siblings), a larger one runs its root alone and its children become segments of their own.
Either way every tree token is computed once. Segments whose ancestors are all computed form a
*wave*; a wave is sorted by length and cut into batches whose padded size stays within a token
budget, so rows of very different lengths never pad each other out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from explorer.scoring.trie import Node, build_tree


@dataclass(eq=False)
class Segment:
    """Nodes laid out in one row: ``nodes[0]`` is the root, the rest its descendants in depth-first order.

    ``offsets[i]`` is where node i's tokens start in the row and ``ends[i]`` where its subtree's tokens
    end, so token j is visible to token q exactly when ``j <= q < end of j's node``. ``past`` are the
    root's ancestors, top-down: their keys and values come from earlier segments.
    """

    nodes: list[Node]
    offsets: list[int]
    ends: list[int]
    past: list[Node]
    children: list[Segment] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.ends[0]

    @property
    def past_len(self) -> int:
        return self.nodes[0].start


def subtree_sizes(tops: list[Node]) -> dict[Node, int]:
    """Tokens in each node's subtree (the node included)."""
    order = list(_preorder(tops))
    size: dict[Node, int] = {}
    for node in reversed(order):
        size[node] = len(node.tokens) + sum(size[c] for c in node.children.values())
    return size


def _preorder(tops: list[Node]) -> Iterator[Node]:
    stack = list(reversed(tops))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(node.children.values())))


def plan_segments(tops: list[Node], *, max_tokens: int) -> list[Segment]:
    """Cut the tree into segments of at most ``max_tokens`` (a single node longer than that runs alone);
    returns the top-level segments, each with its ``children`` segments."""
    size = subtree_sizes(tops)
    roots: list[Segment] = []
    stack: list[tuple[Node, list[Node], Segment | None]] = [(n, [], None) for n in reversed(tops)]
    while stack:
        node, past, parent = stack.pop()
        if size[node] <= max_tokens:
            seg = _packed(node, past)
        else:
            seg = Segment([node], [0], [len(node.tokens)], past)
            stack.extend((c, [*past, node], seg) for c in reversed(list(node.children.values())))
        (parent.children if parent is not None else roots).append(seg)
    return roots


def _packed(root: Node, past: list[Node]) -> Segment:
    nodes, offsets, ends, at = [], [], [], 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    index: dict[Node, int] = {}
    while stack:
        node, closing = stack.pop()
        if closing:
            ends[index[node]] = at
            continue
        index[node] = len(nodes)
        nodes.append(node)
        offsets.append(at)
        ends.append(-1)
        at += len(node.tokens)
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(list(node.children.values())))
    return Segment(nodes, offsets, ends, past)


def waves(roots: list[Segment]) -> Iterator[list[Segment]]:
    """Segments by depth in the segment tree: every segment's past is computed in earlier waves."""
    current = roots
    while current:
        yield current
        current = [c for s in current for c in s.children]


def batches(wave: list[Segment], *, token_budget: int, max_rows: int, max_waste: float = 0.1) -> list[list[Segment]]:
    """Cut a wave into batches: sorted by length, a batch grows while its padded size
    (rows x (longest past + longest segment)) fits ``token_budget``, it has at most ``max_rows`` rows,
    and padding stays under ``max_waste`` of its computed tokens. A segment over the budget runs alone."""
    out: list[list[Segment]] = []
    batch: list[Segment] = []
    real = p_max = t_max = 0
    for seg in sorted(wave, key=lambda s: (s.size, s.past_len)):
        p, t = max(p_max, seg.past_len), max(t_max, seg.size)
        rows = len(batch) + 1
        waste = rows * t - real - seg.size
        if batch and (rows > max_rows or rows * (p + t) > token_budget or waste > max_waste * rows * t):
            out.append(batch)
            batch, real, p, t = [], 0, seg.past_len, seg.size
        batch.append(seg)
        real, p_max, t_max = real + seg.size, p, t
    if batch:
        out.append(batch)
    return out


def schedule(tops: list[Node], *, batch_size: int, token_budget: int, segment_tokens: int) -> list[list[Segment]]:
    """Every forward pass for a tree, in an order where each segment's past is computed before it."""
    roots = plan_segments(tops, max_tokens=segment_tokens)
    return [b for wave in waves(roots) for b in batches(wave, token_budget=token_budget, max_rows=batch_size)]


def chunks(ordered: Sequence[Sequence[int]], max_tokens: int) -> Iterator[slice]:
    """Consecutive runs of sorted sequences holding at most ``max_tokens`` prefix-tree tokens each
    (a sequence adds the tokens past the prefix it shares with the one before it); a run holds at
    least one sequence."""
    start, tokens = 0, 0
    for i, seq in enumerate(ordered):
        new = len(seq) - (_shared(ordered[i - 1], seq) if i > start else 0)
        if i > start and tokens + new > max_tokens:
            yield slice(start, i)
            start, tokens, new = i, 0, len(seq)
        tokens += new
    if start < len(ordered):
        yield slice(start, len(ordered))


def _shared(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


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
            computed += len(batch) * max(s.size for s in batch)
            past += len(batch) * max(s.past_len for s in batch)
            forwards += 1
    return TokenCounts(sum(len(s) for s in sequences), tree, computed, past, forwards)
