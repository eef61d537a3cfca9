"""Plan offers, the server-side re-derivation of a chosen plan, and signing once."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from debtflow.auth.scoping import NotPermitted
from debtflow.case.service import CaseNotFound
from debtflow.evidence.log import file_store
from debtflow.models import EvidenceLogLeaf, PlanInstalment
from debtflow.portal import service
from portal.conftest import NOW, add_debtor_case

# 842,000 fen owed: interest 30,000 (half relieved), penalty 10,000 + fees 2,000 (all
# relieved) -> relief 27,000, due 815,000, no down payment, zero rate.
RELIEF = 15_000 + 12_000
DUE = 842_000 - RELIEF


def test_offers_are_the_rule_terms_with_exact_dated_schedules(session, world):
    offers = service.plan_offers(session, case_id=world.mine.case.id, user=world.mine.user, now=NOW)
    assert [o.term_months for o in offers] == [3, 6, 12]
    assert [o.recommended for o in offers] == [False, True, False]
    six = offers[1]
    assert six.offer.relief_fen == RELIEF
    assert six.offer.down_payment_fen == 0
    # 815,000 / 6 = 135,833 r 2: the first two months carry one fen more
    assert [r.amount_fen for r in six.schedule] == [135_834, 135_834] + [135_833] * 4
    assert six.total_fen == DUE
    # due on the 29th, clamped to 28 Feb 2027
    assert [r.due_on for r in six.schedule] == [
        date(2026, 12, 29),
        date(2027, 1, 29),
        date(2027, 2, 28),
        date(2027, 3, 29),
        date(2027, 4, 29),
        date(2027, 5, 29),
    ]
    # 150,000 a month now -> 135,834: (14,166 x 10,000 / 150,000) = 944.4 bp lighter
    assert six.change_bp == -944
    assert six.change_zh == "分6期，月供减少9%"


def test_chosen_plan_is_rederived_and_posted_amounts_are_ignored(session, world):
    case_id, user = world.mine.case.id, world.mine.user
    plan = service.choose_plan(session, case_id=case_id, user=user, term_months=6, now=NOW)
    assert (plan.status, plan.total_fen, plan.relief_fen) == ("chosen", DUE, RELIEF)
    rows = session.scalars(
        select(PlanInstalment).where(PlanInstalment.plan_id == plan.id).order_by("number")
    ).all()
    assert [r.amount_fen for r in rows] == [135_834, 135_834] + [135_833] * 4
    assert "¥8,150.00" in plan.agreement_text and "2027-02-28" in plan.agreement_text
    # choosing again (another term) replaces the unsigned choice
    plan = service.choose_plan(session, case_id=case_id, user=user, term_months=3, now=NOW)
    rows = session.scalars(select(PlanInstalment).where(PlanInstalment.plan_id == plan.id)).all()
    assert sorted(r.amount_fen for r in rows) == [271_666, 271_667, 271_667]
    with pytest.raises(service.InvalidPlanChoice, match="run 3, 6, 12 months"):
        service.choose_plan(session, case_id=case_id, user=user, term_months=5, now=NOW)


def test_schema_takes_only_the_term():
    from debtflow.portal.schemas import PlanChoice

    choice = PlanChoice.model_validate({"term_months": 6, "total_fen": 1, "relief_fen": 10**9})
    assert choice.model_dump() == {"term_months": 6}


def test_no_offer_for_a_legal_or_unplanned_case(session, world):
    legal = add_debtor_case(
        session,
        creditor_id=world.mine.case.creditor_id,
        name="赵四",
        accounts=[
            {
                "principal_fen": 5_000,
                "interest_fen": 0,
                "penalty_fen": 0,
                "fees_fen": 0,
                "instalment_fen": 1_000,
            }
        ],
        treatment={"kind": "legal", "actions": ["legal_referral"]},
        segment="risk",
    )
    with pytest.raises(service.NoPlanOffered):
        service.plan_offers(session, case_id=legal.case.id, user=legal.user, now=NOW)
    legal.case.treatment = None
    with pytest.raises(service.NoPlanOffered):
        service.choose_plan(session, case_id=legal.case.id, user=legal.user, term_months=6, now=NOW)


def test_mandate_removes_terms_that_break_it(session, world):
    from debtflow.models import Creditor

    creditor = session.get(Creditor, world.mine.case.creditor_id)
    creditor.max_term_months = 6
    offers = service.plan_offers(session, case_id=world.mine.case.id, user=world.mine.user, now=NOW)
    assert [o.term_months for o in offers] == [3, 6]


def test_sign_once_with_hash_evidence_and_file(session, world):
    case_id, user = world.mine.case.id, world.mine.user
    with pytest.raises(service.NoPlanChosen):
        service.sign_agreement(
            session,
            case_id=case_id,
            user=user,
            signer_name="李小梅",
            read_confirmed=True,
            ip="10.0.0.1",
            user_agent="UA",
            now=NOW,
        )
    plan = service.choose_plan(session, case_id=case_id, user=user, term_months=6, now=NOW)
    with pytest.raises(service.InvalidSignature, match="tick"):
        service.sign_agreement(
            session,
            case_id=case_id,
            user=user,
            signer_name="李小梅",
            read_confirmed=False,
            ip=None,
            user_agent=None,
            now=NOW,
        )
    with pytest.raises(service.InvalidSignature, match="name"):
        service.sign_agreement(
            session,
            case_id=case_id,
            user=user,
            signer_name=" ",
            read_confirmed=True,
            ip=None,
            user_agent=None,
            now=NOW,
        )
    text = plan.agreement_text
    signed = service.sign_agreement(
        session,
        case_id=case_id,
        user=user,
        signer_name=" 李小梅 ",
        read_confirmed=True,
        ip="10.0.0.1",
        user_agent="Mozilla/5.0",
        now=NOW + timedelta(minutes=5),
    )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert signed.agreement_text == text
    assert (signed.status, signed.agreement_sha256, signed.signer_name) == (
        "signed",
        digest,
        "李小梅",
    )
    assert (signed.signer_ip, signed.signer_user_agent) == ("10.0.0.1", "Mozilla/5.0")
    leaf = session.scalars(
        select(EvidenceLogLeaf).where(EvidenceLogLeaf.idx == signed.evidence_index)
    ).one()
    assert leaf.kind == "agreement_signature" and leaf.case_id == case_id
    assert digest.encode() in bytes(leaf.canonical_bytes)
    assert file_store().read(digest) == text.encode("utf-8")
    with pytest.raises(service.AgreementAlreadySigned):
        service.sign_agreement(
            session,
            case_id=case_id,
            user=user,
            signer_name="李小梅",
            read_confirmed=True,
            ip=None,
            user_agent=None,
            now=NOW,
        )
    with pytest.raises(service.AgreementAlreadySigned):
        service.choose_plan(session, case_id=case_id, user=user, term_months=3, now=NOW)


def test_a_stale_choice_must_be_made_again(session, world):
    case_id, user = world.mine.case.id, world.mine.user
    service.choose_plan(session, case_id=case_id, user=user, term_months=6, now=NOW)
    with pytest.raises(service.PlanChoiceExpired):
        service.sign_agreement(
            session,
            case_id=case_id,
            user=user,
            signer_name="李小梅",
            read_confirmed=True,
            ip=None,
            user_agent=None,
            now=NOW + timedelta(days=service.CHOICE_VALID_DAYS + 1),
        )


def test_other_debtors_case_is_not_found_and_staff_are_refused(session, world):
    theirs = world.other.case.id
    me = world.mine.user
    with pytest.raises(CaseNotFound):
        service.plan_offers(session, case_id=theirs, user=me, now=NOW)
    with pytest.raises(CaseNotFound):
        service.choose_plan(session, case_id=theirs, user=me, term_months=6, now=NOW)
    with pytest.raises(CaseNotFound):
        service.sign_agreement(
            session,
            case_id=theirs,
            user=me,
            signer_name="李小梅",
            read_confirmed=True,
            ip=None,
            user_agent=None,
            now=NOW,
        )
    with pytest.raises(CaseNotFound):
        service.plan_of(session, case_id=theirs, user=me)
    with pytest.raises(NotPermitted):
        service.plan_offers(session, case_id=world.mine.case.id, user=world.agent, now=NOW)


def test_a_plan_chosen_before_a_payment_must_be_chosen_again(session, world):
    """Signing a plan whose amounts no longer match what the case owes would leave it
    asking for more than is owed: it could never complete and its relief would be lost."""
    from debtflow.payment import service as payment_service

    case_id, user = world.mine.case.id, world.mine.user

    def sign():
        return _sign(session, world, "李小梅")

    service.choose_plan(session, case_id=case_id, user=user, term_months=6, now=NOW)
    payment_service.book(
        session,
        account_id=world.mine.accounts[0].id,
        amount_fen=100_000,
        paid_at=NOW,
        reference="between-choice-and-signature",
    )
    with pytest.raises(service.PlanChoiceExpired, match="choose the plan again"):
        sign()
    again = service.choose_plan(session, case_id=case_id, user=user, term_months=6, now=NOW)
    # the payment went to fees, penalty and interest first: nothing is left to relieve
    assert (again.total_fen, again.relief_fen) == (842_000 - 100_000, 0)
    assert sign().status == "signed"


def test_a_plan_the_creditor_no_longer_allows_is_not_signed(session, world):
    """The creditor lowers its maximum term after the debtor chose 12 months: the choice is
    not signed (the agreement would be outside the creditor's mandate); a term still within
    it is."""
    from debtflow.models import Creditor

    case_id, user = world.mine.case.id, world.mine.user
    service.choose_plan(session, case_id=case_id, user=user, term_months=12, now=NOW)
    creditor = session.get(Creditor, world.mine.case.creditor_id)
    creditor.max_term_months = 6
    session.flush()
    with pytest.raises(service.PlanChoiceExpired, match="creditor's limits"):
        _sign(session, world, "李小梅")
    service.choose_plan(session, case_id=case_id, user=user, term_months=6, now=NOW)
    assert _sign(session, world, "李小梅").status == "signed"


def test_the_debtor_signs_with_their_own_name(session, world):
    case_id, user = world.mine.case.id, world.mine.user
    service.choose_plan(session, case_id=case_id, user=user, term_months=6, now=NOW)

    def sign(name: str):
        return _sign(session, world, name)

    with pytest.raises(service.InvalidSignature, match="own full name"):
        sign("Mickey Mouse")
    with pytest.raises(service.InvalidSignature, match="own full name"):
        sign("王大山")  # the other debtor of the world
    assert sign(" 李 小梅 ").signer_name == "李 小梅"  # spaces do not count


def _sign(session, world, name: str):
    """The debtor of ``world.mine`` signs the chosen plan as ``name``, ticked, at NOW."""
    return service.sign_agreement(
        session,
        case_id=world.mine.case.id,
        user=world.mine.user,
        signer_name=name,
        read_confirmed=True,
        ip=None,
        user_agent=None,
        now=NOW,
    )
