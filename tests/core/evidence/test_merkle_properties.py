"""Hypothesis: every generated proof verifies; every single-bit change is rejected.

Tree sizes are the one subtle case. RFC 9162 verification (like every CT verifier) checks a
size only through the *shape* of the audit path, so a different size whose path has the
same shape accepts the same proof with the same root — e.g. leaf 0 of a tree of 5 and of 7.
That is why the size is only trusted together with the root, inside a signed tree head
(whose signature catches every bit change: see test_tree_head.py). Here a size change must
be rejected exactly when it changes the shape, computed from the RFC's recursive
definitions below, and accepted otherwise.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtflow.core.evidence.merkle import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

SETTINGS = settings(max_examples=60, deadline=None)


def _split(size: int) -> int:
    k = 1
    while k * 2 < size:
        k *= 2
    return k


def path_shape(index: int, size: int) -> tuple[bool, ...]:
    """Sides of PATH(index, D[size]) siblings, root first (True: sibling on the left)."""
    if size <= 1:
        return ()
    k = _split(size)
    if index < k:
        return (False, *path_shape(index, k))
    return (True, *path_shape(index - k, size - k))


def consistency_shape(old: int, size: int, complete: bool = True) -> tuple[object, ...]:
    """The trace of SUBPROOF(old, D[size], complete) from RFC 9162 §2.1.4.1."""
    if old == size:
        return ("end", complete)
    k = _split(size)
    if old <= k:
        return ("right", *consistency_shape(old, k, complete))
    return ("left", *consistency_shape(old - k, size - k, False))


def distinct_leaves(size: int, salt: bytes) -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


def flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def rejects(check: object, *arguments: object) -> bool:
    try:
        check(*arguments)  # type: ignore[operator]
    except ProofError:
        return True
    return False


trees = st.tuples(st.integers(1, 300), st.binary(min_size=1, max_size=8))


@SETTINGS
@given(tree=trees, data=st.data())
def test_every_inclusion_proof_verifies_and_every_bit_flip_is_rejected(
    tree: tuple[int, bytes], data: st.DataObject
) -> None:
    size, salt = tree
    hashes = distinct_leaves(size, salt)
    root = root_hash(hashes)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(hashes, index)
    verify_inclusion(hashes[index], index, size, proof, root)

    for bit in data.draw(st.lists(st.integers(0, 255), min_size=1, max_size=8)):
        assert rejects(verify_inclusion, flip(hashes[index], bit), index, size, proof, root)
        assert rejects(verify_inclusion, hashes[index], index, size, proof, flip(root, bit))
        for position in range(len(proof)):
            changed = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
            assert rejects(verify_inclusion, hashes[index], index, size, changed, root)
    for bit in range(size.bit_length() + 2):
        assert rejects(verify_inclusion, hashes[index], index ^ (1 << bit), size, proof, root)
        other = size ^ (1 << bit)
        same_shape = index < other and path_shape(index, other) == path_shape(index, size)
        outcome = rejects(verify_inclusion, hashes[index], index, other, proof, root)
        assert outcome == (not same_shape), (index, size, other)


@SETTINGS
@given(tree=trees, data=st.data())
def test_every_consistency_proof_verifies_and_every_bit_flip_is_rejected(
    tree: tuple[int, bytes], data: st.DataObject
) -> None:
    size, salt = tree
    hashes = distinct_leaves(size, salt)
    old = data.draw(st.integers(1, size))
    first, second = root_hash(hashes[:old]), root_hash(hashes)
    proof = consistency_proof(hashes, old)
    verify_consistency(old, size, first, second, proof)

    for bit in data.draw(st.lists(st.integers(0, 255), min_size=1, max_size=8)):
        assert rejects(verify_consistency, old, size, flip(first, bit), second, proof)
        assert rejects(verify_consistency, old, size, first, flip(second, bit), proof)
        for position in range(len(proof)):
            changed = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
            assert rejects(verify_consistency, old, size, first, second, changed)
    for bit in range(size.bit_length() + 2):
        for new_old, new_size in ((old ^ (1 << bit), size), (old, size ^ (1 << bit))):
            valid_sizes = 1 <= new_old <= new_size
            same_shape = (
                valid_sizes
                and new_old < new_size
                and old < size
                and consistency_shape(new_old, new_size) == consistency_shape(old, size)
            )
            outcome = rejects(verify_consistency, new_old, new_size, first, second, proof)
            assert outcome == (not same_shape), (old, size, new_old, new_size)


def test_shape_ambiguity_of_sizes_is_real() -> None:
    """Why sizes are trusted only inside a signed head: leaf 0 of 5 verifies 'in 7'."""
    hashes = distinct_leaves(5, b"s")
    proof = inclusion_proof(hashes, 0)
    verify_inclusion(hashes[0], 0, 7, proof, root_hash(hashes))
    assert root_hash(distinct_leaves(7, b"s")) != root_hash(hashes)
    with pytest.raises(ProofError):
        verify_inclusion(hashes[0], 0, 9, proof, root_hash(hashes))


@SETTINGS
@given(size=st.integers(1, 64), salt=st.binary(min_size=1, max_size=4))
def test_all_proofs_of_a_tree_verify(size: int, salt: bytes) -> None:
    hashes = distinct_leaves(size, salt)
    roots = [root_hash(hashes[:n]) for n in range(size + 1)]
    for index in range(size):
        verify_inclusion(hashes[index], index, size, inclusion_proof(hashes, index), roots[size])
    for old in range(1, size + 1):
        proof = consistency_proof(hashes, old)
        verify_consistency(old, size, roots[old], roots[size], proof)
