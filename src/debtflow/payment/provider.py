"""Payment providers: the interface the portal pays through, and a simulated provider
for development whose "pay" page confirms a payment by sending a signed webhook.

A real provider (a bank gateway, Alipay, WeChat Pay) plugs in by implementing
:class:`PaymentProvider`; the webhook route verifies with ``verify_webhook`` and books the
event once per provider event id (``debtflow.portal.service.receive_webhook``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from debtflow.config import get_settings
from debtflow.core.payment_provider.signing import (
    EVENT_PAYMENT_SUCCEEDED,
    SIGNATURE_HEADER,
    WebhookEvent,
    event_body,
    parse_event,
    sign,
    verify_signature,
)

SIMULATED = "simulated"


@dataclass(frozen=True)
class PaymentRedirect:
    """Where the payer goes to pay, and the provider's id of the payment."""

    provider: str
    provider_payment_id: str
    redirect_url: str


class PaymentProvider(Protocol):
    name: str

    def create_payment(
        self, *, amount_fen: int, idempotency_key: str, description: str, return_url: str
    ) -> PaymentRedirect:
        """Start a payment; the same idempotency key gives the same payment."""
        ...

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> WebhookEvent:
        """The event in a webhook request; raises ``WebhookRejected`` if it is not
        authentic or too old."""
        ...


def webhook_secret() -> bytes:
    """The secret webhooks are signed with: from settings, else a random development
    secret kept (mode 0600) in ``<data_dir>/payments/webhook-secret``."""
    settings = get_settings()
    if settings.payment_webhook_secret is not None:
        return settings.payment_webhook_secret.get_secret_value().encode()
    path = Path(settings.data_dir) / "payments" / "webhook-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".webhook-secret-{secrets.token_hex(4)}")
        temporary.write_text(secrets.token_hex(32))
        temporary.chmod(0o600)
        try:
            path.hardlink_to(temporary)  # two processes starting at once keep one secret
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text().strip().encode()


#: sends (url, headers, body) and returns the HTTP status
WebhookSender = Callable[[str, dict[str, str], bytes], int]


def http_sender(url: str, headers: dict[str, str], body: bytes) -> int:
    import httpx

    response = httpx.post(url, content=body, headers=headers, timeout=15)
    return response.status_code


class SimulatedProvider:
    """A provider for development and tests. Its payment ids are derived from the
    idempotency key (so the same key gives the same payment), its pay page is
    ``/pay/sim/{payment id}``, and confirming there sends a signed ``payment.succeeded``
    webhook to the app."""

    name = SIMULATED

    def __init__(self, secret: bytes | None = None, tolerance_s: int | None = None) -> None:
        self.secret = secret if secret is not None else webhook_secret()
        self.tolerance_s = (
            tolerance_s if tolerance_s is not None else get_settings().payment_webhook_tolerance_s
        )

    def payment_id_for(self, idempotency_key: str) -> str:
        mac = hmac.new(self.secret, idempotency_key.encode(), hashlib.sha256).hexdigest()
        return f"sim_{mac[:32]}"

    def create_payment(
        self, *, amount_fen: int, idempotency_key: str, description: str, return_url: str
    ) -> PaymentRedirect:
        if amount_fen <= 0:
            raise ValueError("a payment must be a positive amount of fen")
        payment_id = self.payment_id_for(idempotency_key)
        return PaymentRedirect(self.name, payment_id, f"/pay/sim/{payment_id}")

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> WebhookEvent:
        lowered = {k.lower(): v for k, v in headers.items()}
        verify_signature(self.secret, body, lowered.get(SIGNATURE_HEADER), now, self.tolerance_s)
        return parse_event(body)

    def signed_webhook(
        self,
        *,
        provider_payment_id: str,
        amount_fen: int,
        paid_at: datetime,
        event_id: str,
        sent_at: datetime | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body the provider sends when a payment succeeds (signed with
        the time it is sent, ``paid_at`` unless given)."""
        body = event_body(
            WebhookEvent(
                event_id, EVENT_PAYMENT_SUCCEEDED, provider_payment_id, amount_fen, paid_at
            )
        )
        headers = {
            "Content-Type": "application/json",
            "Debtflow-Signature": sign(self.secret, body, int((sent_at or paid_at).timestamp())),
        }
        return headers, body

    def confirm(
        self,
        *,
        provider_payment_id: str,
        amount_fen: int,
        paid_at: datetime,
        webhook_url: str,
        send: WebhookSender = http_sender,
    ) -> int:
        """The payer confirmed on the pay page: send the signed webhook; return its status.
        The event id is fixed per payment, so confirming twice sends the same event."""
        event_id = "evt_" + provider_payment_id.removeprefix("sim_")
        headers, body = self.signed_webhook(
            provider_payment_id=provider_payment_id,
            amount_fen=amount_fen,
            paid_at=paid_at,
            event_id=event_id,
        )
        return send(webhook_url, headers, body)


def current_provider() -> PaymentProvider:
    name = get_settings().payment_provider
    if name == SIMULATED:
        return SimulatedProvider()
    raise ValueError(f"unknown payment provider {name!r}")
