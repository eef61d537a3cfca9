"""The tree-head anchor: the newest signed tree head, kept outside the database.

The audit checks the stored log against the tree heads stored beside it, so whoever can
delete the newest leaves can delete the heads that cover them too. A copy of the newest
signed head kept elsewhere (a file, shipped off the machine) is what such a cut is measured
against: the log must still hold at least that many leaves and extend that head.

The anchor is the canonical JSON (``canonical``) of::

    {"format": "debtflow-tree-head-anchor/1", "key_id": "<16 hex>",
     "root_hash": "<64 hex>", "signature": "<128 hex>",
     "timestamp": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "tree_size": N}

Only the standard library and ``cryptography`` are imported.
"""

from __future__ import annotations

from debtflow.core.evidence.canonical import (
    CanonicalJsonError,
    canonical_json,
    format_timestamp,
    parse_canonical_json,
    parse_timestamp,
)
from debtflow.core.evidence.tree_head import SignedTreeHead, TreeHead, TreeHeadError

ANCHOR_FORMAT = "debtflow-tree-head-anchor/1"
_FIELDS = frozenset({"format", "key_id", "root_hash", "signature", "timestamp", "tree_size"})


class AnchorError(ValueError):
    """Bytes that are not a tree-head anchor."""


def anchor_bytes(signed: SignedTreeHead) -> bytes:
    """The anchor of ``signed``: canonical JSON, one line, no trailing newline."""
    head = signed.head
    return canonical_json(
        {
            "format": ANCHOR_FORMAT,
            "key_id": head.key_id.hex(),
            "root_hash": head.root_hash.hex(),
            "signature": signed.signature.hex(),
            "timestamp": format_timestamp(head.timestamp),
            "tree_size": head.tree_size,
        }
    )


def parse_anchor(raw: bytes) -> SignedTreeHead:
    """The signed head an anchor holds (its signature is not checked here)."""
    try:
        document = parse_canonical_json(raw)
    except CanonicalJsonError as exc:
        raise AnchorError(f"not canonical JSON: {exc}") from None
    if not isinstance(document, dict) or set(document) != _FIELDS:
        raise AnchorError(f"not a {ANCHOR_FORMAT} document")
    if document["format"] != ANCHOR_FORMAT:
        raise AnchorError(f"format is {document['format']!r}, not {ANCHOR_FORMAT!r}")
    size = document["tree_size"]
    timestamp = document["timestamp"]
    if isinstance(size, bool) or not isinstance(size, int) or not isinstance(timestamp, str):
        raise AnchorError("tree_size or timestamp has the wrong type")
    try:
        head = TreeHead(
            tree_size=size,
            root_hash=_hex(document["root_hash"], 32, "root_hash"),
            timestamp=parse_timestamp(timestamp),
            key_id=_hex(document["key_id"], 8, "key_id"),
        )
    except (CanonicalJsonError, TreeHeadError) as exc:
        raise AnchorError(str(exc)) from None
    return SignedTreeHead(head, _hex(document["signature"], 64, "signature"))


def _hex(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, str):
        raise AnchorError(f"{what} is not a string")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise AnchorError(f"{what} is not hex") from None
    if len(raw) != size or raw.hex() != value:
        raise AnchorError(f"{what} is not {size} bytes of lowercase hex")
    return raw


def is_newer_or_same(candidate: SignedTreeHead, current: SignedTreeHead) -> bool:
    """Whether ``candidate`` may replace ``current`` as the anchor: not smaller, not older."""
    return (
        candidate.head.tree_size >= current.head.tree_size
        and candidate.head.timestamp >= current.head.timestamp
    )
