"""What the debtor portal refuses, each with the HTTP status it answers with.

A case settled, closed or written off (no plan, no payment), in legal proceedings or under
a dispute (no plan); no plan on offer, a term that was not offered, a plan signed twice,
signed before one was chosen, after its dates passed or while a payment started on the case
is not booked yet, a signature that is not the debtor's; a portal payment that is not valid,
an idempotency key reused for another payment, a webhook that is not the provider's; an
upload that is too large or not an accepted file, a request that is not valid, a second open
dispute; a legal-advice request that does not exist, a handling note that is not valid, a
request handled a second time with another note. The domain errors of
``debtflow.core.errors`` carry the status code and the machine-readable ``code``.
"""

from __future__ import annotations

from debtflow.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
)


class NoPlanOffered(Conflict):
    code = "no_plan_offered"


class CaseFinal(Conflict):
    """The case is settled, closed or written off: no plan is chosen or signed and no
    payment started on it."""

    code = "case_final"


class CaseInLegal(Conflict):
    """The case is in legal proceedings: no plan is chosen or signed (paying stays open)."""

    code = "case_in_legal"


class CaseDisputed(Conflict):
    """A dispute holds the case: no plan is chosen or signed until it is lifted (paying
    stays open)."""

    code = "case_disputed"


class InvalidPlanChoice(InvalidInput):
    code = "invalid_plan_choice"


class AgreementAlreadySigned(Conflict):
    code = "agreement_already_signed"


class NoPlanChosen(Conflict):
    code = "no_plan_chosen"


class PlanChoiceExpired(Conflict):
    code = "plan_choice_expired"


class InvalidSignature(InvalidInput):
    code = "invalid_signature"


class PaymentInProgress(Conflict):
    """A payment started on the case is not booked yet: a plan signed now would be worked
    out on a debt about to change."""

    code = "payment_in_progress"


class InvalidPortalPayment(InvalidInput):
    code = "invalid_portal_payment"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class InvalidWebhook(DomainError):
    status_code = 400
    code = "invalid_webhook"


class InvalidUpload(InvalidInput):
    code = "invalid_upload"


class UploadTooLarge(DomainError):
    status_code = 413
    code = "upload_too_large"


class InvalidRequest(InvalidInput):
    code = "invalid_request"


class DisputeAlreadyOpen(Conflict):
    code = "dispute_already_open"


class LegalRequestNotFound(NotFound):
    code = "legal_request_not_found"


class InvalidHandlingNote(InvalidInput):
    code = "invalid_handling_note"


class LegalRequestAlreadyHandled(Conflict):
    """The request was recorded as handled already, with another note: the first stands."""

    code = "legal_request_already_handled"
