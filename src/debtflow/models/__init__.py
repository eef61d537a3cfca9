"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from debtflow.models.account import Account
from debtflow.models.case import BucketTransition, Case, CaseStatusChange
from debtflow.models.collector import Collector
from debtflow.models.compliance import (
    ContactDecision,
    ContactRestriction,
    DenyOverride,
    PersonalDataView,
    QaSample,
)
from debtflow.models.contact import ContactAttempt
from debtflow.models.conversation import CallAlert, ConversationAnalysis
from debtflow.models.creditor import Creditor
from debtflow.models.debtor import Address, ContactPoint, Debtor
from debtflow.models.dispatch import (
    DispatchAssignment,
    DispatchDailyMetrics,
    DispatchModelState,
    DispatchOutcome,
    DispatchOverride,
    FieldRoute,
)
from debtflow.models.evidence import (
    EvidenceCosignature,
    EvidenceFile,
    EvidenceLogLeaf,
    EvidenceLogNode,
    EvidenceLogState,
    EvidenceSigningKey,
    EvidenceTreeHead,
)
from debtflow.models.field import FieldCheckin, FieldVisitFile, FieldVisitRequest
from debtflow.models.note import CaseNote
from debtflow.models.payment import Payment
from debtflow.models.portal import (
    ContactPreference,
    DebtorDispute,
    LegalAdviceRequest,
    PaymentIntent,
    PaymentWebhookEvent,
    PlanInstalment,
    PortalPlan,
)
from debtflow.models.promise import PromiseToPay
from debtflow.models.user import ApiToken, DebtorOneTimeCode, Role, User, WebSession

__all__ = [
    "Account",
    "Address",
    "BucketTransition",
    "CallAlert",
    "Case",
    "CaseNote",
    "CaseStatusChange",
    "Collector",
    "ContactAttempt",
    "ConversationAnalysis",
    "ContactDecision",
    "ContactRestriction",
    "DenyOverride",
    "PersonalDataView",
    "QaSample",
    "ContactPoint",
    "Creditor",
    "Debtor",
    "DispatchAssignment",
    "DispatchDailyMetrics",
    "DispatchModelState",
    "DispatchOutcome",
    "DispatchOverride",
    "FieldRoute",
    "FieldCheckin",
    "FieldVisitFile",
    "FieldVisitRequest",
    "EvidenceCosignature",
    "EvidenceFile",
    "EvidenceLogLeaf",
    "EvidenceLogNode",
    "EvidenceLogState",
    "EvidenceSigningKey",
    "EvidenceTreeHead",
    "Payment",
    "PromiseToPay",
    "ContactPreference",
    "DebtorDispute",
    "LegalAdviceRequest",
    "PaymentIntent",
    "PaymentWebhookEvent",
    "PlanInstalment",
    "PortalPlan",
    "ApiToken",
    "DebtorOneTimeCode",
    "Role",
    "User",
    "WebSession",
]
