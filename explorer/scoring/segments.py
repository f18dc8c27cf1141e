"""A prefix tree cut into segments: connected pieces, each laid out contiguously in a row.

A subtree small enough is one segment, packed whole, its nodes in depth-first order (a
tree-shaped attention mask keeps each branch blind to its siblings); a larger one runs its root
alone as a segment whose keys and values are kept, and its children become segments of their
own. A short prefix shared by large subtrees ("Question:") is cheaper to repeat at the head of
each child's segment than to run in a pass of its own, so it is inlined when that repeats at most
``INLINE_SHARE`` of its subtree's tokens. Segments whose past is computed form a *wave*.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from explorer.scoring.trie import Node

INLINE_SHARE = 0.02  # a shared prefix is repeated in its children's rows when that adds at most 2% of its subtree


@dataclass(eq=False)
class Segment:
    """Nodes laid out contiguously, in depth-first order, each node's ancestors before it.

    ``offsets[i]`` is where node i's tokens start in the segment and ``ends[i]`` where its subtree's
    tokens end, so token j is visible to token q exactly when ``j <= q < end of j's node``. ``past``
    names the earlier segments this one continues: each kept the keys and values of all its tokens,
    under its last node. A segment with ``children`` is such a segment: a chain of nodes, the last
    of which the children continue.
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


def plan_segments(tops: list[Node], *, max_tokens: int, inline_share: float = INLINE_SHARE) -> list[Segment]:
    """Cut the tree into segments of at most ``max_tokens`` (a single node longer than that runs alone);
    returns the top-level segments, each with its ``children`` segments."""
    size = subtree_sizes(tops)
    roots: list[Segment] = []
    # (node, the segments it continues, the inlined chain of short shared prefixes above it, its parent segment)
    stack: list[tuple[Node, list[Node], list[Node], Segment | None]] = [(n, [], [], None) for n in reversed(tops)]
    while stack:
        node, past, lead, parent = stack.pop()
        children = list(node.children.values())
        if sum(len(n.tokens) for n in lead) + size[node] <= max_tokens or not children:
            seg = _layout(lead, node, past, whole=True)
        elif not node.reads and len(node.tokens) * (len(children) - 1) <= inline_share * size[node]:
            stack.extend((c, past, [*lead, node], parent) for c in reversed(children))
            continue
        else:
            seg = _layout(lead, node, past, whole=False)
            stack.extend((c, [*past, node], [], seg) for c in reversed(children))
        (parent.children if parent is not None else roots).append(seg)
    return roots


def _layout(lead: list[Node], root: Node, past: list[Node], *, whole: bool) -> Segment:
    """A segment of the ``lead`` chain, then ``root`` and, if ``whole``, its subtree depth first."""
    nodes, offsets, ends, at = [], [], [], 0
    for node in lead if whole else [*lead, root]:
        nodes.append(node)
        offsets.append(at)
        ends.append(-1)
        at += len(node.tokens)
    stack: list[tuple[Node, bool]] = [(root, False)] if whole else []
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
    return Segment(nodes, offsets, [at if e < 0 else e for e in ends], past)  # a chain spans the whole segment


def waves(roots: list[Segment]) -> Iterator[list[Segment]]:
    """Segments by depth in the segment tree: every segment's past is computed in earlier waves."""
    current = roots
    while current:
        yield current
        current = [c for s in current for c in s.children]
