"""RFC 9162 §2.1 Merkle tree hashing, audit paths and consistency proofs over byte strings.

Hash function SHA-256; a leaf is hashed as ``SHA-256(0x00 || data)``, an interior node as
``SHA-256(0x01 || left || right)``, the empty tree as ``SHA-256("")``.

The list-based functions here take the full list of leaf hashes; they are the reference
used by tests and small trees. :mod:`debtflow.core.evidence.node_store` computes the same
values from stored complete-subtree hashes with O(log n) reads.

Only the standard library is imported: the offline verifier (``debtflow-verify``) uses this.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof, hash, index or size does not verify."""


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 leaf hash of one leaf's bytes."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"leaf data must be bytes, not {type(data).__name__}")
    return hashlib.sha256(LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node from its two children's hashes."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _check_hashes(leaf_hashes: Sequence[bytes]) -> None:
    for position, value in enumerate(leaf_hashes):
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ValueError(f"leaf hash at position {position} is not {HASH_SIZE} bytes")


def _subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) for end > start, by the recursive definition."""
    size = end - start
    if size == 1:
        return leaf_hashes[start]
    k = _split(size)
    return node_hash(
        _subtree_root(leaf_hashes, start, start + k), _subtree_root(leaf_hashes, start + k, end)
    )


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the tree whose leaves have these hashes (``SHA-256("")`` when empty)."""
    _check_hashes(leaf_hashes)
    if not leaf_hashes:
        return EMPTY_ROOT
    return _subtree_root(leaf_hashes, 0, len(leaf_hashes))


def _path(leaf_hashes: Sequence[bytes], index: int, start: int, end: int) -> list[bytes]:
    size = end - start
    if size == 1:
        return []
    k = _split(size)
    if index - start < k:
        sibling = _subtree_root(leaf_hashes, start + k, end)
        return _path(leaf_hashes, index, start, start + k) + [sibling]
    sibling = _subtree_root(leaf_hashes, start, start + k)
    return _path(leaf_hashes, index, start + k, end) + [sibling]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path PATH(index, D[n]) of RFC 9162 §2.1.3.1, leaf-side first."""
    _check_hashes(leaf_hashes)
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError("index must be an int")
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf index {index} is outside a tree of size {len(leaf_hashes)}")
    return _path(leaf_hashes, index, 0, len(leaf_hashes))


def _subproof(
    leaf_hashes: Sequence[bytes], old_size: int, start: int, end: int, complete: bool
) -> list[bytes]:
    size = end - start
    if old_size == size:
        return [] if complete else [_subtree_root(leaf_hashes, start, end)]
    k = _split(size)
    if old_size <= k:
        right = _subtree_root(leaf_hashes, start + k, end)
        return _subproof(leaf_hashes, old_size, start, start + k, complete) + [right]
    left = _subtree_root(leaf_hashes, start, start + k)
    return _subproof(leaf_hashes, old_size - k, start + k, end, False) + [left]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162 §2.1.4.1; empty when old_size equals the size.

    A proof from the empty tree does not exist (every tree extends it): ``old_size`` must
    be at least 1 and at most ``len(leaf_hashes)``.
    """
    _check_hashes(leaf_hashes)
    if isinstance(old_size, bool) or not isinstance(old_size, int):
        raise TypeError("old_size must be an int")
    if not 1 <= old_size <= len(leaf_hashes):
        raise ValueError(
            f"old size {old_size} must be between 1 and the tree size {len(leaf_hashes)}"
        )
    return _subproof(leaf_hashes, old_size, 0, len(leaf_hashes), True)


def _require_hash(name: str, value: object) -> bytes:
    if not isinstance(value, bytes):
        raise ProofError(f"{name} must be bytes, not {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, expected {HASH_SIZE}")
    return value


def _require_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ProofError(f"{name} {value} is negative")
    return value


def _require_proof(proof: object) -> list[bytes]:
    if isinstance(proof, (bytes, bytearray, str)) or not isinstance(proof, Sequence):
        raise ProofError("proof must be a sequence of hashes")
    return [_require_hash(f"proof element {i}", element) for i, element in enumerate(proof)]


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an audit path (RFC 9162 §2.1.3.2); raise :class:`ProofError` unless it holds.

    The verifier trusts ``tree_size`` and ``root`` together: take both from one signed tree
    head. (As in the RFC, two sizes whose audit paths have the same shape are accepted alike.)
    """
    claimed = _require_hash("leaf hash", leaf_hash)
    expected_root = _require_hash("root hash", root)
    index = _require_count("leaf index", index)
    tree_size = _require_count("tree size", tree_size)
    path = _require_proof(proof)
    if index >= tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    fn, sn, running = index, tree_size - 1, claimed
    for element in path:
        if sn == 0:
            raise ProofError(f"proof has {len(path)} hashes, more than the tree needs")
        if fn & 1 or fn == sn:
            running = node_hash(element, running)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            running = node_hash(running, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof has {len(path)} hashes, fewer than the tree needs")
    if running != expected_root:
        raise ProofError("the proof does not lead to the root hash")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check a consistency proof (RFC 9162 §2.1.4.2); raise :class:`ProofError` unless it holds.

    Equal sizes need an empty proof and equal roots. A proof from size 0 is rejected: the
    empty tree is a prefix of every tree, so such a "proof" would prove nothing.
    """
    old_size = _require_count("old tree size", old_size)
    new_size = _require_count("new tree size", new_size)
    first = _require_hash("old root hash", old_root)
    second = _require_hash("new root hash", new_root)
    path = _require_proof(proof)
    if old_size == 0:
        raise ProofError("no consistency proof exists from the empty tree (old size 0)")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if path:
            raise ProofError("equal sizes need an empty proof")
        if first != second:
            raise ProofError("equal sizes but different root hashes")
        return
    if not path:
        raise ProofError("the proof is empty")
    if old_size & (old_size - 1) == 0:
        path = [first, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError("the proof has more hashes than the sizes need")
        if fn & 1 or fn == sn:
            fr = node_hash(element, fr)
            sr = node_hash(element, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof has fewer hashes than the sizes need")
    if fr != first:
        raise ProofError("the proof does not lead to the old root hash")
    if sr != second:
        raise ProofError("the proof does not lead to the new root hash")
