"""The Merkle log at scale: complete-subtree hashes in a :class:`NodeStore`, O(log n) reads.

A node is keyed by ``(level, index)``: the hash of the complete subtree covering leaves
``[index * 2**level, (index + 1) * 2**level)``. Level 0 holds the leaf hashes. Only
*complete* subtrees are stored, so a node never changes once written and the log is
append-only at every level: appending leaves writes the new leaf hashes and every subtree
they complete, nothing else.

Every other quantity is computed from at most ``2 * ceil(log2 n) + 1`` stored nodes fetched
in one :meth:`NodeStore.get_nodes` call:

* the root of a tree of size ``n`` (one node per set bit of ``n``);
* the audit path of a leaf (one complete sibling per level, plus the complete subtrees of
  the at most one "ragged" right sibling);
* a consistency proof between two sizes.

The tree size itself is kept by the caller (the log head row), which serialises appends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from debtflow.core.evidence.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

NodeKey = tuple[int, int]
# (level, index): the complete subtree of 2**level leaves starting at leaf index * 2**level.


class MissingNodeError(LookupError):
    """The store lacks a node the tree of this size must have: the store is inconsistent."""


class NodeStore(Protocol):
    """Where complete-subtree hashes live.

    ``get_nodes`` is one batched read, e.g.
    ``SELECT level, idx, hash FROM merkle_node WHERE (level, idx) IN (...)``; it returns
    the keys it found (missing keys are simply absent). ``put_nodes`` inserts new nodes;
    nodes are immutable, so writing a different hash under an existing key is an error.
    """

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]: ...

    def put_nodes(self, nodes: Sequence[tuple[NodeKey, bytes]]) -> None: ...


class InMemoryNodeStore:
    """A :class:`NodeStore` keeping each level as one contiguous ``bytearray``.

    32 bytes per node and about 2 nodes per leaf: 10 million leaves take about 640 MB.
    Writes must extend a level contiguously (what :func:`append_leaves` does).
    """

    def __init__(self) -> None:
        self._levels: list[bytearray] = []
        self.reads = 0
        self.nodes_read = 0

    def node_count(self, level: int) -> int:
        """How many nodes the store holds at ``level``."""
        if level >= len(self._levels):
            return 0
        return len(self._levels[level]) // HASH_SIZE

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        self.reads += 1
        self.nodes_read += len(keys)
        found: dict[NodeKey, bytes] = {}
        for key in keys:
            level, index = key
            if 0 <= level < len(self._levels) and 0 <= index < self.node_count(level):
                start = index * HASH_SIZE
                found[(level, index)] = bytes(self._levels[level][start : start + HASH_SIZE])
        return found

    def put_nodes(self, nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        for (level, index), value in nodes:
            if len(value) != HASH_SIZE:
                raise ValueError(f"node ({level}, {index}) hash is not {HASH_SIZE} bytes")
            while len(self._levels) <= level:
                self._levels.append(bytearray())
            row = self._levels[level]
            count = len(row) // HASH_SIZE
            if index == count:
                row += value
            elif 0 <= index < count:
                if row[index * HASH_SIZE : (index + 1) * HASH_SIZE] != value:
                    raise ValueError(f"node ({level}, {index}) already holds a different hash")
            else:
                raise ValueError(f"node ({level}, {index}) would leave a gap at level {level}")


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")


def _fetch(store: NodeStore, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    unique = list(dict.fromkeys(keys))
    if not unique:
        return {}
    found = store.get_nodes(unique)
    missing = [key for key in unique if key not in found]
    if missing:
        raise MissingNodeError(f"store lacks node(s) {missing[:5]}")
    return {key: found[key] for key in unique}


def range_keys(start: int, end: int) -> list[NodeKey]:
    """The complete subtrees, left to right, whose fold gives MTH(D[start:end]).

    ``start`` must be aligned as the RFC recursion aligns it (a multiple of the largest power
    of two not above ``end - start``), which holds for every range the proofs use.
    """
    keys: list[NodeKey] = []
    position, remaining = start, end - start
    while remaining:
        level = remaining.bit_length() - 1
        keys.append((level, position >> level))
        position += 1 << level
        remaining -= 1 << level
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    running = hashes[-1]
    for value in reversed(hashes[:-1]):
        running = node_hash(value, running)
    return running


def _split(size: int) -> int:
    return 1 << ((size - 1).bit_length() - 1)


def append_leaves(store: NodeStore, tree_size: int, leaf_hashes: Sequence[bytes]) -> int:
    """Append leaf hashes to a log of ``tree_size`` leaves; return the new size.

    Writes the new leaf hashes and every complete subtree they complete, in one
    ``put_nodes`` call, after one ``get_nodes`` call for the at most one stored left
    sibling per level that a new node needs.
    """
    _check_size("tree size", tree_size)
    for position, value in enumerate(leaf_hashes):
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ValueError(f"leaf hash at position {position} is not {HASH_SIZE} bytes")
    old, new = tree_size, tree_size + len(leaf_hashes)
    if new == old:
        return new
    needed: list[NodeKey] = []
    level = 1
    while (new >> level) > (old >> level):
        first_new = old >> level
        if 2 * first_new < (old >> (level - 1)):
            needed.append((level - 1, 2 * first_new))
        level += 1
    stored = _fetch(store, needed)
    writes: list[tuple[NodeKey, bytes]] = [
        ((0, old + offset), value) for offset, value in enumerate(leaf_hashes)
    ]
    # current[i] is node (level, base + i); base may include one stored left node.
    current = list(leaf_hashes)
    base = old
    level = 0
    while (new >> (level + 1)) > (old >> (level + 1)):
        first_new = old >> (level + 1)
        if 2 * first_new < base:
            current.insert(0, stored[(level, 2 * first_new)])
            base -= 1
        if base % 2:
            raise AssertionError("unaligned level run")  # pragma: no cover - invariant
        count = (new >> (level + 1)) - first_new
        parents = [node_hash(current[2 * i], current[2 * i + 1]) for i in range(count)]
        level += 1
        writes.extend(((level, first_new + i), value) for i, value in enumerate(parents))
        current, base = parents, first_new
    store.put_nodes(writes)
    return new


def stored_root_hash(store: NodeStore, tree_size: int) -> bytes:
    """MTH of the first ``tree_size`` leaves of the stored log (popcount(n) reads)."""
    _check_size("tree size", tree_size)
    if tree_size == 0:
        return EMPTY_ROOT
    keys = range_keys(0, tree_size)
    found = _fetch(store, keys)
    return _fold([found[key] for key in keys])


def _inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    start, end = 0, tree_size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, tree_size: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, tree_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m -= k
            start += k
            complete = False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def _hashes_for_ranges(store: NodeStore, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    per_range = [range_keys(start, end) for start, end in ranges]
    found = _fetch(store, [key for keys in per_range for key in keys])
    return [_fold([found[key] for key in keys]) for keys in per_range]


def stored_inclusion_proof(store: NodeStore, index: int, tree_size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``tree_size`` leaves (one read)."""
    _check_size("tree size", tree_size)
    _check_size("leaf index", index)
    if index >= tree_size:
        raise ValueError(f"leaf index {index} is outside a tree of size {tree_size}")
    return _hashes_for_ranges(store, _inclusion_ranges(index, tree_size))


def stored_consistency_proof(store: NodeStore, old_size: int, tree_size: int) -> list[bytes]:
    """The consistency proof from ``old_size`` (>= 1) to ``tree_size`` leaves (one read)."""
    _check_size("tree size", tree_size)
    _check_size("old size", old_size)
    if not 1 <= old_size <= tree_size:
        raise ValueError(f"old size {old_size} must be between 1 and the tree size {tree_size}")
    return _hashes_for_ranges(store, _consistency_ranges(old_size, tree_size))


def leaf_hashes_of(store: NodeStore, start: int, end: int) -> list[bytes]:
    """Stored leaf hashes ``[start, end)`` (for audits that recompute the tree)."""
    keys = [(0, index) for index in range(start, end)]
    found = _fetch(store, keys)
    return [found[key] for key in keys]


def nodes_written_by_append(tree_size: int, count: int) -> Iterable[NodeKey]:
    """The keys :func:`append_leaves` writes when ``count`` leaves join ``tree_size``."""
    old, new = tree_size, tree_size + count
    level = 0
    while (new >> level) > (old >> level):
        for index in range(old >> level, new >> level):
            yield (level, index)
        level += 1
