"""The stored tree agrees with the list-based reference and reads O(log n) nodes."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

import pytest

from debtflow.core.evidence.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_inclusion,
)
from debtflow.core.evidence.node_store import (
    InMemoryNodeStore,
    MissingNodeError,
    NodeKey,
    append_leaves,
    leaf_hashes_of,
    stored_consistency_proof,
    stored_inclusion_proof,
    stored_root_hash,
)


def hashes_for(count: int, start: int = 0) -> list[bytes]:
    return [leaf_hash(b"leaf-%d" % i) for i in range(start, start + count)]


def build(total: int, seed: int, max_batch: int = 9) -> tuple[InMemoryNodeStore, list[bytes]]:
    rng = random.Random(seed)
    hashes = hashes_for(total)
    store, size = InMemoryNodeStore(), 0
    while size < total:
        batch = rng.randint(1, max_batch)
        size = append_leaves(store, size, hashes[size : min(total, size + batch)])
    return store, hashes


@pytest.mark.parametrize("total", [1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 33, 65])
def test_stored_tree_agrees_with_list_functions_at_every_size(total: int) -> None:
    store, hashes = build(total, seed=total)
    assert stored_root_hash(store, 0) == EMPTY_ROOT
    for size in range(1, total + 1):
        prefix = hashes[:size]
        assert stored_root_hash(store, size) == root_hash(prefix)
        for index in range(size):
            assert stored_inclusion_proof(store, index, size) == inclusion_proof(prefix, index)
        for old in range(1, size + 1):
            assert stored_consistency_proof(store, old, size) == consistency_proof(prefix, old)


def test_larger_tree_agrees_on_sampled_proofs() -> None:
    store, hashes = build(5_000, seed=7, max_batch=700)
    rng = random.Random(3)
    for _ in range(40):
        size = rng.randint(1, 5_000)
        index, old = rng.randrange(size), rng.randint(1, size)
        prefix = hashes[:size]
        assert stored_root_hash(store, size) == root_hash(prefix)
        assert stored_inclusion_proof(store, index, size) == inclusion_proof(prefix, index)
        assert stored_consistency_proof(store, old, size) == consistency_proof(prefix, old)
    assert leaf_hashes_of(store, 10, 20) == hashes[10:20]


class RecordingStore:
    """Wraps a store and records every call, as a SQL store's queries would be counted."""

    def __init__(self) -> None:
        self.inner = InMemoryNodeStore()
        self.reads: list[list[NodeKey]] = []
        self.writes: list[list[NodeKey]] = []

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.reads.append(list(keys))
        return self.inner.get_nodes(keys)

    def put_nodes(self, nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        self.writes.append([key for key, _ in nodes])
        self.inner.put_nodes(nodes)


def complete_nodes(size: int) -> set[NodeKey]:
    return {(level, index) for level in range(size.bit_length()) for index in range(size >> level)}


def test_append_writes_exactly_the_new_complete_subtrees_and_reads_few_nodes() -> None:
    store, size, rng = RecordingStore(), 0, random.Random(11)
    for _ in range(60):
        batch = rng.choice([1, 2, 3, 5, 64, 1000])
        store.reads.clear()
        store.writes.clear()
        new = append_leaves(store, size, hashes_for(batch, size))
        assert new == size + batch
        assert len(store.writes) == 1
        assert set(store.writes[0]) == complete_nodes(new) - complete_nodes(size)
        assert len(store.writes[0]) == len(set(store.writes[0]))
        assert len(store.reads) <= 1
        assert sum(map(len, store.reads)) <= max(1, new.bit_length())
        size = new


def test_proofs_need_one_read_of_at_most_two_log_n_nodes() -> None:
    total = 100_003
    store = RecordingStore()
    size = 0
    while size < total:
        size = append_leaves(store, size, hashes_for(min(10_000, total - size), size))
    root = stored_root_hash(store, total)
    bound = 2 * math.ceil(math.log2(total)) + 1
    rng = random.Random(5)
    for _ in range(200):
        store.reads.clear()
        index = rng.randrange(total)
        proof = stored_inclusion_proof(store, index, total)
        verify_inclusion(leaf_hash(b"leaf-%d" % index), index, total, proof, root)
        old = rng.randint(1, total)
        stored_consistency_proof(store, old, total)
        stored_root_hash(store, rng.randint(1, total))
        assert len(store.reads) == 3
        assert all(len(keys) <= bound for keys in store.reads)


def test_missing_nodes_are_reported_not_guessed() -> None:
    store = InMemoryNodeStore()
    with pytest.raises(MissingNodeError):
        stored_root_hash(store, 3)
    with pytest.raises(MissingNodeError):
        append_leaves(store, 5, hashes_for(3))


def test_bad_arguments_are_rejected() -> None:
    store, _ = build(10, seed=1)
    with pytest.raises(ValueError, match="outside"):
        stored_inclusion_proof(store, 10, 10)
    with pytest.raises(ValueError, match="between 1"):
        stored_consistency_proof(store, 0, 10)
    with pytest.raises(ValueError, match="between 1"):
        stored_consistency_proof(store, 11, 10)
    with pytest.raises(ValueError, match="32 bytes"):
        append_leaves(store, 10, [b"short"])
    with pytest.raises(ValueError, match="non-negative"):
        stored_root_hash(store, -1)
    assert append_leaves(store, 10, []) == 10


def test_in_memory_store_keeps_nodes_immutable_and_gap_free() -> None:
    store = InMemoryNodeStore()
    store.put_nodes([((0, 0), b"a" * 32)])
    store.put_nodes([((0, 0), b"a" * 32)])
    with pytest.raises(ValueError, match="different hash"):
        store.put_nodes([((0, 0), b"b" * 32)])
    with pytest.raises(ValueError, match="gap"):
        store.put_nodes([((0, 2), b"c" * 32)])
    with pytest.raises(ValueError, match="32 bytes"):
        store.put_nodes([((0, 1), b"c")])
    assert store.get_nodes([(0, 0), (0, 1), (3, 0)]) == {(0, 0): b"a" * 32}
