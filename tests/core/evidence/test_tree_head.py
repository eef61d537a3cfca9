"""Signed tree heads, key rotation and witness co-signatures."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from debtflow.core.evidence.merkle import consistency_proof, leaf_hash, root_hash
from debtflow.core.evidence.tree_head import (
    Keyring,
    LocalWitness,
    SignedTreeHead,
    TreeHead,
    TreeHeadError,
    TreeHeadSigner,
    key_id_of,
    parse_tree_head,
    public_key_bytes,
    verify_cosignature,
)

NOW = datetime(2026, 11, 29, 3, 0, 0, 123456, tzinfo=UTC)
HASHES = [leaf_hash(b"%d" % i) for i in range(20)]


def signer(seed: int) -> TreeHeadSigner:
    return TreeHeadSigner.from_seed(bytes([seed]) * 32)


def keyring_of(*signers: TreeHeadSigner) -> Keyring:
    keyring = Keyring()
    for item in signers:
        keyring.add(public_key_bytes(item.public_key))
    return keyring


def test_signed_bytes_layout() -> None:
    head = signer(1).sign(10, root_hash(HASHES[:10]), NOW).head
    raw = head.signed_bytes()
    assert len(raw) == 72 and raw[:16] == b"debtflow/sth/v1\x00"
    size, micros = struct.unpack(">QQ", raw[16:32])
    assert size == 10
    assert micros == int((NOW - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 10**6 + 123456
    assert raw[32:64] == root_hash(HASHES[:10]) and raw[64:] == head.key_id
    assert parse_tree_head(raw) == head
    with pytest.raises(TreeHeadError):
        parse_tree_head(raw[:-1])


def test_valid_head_verifies_and_every_bit_change_does_not() -> None:
    log = signer(1)
    signed = log.sign(10, root_hash(HASHES[:10]), NOW)
    keyring = keyring_of(log)
    keyring.verify(signed)
    raw = signed.head.signed_bytes()
    for bit in range(16 * 8, 72 * 8):  # size, timestamp, root, key id
        changed = bytearray(raw)
        changed[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(TreeHeadError):
            keyring.verify(SignedTreeHead(parse_tree_head(bytes(changed)), signed.signature))
    for bit in range(0, 64 * 8, 7):
        signature = bytearray(signed.signature)
        signature[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(TreeHeadError):
            keyring.verify(SignedTreeHead(signed.head, bytes(signature)))


def test_unknown_key_and_wrong_key_are_rejected() -> None:
    signed = signer(1).sign(3, root_hash(HASHES[:3]), NOW)
    with pytest.raises(TreeHeadError, match="not in the keyring"):
        keyring_of(signer(2)).verify(signed)
    forged_head = TreeHead(3, root_hash(HASHES[:3]), NOW, signer(2).key_id)
    with pytest.raises(TreeHeadError, match="does not verify"):
        keyring_of(signer(2)).verify(SignedTreeHead(forged_head, signed.signature))


def test_rotation_keeps_old_heads_verifiable_but_refuses_late_use_of_old_key() -> None:
    old, new = signer(1), signer(2)
    keyring = keyring_of(old)
    before = old.sign(5, root_hash(HASHES[:5]), NOW)
    rotated_at = NOW + timedelta(days=30)
    keyring.retire(old.key_id, rotated_at)
    keyring.add(public_key_bytes(new.public_key))
    keyring.verify(before)
    keyring.verify(new.sign(9, root_hash(HASHES[:9]), rotated_at + timedelta(seconds=1)))
    late = old.sign(9, root_hash(HASHES[:9]), rotated_at + timedelta(seconds=1))
    with pytest.raises(TreeHeadError, match="retired"):
        keyring.verify(late)
    assert [entry.key_id for entry in keyring.entries()] == sorted([old.key_id, new.key_id])
    assert Keyring(keyring.entries()).entries() == keyring.entries()


def test_signer_inputs_are_checked() -> None:
    with pytest.raises(TreeHeadError, match="timezone"):
        signer(1).sign(1, HASHES[0], datetime(2026, 1, 1))
    with pytest.raises(TreeHeadError, match="32 bytes"):
        signer(1).sign(1, HASHES[0][:5], NOW)
    with pytest.raises(TreeHeadError):
        signer(1).sign(-1, HASHES[0], NOW)
    with pytest.raises(TreeHeadError, match="seed"):
        TreeHeadSigner.from_seed(b"short")
    assert signer(3).key_id == key_id_of(
        Ed25519PrivateKey.from_private_bytes(b"\x03" * 32).public_key()
    )


def test_local_witness_cosigns_consistent_growth_only() -> None:
    log = signer(1)
    witness = LocalWitness(Ed25519PrivateKey.from_private_bytes(b"\x09" * 32), keyring_of(log))
    first = log.sign(5, root_hash(HASHES[:5]), NOW)
    cosignature = witness.cosign(first, [])
    verify_cosignature(first, cosignature, witness.public_key)

    second = log.sign(12, root_hash(HASHES[:12]), NOW + timedelta(hours=1))
    witness.cosign(second, consistency_proof(HASHES[:12], 5))
    with pytest.raises(TreeHeadError, match="consistent"):
        forked = [leaf_hash(b"forged")] + HASHES[1:15]
        witness.cosign(
            log.sign(15, root_hash(forked), NOW + timedelta(hours=2)), consistency_proof(forked, 12)
        )
    with pytest.raises(TreeHeadError, match="older"):
        witness.cosign(log.sign(12, root_hash(HASHES[:12]), NOW), [])
    with pytest.raises(TreeHeadError, match="not in the keyring"):
        witness.cosign(signer(4).sign(13, root_hash(HASHES[:13]), NOW + timedelta(hours=3)), [])
    with pytest.raises(TreeHeadError, match="does not verify"):
        verify_cosignature(second, cosignature, witness.public_key)
    with pytest.raises(TreeHeadError, match="key id"):
        verify_cosignature(first, cosignature, public_key_bytes(log.public_key))
