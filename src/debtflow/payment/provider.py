"""Payment providers: the interface the portal pays through, and a simulated provider
for development whose "pay" page books a payment through the same signed-webhook
verification a real provider's webhook goes through — no money moves, so it is never for
production and is off unless ``DEBTFLOW_PAYMENT_PROVIDER=simulated`` is set.

A real provider (a bank gateway, Alipay, WeChat Pay) plugs in by implementing
:class:`PaymentProvider`; the webhook route verifies with ``verify_webhook`` and books the
event once per provider event id (``debtflow.portal.payments.receive_webhook``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from debtflow.config import get_settings
from debtflow.core.errors import DomainError
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


class SimulatedProvider:
    """A provider for development and tests, never for production (no money moves). Its
    payment ids are derived from the idempotency key (so the same key gives the same
    payment) with a key of their own, its pay page is ``/pay/sim/{payment id}``, and
    confirming there books a signed ``payment.succeeded`` event in-process, through
    ``verify_webhook`` like any delivered webhook."""

    name = SIMULATED

    def __init__(self, secret: bytes | None = None, tolerance_s: int | None = None) -> None:
        self.secret = secret if secret is not None else webhook_secret()
        self.tolerance_s = (
            tolerance_s if tolerance_s is not None else get_settings().payment_webhook_tolerance_s
        )

    def payment_id_for(self, idempotency_key: str) -> str:
        # a key of its own, so payment ids say nothing about the webhook-signing key
        id_key = hmac.new(self.secret, b"payment-id", hashlib.sha256).digest()
        mac = hmac.new(id_key, idempotency_key.encode(), hashlib.sha256).hexdigest()
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

    def confirmation(
        self, *, provider_payment_id: str, amount_fen: int, paid_at: datetime
    ) -> tuple[dict[str, str], bytes]:
        """The signed webhook for a payer's confirmation on the pay page. The event id is
        fixed per payment, so confirming twice gives the same event (booked once)."""
        return self.signed_webhook(
            provider_payment_id=provider_payment_id,
            amount_fen=amount_fen,
            paid_at=paid_at,
            event_id="evt_" + provider_payment_id.removeprefix("sim_"),
        )


class PaymentsUnavailable(DomainError):
    status_code = 503
    code = "payments_unavailable"


def configured_provider() -> PaymentProvider | None:
    """The configured provider, or None when none is (paying is then unavailable)."""
    name = get_settings().payment_provider
    if not name:
        return None
    if name == SIMULATED:
        return SimulatedProvider()
    raise PaymentsUnavailable(f"unknown payment provider {name!r}")


def require_provider(provider: PaymentProvider | None) -> PaymentProvider:
    if provider is None:
        raise PaymentsUnavailable(
            "online payment is not available: no payment provider is configured; "
            "pay by bank transfer or contact your collector"
        )
    return provider
