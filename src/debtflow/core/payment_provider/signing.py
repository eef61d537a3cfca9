"""Webhook signatures: HMAC-SHA256 over ``"<unix timestamp>.<raw body>"``.

The provider sends the header ``Debtflow-Signature: t=<unix seconds>,v1=<64 hex digits>``
where ``v1 = hex(HMAC-SHA256(secret, f"{t}.".encode() + body))``. A receiver recomputes the
MAC over the exact bytes it received, compares in constant time, and refuses a timestamp
further than the tolerance (default 300 s) from its own clock in either direction, so a
captured request cannot be replayed later. Several ``v1=`` entries may be sent while a
secret is rotated; one matching entry is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

SIGNATURE_HEADER = "debtflow-signature"
DEFAULT_TOLERANCE_S = 300
EVENT_PAYMENT_SUCCEEDED = "payment.succeeded"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAC = re.compile(r"[0-9a-f]{64}")


class WebhookRejected(ValueError):
    """A webhook that must not be acted on (bad or missing signature, stale, malformed)."""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event: one payment that succeeded."""

    event_id: str
    event_type: str
    provider_payment_id: str
    amount_fen: int
    paid_at: datetime


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _parse_header(value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    macs: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            # ASCII digits only: str.isdigit() also accepts "²", which int() refuses
            if _TIMESTAMP.fullmatch(item) is None:
                raise WebhookRejected("the signature timestamp is not a number of seconds")
            timestamp = int(item)
        elif key == "v1" and _MAC.fullmatch(item) is not None:
            # anything but 64 lowercase hex digits cannot match (and non-ASCII text would
            # make hmac.compare_digest raise TypeError)
            macs.append(item)
    if timestamp is None or not macs:
        raise WebhookRejected("the signature header needs t= and v1=")
    return timestamp, macs


def verify_signature(
    secret: bytes,
    body: bytes,
    header: str | None,
    now: datetime,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> int:
    """Check ``header`` for ``body``; return the signed timestamp or raise WebhookRejected."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not header:
        raise WebhookRejected("the webhook is not signed")
    timestamp, macs = _parse_header(header)
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, mac) for mac in macs):
        raise WebhookRejected("the webhook signature does not match")
    if abs(int(now.timestamp()) - timestamp) > tolerance_s:
        raise WebhookRejected(f"the webhook timestamp is more than {tolerance_s} s from now")
    return timestamp


def event_body(event: WebhookEvent) -> bytes:
    """The JSON body a provider sends for ``event`` (compact, keys sorted)."""
    document = {
        "id": event.event_id,
        "type": event.event_type,
        "data": {
            "payment_id": event.provider_payment_id,
            "amount_fen": event.amount_fen,
            "paid_at": event.paid_at.astimezone(UTC).isoformat(),
        },
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def parse_event(body: bytes) -> WebhookEvent:
    """The event in a verified body; raises WebhookRejected for a malformed one."""
    try:
        document = json.loads(body)
        data = document["data"]
        event_id = document["id"]
        event_type = document["type"]
        payment_id = data["payment_id"]
        amount = data["amount_fen"]
        paid_at = datetime.fromisoformat(data["paid_at"])
    except (ValueError, KeyError, TypeError) as error:
        raise WebhookRejected(f"malformed webhook body: {error}") from None
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 100):
        raise WebhookRejected("the event id must be a string of 1..100 characters")
    if not (isinstance(payment_id, str) and 0 < len(payment_id) <= 100):
        raise WebhookRejected("the payment id must be a string of 1..100 characters")
    if not isinstance(event_type, str):
        raise WebhookRejected("the event type must be a string")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise WebhookRejected("amount_fen must be a positive integer")
    if paid_at.tzinfo is None:
        raise WebhookRejected("paid_at must carry a time zone")
    return WebhookEvent(event_id, event_type, payment_id, amount, paid_at)
