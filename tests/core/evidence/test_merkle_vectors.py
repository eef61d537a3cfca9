"""RFC 6962 / 9162 vectors (transparency-dev/merkle) and the verifiers' input checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from debtflow.core.evidence.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads(
    (Path(__file__).parents[3] / "data" / "merkle" / "rfc6962_vectors.json").read_text()
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["tree"]["leaf_inputs_hex"]]
HASHES = [leaf_hash(x) for x in LEAVES]
ROOTS = {int(n): bytes.fromhex(r) for n, r in VECTORS["tree"]["root_hash_by_tree_size"].items()}
WRONG = bytes.fromhex(VECTORS["other_constants"]["sha256SomeHash"])
INCLUSION = [v for v in VECTORS["inclusion_proofs"]["vectors"] if v["leaf_index"] is not None]
CONSISTENCY = VECTORS["consistency_proofs"]["vectors"]


def test_hasher_vectors() -> None:
    hasher = VECTORS["hasher_vectors"]
    assert root_hash([]).hex() == hasher["empty_tree_root"]["hash"] == EMPTY_ROOT.hex()
    assert leaf_hash(b"").hex() == hasher["leaf_hash_empty_leaf"]["hash"]
    assert leaf_hash(b"L123456").hex() == hasher["leaf_hash"]["hash"]
    assert node_hash(b"N123", b"N456").hex() == hasher["node_hash"]["hash"]


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_root_of_every_vector_tree_size(size: int) -> None:
    assert root_hash(HASHES[:size]) == ROOTS[size]


def test_node_hashes_by_level_are_complete_subtree_roots() -> None:
    for level, hashes in VECTORS["tree"]["node_hashes_by_level"].items():
        width = 1 << int(level)
        for k, expected in enumerate(hashes):
            assert root_hash(HASHES[k * width : (k + 1) * width]).hex() == expected


@pytest.mark.parametrize("vector", INCLUSION, ids=lambda v: f"{v['leaf_index']}of{v['tree_size']}")
def test_inclusion_vectors(vector: dict[str, object]) -> None:
    index, size = int(str(vector["leaf_index"])), int(str(vector["tree_size"]))
    expected = [bytes.fromhex(str(x)) for x in vector["proof"]]  # type: ignore[attr-defined]
    root = bytes.fromhex(str(vector["root"]))
    assert inclusion_proof(HASHES[:size], index) == expected
    verify_inclusion(HASHES[index], index, size, expected, root)
    with pytest.raises(ProofError):
        verify_inclusion(HASHES[index], index, size, expected, WRONG)
    with pytest.raises(ProofError):
        verify_inclusion(WRONG, index, size, expected, root)


@pytest.mark.parametrize("vector", CONSISTENCY, ids=lambda v: f"{v['size1']}to{v['size2']}")
def test_consistency_vectors(vector: dict[str, object]) -> None:
    old, new = int(str(vector["size1"])), int(str(vector["size2"]))
    expected = [bytes.fromhex(str(x)) for x in vector["proof"]]  # type: ignore[attr-defined]
    first, second = bytes.fromhex(str(vector["root1"])), bytes.fromhex(str(vector["root2"]))
    assert consistency_proof(HASHES[:new], old) == expected
    verify_consistency(old, new, first, second, expected)
    with pytest.raises(ProofError):
        verify_consistency(old, new, first, WRONG, expected)
    with pytest.raises(ProofError):
        verify_consistency(old, new, WRONG, second, expected)


def test_size_zero_inclusion_vector_is_rejected() -> None:
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(HASHES[0], 0, 0, [], EMPTY_ROOT)


PROOF_8_0 = inclusion_proof(HASHES, 0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((HASHES[0][:31], 0, 8, PROOF_8_0, ROOTS[8]), "leaf hash is 31 bytes"),
        ((HASHES[0], 0, 8, PROOF_8_0, ROOTS[8] + b"\x00"), "root hash is 33 bytes"),
        ((HASHES[0].hex(), 0, 8, PROOF_8_0, ROOTS[8]), "must be bytes"),
        ((HASHES[0], 0, 8, [*PROOF_8_0[:2], PROOF_8_0[2][:16]], ROOTS[8]), "element 2"),
        ((HASHES[0], 8, 8, PROOF_8_0, ROOTS[8]), "outside"),
        ((HASHES[0], -1, 8, PROOF_8_0, ROOTS[8]), "negative"),
        ((HASHES[0], 0, -8, PROOF_8_0, ROOTS[8]), "negative"),
        ((HASHES[0], True, 8, PROOF_8_0, ROOTS[8]), "must be an int"),
        ((HASHES[0], 0, 8, [*PROOF_8_0, HASHES[1]], ROOTS[8]), "more than"),
        ((HASHES[0], 0, 8, PROOF_8_0[:2], ROOTS[8]), "fewer than"),
        ((HASHES[0], 0, 8, b"".join(PROOF_8_0), ROOTS[8]), "sequence"),
        ((HASHES[0], 0, 1, PROOF_8_0[:1], ROOTS[1]), "more than"),
    ],
)
def test_bad_inclusion_inputs_raise_proof_error(
    arguments: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ProofError, match=message):
        verify_inclusion(*arguments)  # type: ignore[arg-type]


PROOF_6_8 = consistency_proof(HASHES, 6)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((0, 8, EMPTY_ROOT, ROOTS[8], []), "empty tree"),
        ((0, 8, EMPTY_ROOT, ROOTS[8], PROOF_6_8), "empty tree"),
        ((8, 6, ROOTS[8], ROOTS[6], PROOF_6_8), "larger than"),
        ((6, 8, ROOTS[6], ROOTS[8], []), "empty"),
        ((6, 8, ROOTS[6][:31], ROOTS[8], PROOF_6_8), "31 bytes"),
        ((6, 8, ROOTS[6], ROOTS[8], [*PROOF_6_8, HASHES[0]]), "more hashes"),
        ((6, 8, ROOTS[6], ROOTS[8], PROOF_6_8[:2]), "fewer hashes"),
        ((6, 6, ROOTS[6], ROOTS[6], PROOF_6_8), "empty proof"),
        ((6, 6, ROOTS[6], ROOTS[8], []), "different root"),
        ((-1, 8, ROOTS[6], ROOTS[8], PROOF_6_8), "negative"),
        ((6, 8, ROOTS[6], ROOTS[8], [PROOF_6_8[0], b"x" * 32, PROOF_6_8[2]]), "root"),
    ],
)
def test_bad_consistency_inputs_raise_proof_error(
    arguments: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ProofError, match=message):
        verify_consistency(*arguments)  # type: ignore[arg-type]


def test_equal_sizes_with_equal_roots_and_empty_proof_are_consistent() -> None:
    verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert consistency_proof(HASHES[:5], 5) == []


def test_proof_generators_reject_out_of_range_arguments() -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(HASHES, 8)
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof([], 0)
    with pytest.raises(ValueError, match="between 1"):
        consistency_proof(HASHES, 0)
    with pytest.raises(ValueError, match="between 1"):
        consistency_proof(HASHES[:3], 4)
    with pytest.raises(ValueError, match="32 bytes"):
        root_hash([b"short"])
    with pytest.raises(TypeError):
        leaf_hash(5)  # type: ignore[arg-type]
