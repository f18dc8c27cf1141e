"""A radix tree over token sequences: prompts that share a prefix share its computation.

Every order of one item's choices starts with the same question tokens; continuations of one
context share the context. The tree stores each shared run of tokens once, as one node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(eq=False)
class Node:
    """A run of tokens; ``start`` is the absolute position of its first token."""

    tokens: list[int]
    parent: Node | None
    start: int
    children: dict[int, Node] = field(default_factory=dict)
    # (request index, slot in that request's positions, offset within this node's tokens)
    reads: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.start + len(self.tokens)

    @property
    def depth(self) -> int:
        d, n = 0, self.parent
        while n is not None:
            d, n = d + 1, n.parent
        return d


def build_tree(sequences: Sequence[Sequence[int]], positions: Sequence[Sequence[int]]) -> list[Node]:
    """Insert every sequence, then record which node holds each requested position.

    ``positions[r]`` are indices into ``sequences[r]`` whose next-token distribution is wanted.
    Returns the top-level nodes (children of an empty virtual root).
    """
    root = Node(tokens=[], parent=None, start=0)
    for seq in sequences:
        _insert(root, list(seq))
    for r, (seq, pos) in enumerate(zip(sequences, positions)):
        for slot, p in enumerate(pos):
            if not 0 <= p < len(seq):
                raise IndexError(f"request {r}: position {p} outside a sequence of {len(seq)} tokens")
            node = _locate(root, seq, p)
            node.reads.append((r, slot, p - node.start))
    tops = list(root.children.values())
    for n in tops:
        n.parent = None
    return tops


def _insert(root: Node, seq: list[int]) -> None:
    node, i = root, 0
    while i < len(seq):
        child = node.children.get(seq[i])
        if child is None:
            node.children[seq[i]] = Node(tokens=seq[i:], parent=node, start=i)
            return
        n = shared_length(child.tokens, seq, i)
        if n < len(child.tokens):  # split child at n: child keeps the head, a new node the tail
            tail = Node(tokens=child.tokens[n:], parent=child, start=child.start + n, children=child.children)
            for grandchild in tail.children.values():
                grandchild.parent = tail
            child.tokens, child.children = child.tokens[:n], {tail.tokens[0]: tail}
        node, i = child, i + n


def shared_length(tokens: Sequence[int], seq: Sequence[int], i: int = 0) -> int:
    """How many of ``tokens`` equal ``seq`` from position ``i`` on."""
    n = 0
    while n < len(tokens) and i + n < len(seq) and tokens[n] == seq[i + n]:
        n += 1
    return n


def _locate(root: Node, seq: Sequence[int], p: int) -> Node:
    node, i = root, 0
    while True:
        node = node.children[seq[i]]
        if p < node.end:
            return node
        i = node.end

