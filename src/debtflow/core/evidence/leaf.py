"""The evidence leaf: one collection act as canonical JSON, hashed into the Merkle log.

Envelope (canonical JSON object, keys in this sorted order)::

    {"case_id": 42,
     "file_sha256": ["<64 lowercase hex>", ...],
     "kind": "payment",
     "occurred_at": "2026-11-29T03:00:00.000000Z",
     "payload": {...},
     "v": 1}

Only the standard library is imported (the offline verifier uses this module).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from debtflow.core.evidence.canonical import (
    CanonicalJsonError,
    canonical_json,
    format_timestamp,
    parse_canonical_json,
    parse_timestamp,
)
from debtflow.core.evidence.merkle import leaf_hash

LEAF_FORMAT_VERSION = 1
_SHA256_HEX = re.compile(r"[0-9a-f]{64}\Z")
_ENVELOPE_KEYS = frozenset({"case_id", "file_sha256", "kind", "occurred_at", "payload", "v"})


class LeafKind(StrEnum):
    """What kind of collection act a leaf records."""

    CONTACT_ATTEMPT = "contact_attempt"
    GATE_DECISION = "gate_decision"
    RECORDING = "recording"
    MESSAGE = "message"
    FIELD_CHECKIN = "field_checkin"
    PROMISE = "promise"
    PAYMENT = "payment"
    AGREEMENT_SIGNATURE = "agreement_signature"
    ASSIGNMENT = "assignment"
    OVERRIDE = "override"
    CASE_STATUS = "case_status"
    DISPUTE = "dispute"
    LEGAL_ADVICE = "legal_advice"
    ADJUSTMENT = "adjustment"


LEAF_KIND_LABELS: dict[LeafKind, tuple[str, str]] = {
    LeafKind.CONTACT_ATTEMPT: ("联系尝试", "contact attempt"),
    LeafKind.GATE_DECISION: ("合规闸门决定", "compliance gate decision"),
    LeafKind.RECORDING: ("通话录音", "call recording"),
    LeafKind.MESSAGE: ("短信/信函", "message or letter"),
    LeafKind.FIELD_CHECKIN: ("外访签到", "field check-in"),
    LeafKind.PROMISE: ("承诺还款", "promise to pay"),
    LeafKind.PAYMENT: ("还款", "payment"),
    LeafKind.AGREEMENT_SIGNATURE: ("协议签署", "agreement signature"),
    LeafKind.ASSIGNMENT: ("分案", "case assignment"),
    LeafKind.OVERRIDE: ("人工覆盖", "manual override"),
    LeafKind.CASE_STATUS: ("案件状态变更", "case status change"),
    LeafKind.DISPUTE: ("债务异议", "debt dispute"),
    LeafKind.LEGAL_ADVICE: ("法律咨询申请", "legal-advice request"),
    LeafKind.ADJUSTMENT: ("账务调整", "account adjustment"),
}


class LeafFormatError(ValueError):
    """Bytes or values that do not make a valid evidence leaf."""


def is_sha256_hex(text: object) -> bool:
    """True for a 64-character lowercase hexadecimal SHA-256 digest."""
    return isinstance(text, str) and bool(_SHA256_HEX.match(text))


@dataclass(frozen=True)
class EvidenceLeaf:
    """One evidence-worthy act of a case. ``file_sha256`` lists attached files' digests."""

    kind: LeafKind
    case_id: int
    occurred_at: datetime
    payload: Mapping[str, object]
    file_sha256: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.kind, LeafKind):
            raise LeafFormatError(f"unknown leaf kind {self.kind!r}")
        if isinstance(self.case_id, bool) or not isinstance(self.case_id, int):
            raise LeafFormatError("case_id must be an int")
        if self.case_id < 1:
            raise LeafFormatError(f"case_id {self.case_id} must be positive")
        if not isinstance(self.payload, Mapping):
            raise LeafFormatError("payload must be a JSON object")
        for digest in self.file_sha256:
            if not is_sha256_hex(digest):
                raise LeafFormatError(f"{digest!r} is not a lowercase hex SHA-256 digest")
        if len(set(self.file_sha256)) != len(self.file_sha256):
            raise LeafFormatError("an attached file is listed twice")
        try:
            format_timestamp(self.occurred_at)
        except CanonicalJsonError as exc:
            raise LeafFormatError(f"occurred_at: {exc}") from exc

    def canonical_bytes(self) -> bytes:
        """The leaf's canonical JSON: the bytes the Merkle log hashes."""
        try:
            return canonical_json(
                {
                    "case_id": self.case_id,
                    "file_sha256": list(self.file_sha256),
                    "kind": self.kind.value,
                    "occurred_at": self.occurred_at,
                    "payload": self.payload,
                    "v": LEAF_FORMAT_VERSION,
                }
            )
        except CanonicalJsonError as exc:
            raise LeafFormatError(f"payload: {exc}") from exc

    def leaf_hash(self) -> bytes:
        """The RFC 9162 leaf hash of :meth:`canonical_bytes`."""
        return leaf_hash(self.canonical_bytes())


def parse_leaf(raw: bytes) -> EvidenceLeaf:
    """Read a leaf from its canonical bytes; raise :class:`LeafFormatError` if invalid."""
    try:
        document = parse_canonical_json(raw)
    except CanonicalJsonError as exc:
        raise LeafFormatError(str(exc)) from exc
    if not isinstance(document, dict) or set(document) != _ENVELOPE_KEYS:
        raise LeafFormatError(f"a leaf is an object with exactly the keys {sorted(_ENVELOPE_KEYS)}")
    if document["v"] != LEAF_FORMAT_VERSION:
        raise LeafFormatError(f"unsupported leaf format version {document['v']!r}")
    try:
        kind = LeafKind(document["kind"])
    except ValueError as exc:
        raise LeafFormatError(f"unknown leaf kind {document['kind']!r}") from exc
    files = document["file_sha256"]
    payload = document["payload"]
    occurred_at = document["occurred_at"]
    if not isinstance(files, list) or not isinstance(payload, dict):
        raise LeafFormatError("file_sha256 must be a list and payload an object")
    if not isinstance(occurred_at, str):
        raise LeafFormatError("occurred_at must be a timestamp string")
    case_id = document["case_id"]
    if isinstance(case_id, bool) or not isinstance(case_id, int):
        raise LeafFormatError("case_id must be an int")
    try:
        moment = parse_timestamp(occurred_at)
    except CanonicalJsonError as exc:
        raise LeafFormatError(f"occurred_at: {exc}") from exc
    leaf = EvidenceLeaf(
        kind=kind,
        case_id=case_id,
        occurred_at=moment,
        payload=payload,
        file_sha256=tuple(str(item) if is_sha256_hex(item) else repr(item) for item in files),
    )
    if leaf.canonical_bytes() != raw:
        raise LeafFormatError("leaf does not re-encode to the same bytes")
    return leaf
