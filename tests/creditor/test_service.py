"""Creditors: a new one gets the default compliance pack, an update keeps what it omits, and
an unknown pack is refused (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from debtflow.core.errors import InvalidInput
from debtflow.creditor import repository
from debtflow.creditor import service as creditor_service


def test_new_creditor_gets_the_default_pack(session):
    creditor = creditor_service.save(session, code="BANK1", name="第一银行")
    assert creditor.compliance_pack == "cn-2025"


def test_update_without_a_pack_keeps_the_creditors_pack(session):
    creditor_service.save(session, code="BANK1", name="第一银行", compliance_pack="us-regf")
    renamed = creditor_service.save(session, code="BANK1", name="第一银行（更名）")
    assert (renamed.name, renamed.compliance_pack) == ("第一银行（更名）", "us-regf")


def test_update_with_a_pack_changes_it(session):
    creditor_service.save(session, code="BANK1", name="第一银行")
    moved = creditor_service.save(session, code="BANK1", name="第一银行", compliance_pack="us-regf")
    assert moved.compliance_pack == "us-regf"


def test_unknown_pack_is_refused_naming_the_known_packs_and_nothing_changes(session):
    creditor_service.save(session, code="BANK1", name="第一银行")
    with pytest.raises(InvalidInput, match=r"unknown compliance pack 'nope'.*cn-2025, us-regf"):
        creditor_service.save(session, code="BANK1", name="Renamed", compliance_pack="nope")
    with pytest.raises(InvalidInput, match="unknown compliance pack"):
        creditor_service.save(session, code="BANK2", name="第二银行", compliance_pack="nope")
    stored = repository.by_code(session, code="BANK1")
    assert stored is not None
    assert (stored.name, stored.compliance_pack) == ("第一银行", "cn-2025")
    assert repository.by_code(session, code="BANK2") is None
