"""Creditors that place portfolios, with their mandate (limits on what a plan may offer)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from debtflow.core.compliance.rule_pack import shipped_pack_names
from debtflow.core.errors import InvalidInput
from debtflow.creditor import repository
from debtflow.models import Creditor

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")

#: the compliance rule pack of a new creditor when none is named
DEFAULT_COMPLIANCE_PACK = "cn-2025"


def save(
    session: Session,
    *,
    code: str,
    name: str,
    compliance_pack: str | None = None,
    max_relief_bp: int | None = None,
    max_term_months: int | None = None,
    min_first_payment_bp: int | None = None,
) -> Creditor:
    """Create a creditor, or update the one with this code.

    ``compliance_pack`` must be a shipped rule pack; left out, a new creditor gets
    :data:`DEFAULT_COMPLIANCE_PACK` and an existing one keeps its pack. Mandate limits left
    out keep their stored (or default) values likewise.
    """
    code = code.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(
            f"creditor code {code!r} must be 2–40 capital letters, digits, '-' or '_'"
        )
    if not name.strip():
        raise InvalidInput("a creditor needs a name")
    for label, value, high in (
        ("maximum relief", max_relief_bp, 10_000),
        ("minimum first payment", min_first_payment_bp, 10_000),
    ):
        if value is not None and not 0 <= value <= high:
            raise InvalidInput(f"{label} must be 0–{high} basis points")
    if max_term_months is not None and not 1 <= max_term_months <= 120:
        raise InvalidInput("maximum term must be 1–120 months")
    if compliance_pack is not None and compliance_pack not in shipped_pack_names():
        raise InvalidInput(
            f"unknown compliance pack {compliance_pack!r}; known packs: "
            f"{', '.join(shipped_pack_names())}"
        )
    creditor = repository.by_code(session, code=code)
    if creditor is None:
        creditor = Creditor(
            code=code,
            name=name.strip(),
            compliance_pack=compliance_pack or DEFAULT_COMPLIANCE_PACK,
        )
        repository.add(session, creditor)
    creditor.name = name.strip()
    if compliance_pack is not None:
        creditor.compliance_pack = compliance_pack
    if max_relief_bp is not None:
        creditor.max_relief_bp = max_relief_bp
    if max_term_months is not None:
        creditor.max_term_months = max_term_months
    if min_first_payment_bp is not None:
        creditor.min_first_payment_bp = min_first_payment_bp
    session.flush()
    return creditor


def all_creditors(session: Session) -> Sequence[Creditor]:
    return repository.all_creditors(session)
