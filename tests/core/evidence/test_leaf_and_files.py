"""Leaf envelope and the content-addressed evidence file store."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from debtflow.core.evidence.file_store import (
    EvidenceFileError,
    EvidenceFileStore,
    content_path,
    sha256_hex,
)
from debtflow.core.evidence.leaf import EvidenceLeaf, LeafFormatError, LeafKind, parse_leaf
from debtflow.core.evidence.merkle import leaf_hash

RECORDING = b"RIFF....WAVEfmt fake recording"
DIGEST = hashlib.sha256(RECORDING).hexdigest()


def a_leaf(**changes: object) -> EvidenceLeaf:
    fields: dict[str, object] = {
        "kind": LeafKind.RECORDING,
        "case_id": 42,
        "occurred_at": datetime(2026, 11, 29, 11, 0, tzinfo=timezone(timedelta(hours=8))),
        "payload": {"call_id": 7, "duration_s": 95, "agent": "张三"},
        "file_sha256": (DIGEST,),
    }
    fields.update(changes)
    return EvidenceLeaf(**fields)  # type: ignore[arg-type]


def test_leaf_bytes_are_the_documented_envelope() -> None:
    raw = a_leaf().canonical_bytes()
    assert (
        raw
        == (
            '{"case_id":42,"file_sha256":["' + DIGEST + '"],"kind":"recording",'
            '"occurred_at":"2026-11-29T03:00:00.000000Z",'
            '"payload":{"agent":"张三","call_id":7,"duration_s":95},"v":1}'
        ).encode()
    )
    assert a_leaf().leaf_hash() == leaf_hash(raw)


def test_parse_leaf_round_trips() -> None:
    leaf = a_leaf()
    parsed = parse_leaf(leaf.canonical_bytes())
    assert parsed.canonical_bytes() == leaf.canonical_bytes()
    assert parsed.occurred_at == leaf.occurred_at
    assert parsed.kind is LeafKind.RECORDING


@pytest.mark.parametrize(
    "changes",
    [
        {"case_id": 0},
        {"case_id": True},
        {"kind": "recording"},
        {"file_sha256": ("ABC",)},
        {"file_sha256": (DIGEST, DIGEST)},
        {"occurred_at": datetime(2026, 1, 1)},
        {"payload": {"amount": 12.5}},
        {"payload": ["not", "an", "object"]},
    ],
)
def test_invalid_leaves_are_rejected(changes: dict[str, object]) -> None:
    with pytest.raises(LeafFormatError):
        a_leaf(**changes).canonical_bytes()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"case_id":42,"kind":"payment","v":1}',
        b'{"case_id":42,"file_sha256":[],"kind":"bribe","occurred_at":'
        b'"2026-11-29T03:00:00.000000Z","payload":{},"v":1}',
        b'{"case_id":42,"file_sha256":[],"kind":"payment","occurred_at":'
        b'"2026-11-29T03:00:00.000000Z","payload":{},"v":2}',
        b'{"case_id":42,"file_sha256":[],"kind":"payment","occurred_at":'
        b'"2026-11-29T03:00:00Z","payload":{},"v":1}',
        b'{"case_id":"42","file_sha256":[],"kind":"payment","occurred_at":'
        b'"2026-11-29T03:00:00.000000Z","payload":{},"v":1}',
        b'{"case_id":42,"extra":1,"file_sha256":[],"kind":"payment","occurred_at":'
        b'"2026-11-29T03:00:00.000000Z","payload":{},"v":1}',
        b'{"kind":"payment","case_id":42}',
    ],
)
def test_parse_leaf_rejects_bad_bytes(raw: bytes) -> None:
    with pytest.raises(LeafFormatError):
        parse_leaf(raw)


def test_every_kind_is_accepted() -> None:
    for kind in LeafKind:
        leaf = a_leaf(kind=kind, file_sha256=())
        assert parse_leaf(leaf.canonical_bytes()).kind is kind


def test_content_path_is_derived_from_the_hash() -> None:
    assert str(content_path(DIGEST)) == f"sha256/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}"
    for bad in ["", DIGEST.upper(), DIGEST[:-1], "../" + DIGEST[3:], DIGEST + "0"]:
        with pytest.raises(EvidenceFileError):
            content_path(bad)


def test_file_store_round_trip_and_corruption(tmp_path: Path) -> None:
    store = EvidenceFileStore(tmp_path)
    digest = store.put(RECORDING)
    assert digest == DIGEST == sha256_hex(RECORDING)
    assert store.put(RECORDING) == digest
    assert store.read(digest) == RECORDING
    assert store.contains(digest)
    assert store.put_stream(io.BytesIO(b"photo" * 300_000)) == sha256_hex(b"photo" * 300_000)
    assert not [p for p in tmp_path.rglob(".incoming-*")]
    store.path_of(digest).write_bytes(RECORDING + b"!")
    with pytest.raises(EvidenceFileError, match="no longer matches"):
        store.read(digest)
    with pytest.raises(EvidenceFileError, match="no stored file"):
        store.read(sha256_hex(b"never stored"))


def test_leaf_time_zone_is_normalised_to_utc() -> None:
    utc = a_leaf(occurred_at=datetime(2026, 11, 29, 3, 0, tzinfo=UTC))
    assert utc.canonical_bytes() == a_leaf().canonical_bytes()
