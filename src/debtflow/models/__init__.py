"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from debtflow.models.account import Account
from debtflow.models.case import BucketTransition, Case, CaseStatusChange
from debtflow.models.collector import Collector
from debtflow.models.contact import ContactAttempt
from debtflow.models.creditor import Creditor
from debtflow.models.debtor import Address, ContactPoint, Debtor
from debtflow.models.payment import Payment
from debtflow.models.promise import PromiseToPay

__all__ = [
    "Account",
    "Address",
    "BucketTransition",
    "Case",
    "CaseStatusChange",
    "Collector",
    "ContactAttempt",
    "ContactPoint",
    "Creditor",
    "Debtor",
    "Payment",
    "PromiseToPay",
]
