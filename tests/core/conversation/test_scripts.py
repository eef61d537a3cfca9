from __future__ import annotations

from datetime import date
from importlib import resources

import pytest

from debtflow.core.conversation.labels import Emotion, Intent, OverdueCause, Segment
from debtflow.core.conversation.scripts import (
    AgreedPlan,
    CaseContext,
    PlanOffer,
    ScriptLibraryError,
    choose_script,
    load_library,
    parse_library,
    yuan,
)

LIBRARY = load_library()
PLAN = PlanOffer(instalment_count=3, instalment_fen=420_000, current_monthly_fen=700_000)
CASE = CaseContext(
    debtor_name="张先生",
    creditor_name="安心消费金融",
    agent_name="小王",
    outstanding_fen=1_260_000,
    segment=Segment.POTENTIAL,
    plan=PLAN,
)


def test_yuan_formats_integer_fen_exactly() -> None:
    assert yuan(420_000) == "4,200.00"
    assert yuan(1) == "0.01"
    assert yuan(-250) == "-2.50"


def test_third_party_script_reveals_nothing_about_the_debt() -> None:
    action = choose_script(LIBRARY, emotion=Emotion.NEUTRAL, intent=Intent.THIRD_PARTY, case=CASE)
    for secret in ("12,600.00", "欠", "逾期", "还款", "安心消费金融", "4,200.00"):
        assert secret not in action.text
    assert action.library_version == LIBRARY.version


def test_hesitant_debtor_gets_the_exact_plan_and_saving() -> None:
    action = choose_script(
        LIBRARY, emotion=Emotion.NEUTRAL, intent=Intent.OTHER, case=CASE, hesitant=True
    )
    assert "3期" in action.text and "4,200.00" in action.text
    assert "40%" in action.text  # (7000 - 4200) / 7000


def test_angry_debtor_gets_an_apology() -> None:
    action = choose_script(LIBRARY, emotion=Emotion.ANGRY, intent=Intent.REFUSE, case=CASE)
    assert "抱歉" in action.text


def test_hardship_cause_routes_to_restructuring() -> None:
    action = choose_script(
        LIBRARY,
        emotion=Emotion.SAD,
        intent=Intent.CANNOT_PAY,
        case=CASE,
        cause=OverdueCause.ILLNESS,
    )
    assert action.script_id == "hardship-restructure"
    assert "4,200.00" in action.text


def test_without_a_plan_a_script_that_quotes_one_is_skipped() -> None:
    action = choose_script(
        LIBRARY, emotion=Emotion.NEUTRAL, intent=Intent.OTHER, case=CaseContext(), hesitant=True
    )
    assert "{" not in action.text
    assert action.script_id == "gentle-reminder"


def test_plan_offer_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        PlanOffer(instalment_count=0, instalment_fen=100, current_monthly_fen=200)
    with pytest.raises(ValueError):
        PlanOffer(instalment_count=3, instalment_fen=0, current_monthly_fen=200)


SAFE = """
[[scripts]]
id = "third-party"
intents = ["third_party"]
text = "麻烦您转告机主回个电话"
[[scripts]]
id = "wrong-number"
intents = ["wrong_number"]
text = "抱歉打扰了"
"""

GOOD = (
    """
version = "v1"
[[scripts]]
id = "fallback"
text = "您好"
"""
    + SAFE
)


def test_minimal_library_loads() -> None:
    library = parse_library(GOOD)
    assert library.version == "v1" and library.scripts[0].id == "fallback"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD + '[[scripts]]\nid = "x"\ntext = "{debt}"\n', "script 'x': unknown placeholder"),
        (
            GOOD + '[[scripts]]\nid = "x"\ntext = "a"\nintents = ["pay"]\n',
            "script 'x': intents entry 'pay'",
        ),
        (GOOD + '[[scripts]]\nid = "fallback"\ntext = "b"\n', "used twice"),
        (GOOD.replace('text = "您好"', 'text = "{debtor_name}"'), "catch-all"),
        (GOOD.replace('version = "v1"', ""), "missing 'version'"),
        (GOOD + 'colour = "red"\n', "unknown keys"),
        (GOOD + '[[scripts]]\nid = "x"\ntext = "a"\nmax_willingness = 2\n', "0 to 1"),
        ("[[scripts]", "not valid TOML"),
    ],
)
def test_bad_libraries_are_reported_with_the_script_id(text: str, message: str) -> None:
    with pytest.raises(ScriptLibraryError, match=message):
        parse_library(text)


SHIPPED = (
    resources.files("debtflow.core.conversation")
    .joinpath("script_library/library.toml")
    .read_text(encoding="utf-8")
)


def _without_script(text: str, script_id: str) -> str:
    blocks = text.split("[[scripts]]")
    kept = [b for b in blocks if f'id = "{script_id}"' not in b]
    assert len(kept) == len(blocks) - 1
    return "[[scripts]]".join(kept)


@pytest.mark.parametrize(
    ("script_id", "intent"),
    [("third-party-identity-safe", "third_party"), ("wrong-number-close", "wrong_number")],
)
def test_a_library_without_a_safe_script_for_a_non_debtor_is_refused(
    script_id: str, intent: str
) -> None:
    with pytest.raises(ScriptLibraryError, match=f"no script for {intent}"):
        parse_library(_without_script(SHIPPED, script_id))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # the only third-party script discloses (debt word, placeholder) or has a condition
        ("麻烦您转告机主回个电话", "麻烦您转告机主账单已经逾期", "script 'third-party'.*逾期"),
        ("麻烦您转告机主回个电话", "请转告他欠款{outstanding}元", "script 'third-party'"),
        (
            'intents = ["third_party"]',
            'intents = ["third_party"]\nemotions = ["angry"]',
            "no script for third_party",
        ),
        ("抱歉打扰了", "抱歉，请转告他还款", "script 'wrong-number'.*还款"),
    ],
)
def test_a_script_for_a_non_debtor_that_discloses_the_debt_is_refused(
    old: str, new: str, message: str
) -> None:
    with pytest.raises(ScriptLibraryError, match=message):
        parse_library(GOOD.replace(old, new))


def test_a_disclosing_script_that_also_names_third_party_is_refused() -> None:
    text = GOOD + (
        '[[scripts]]\nid = "plan"\npriority = 10\nintents = ["third_party", "refuse"]\n'
        'text = "可以分{instalment_count}期"\n'
    )
    with pytest.raises(ScriptLibraryError, match="script 'plan'.*third_party"):
        parse_library(text)


def test_the_shipped_library_gives_non_debtors_a_script_that_reveals_nothing() -> None:
    for intent in (Intent.THIRD_PARTY, Intent.WRONG_NUMBER):
        action = choose_script(LIBRARY, emotion=Emotion.ANGRY, intent=intent, case=CASE)
        assert action.script_id in {"third-party-identity-safe", "wrong-number-close"}


def test_a_script_without_an_intent_is_never_chosen_for_a_non_debtor() -> None:
    text = GOOD.replace('text = "您好"', 'text = "提醒您账单已经逾期"\npriority = 50') + (
        '[[scripts]]\nid = "hesitant-plan"\npriority = 40\nhesitant = true\n'
        'text = "可以分{instalment_count}期，每期{instalment_amount}元"\n'
    )
    library = parse_library(text)
    for intent, expected in (
        (Intent.THIRD_PARTY, "third-party"),
        (Intent.WRONG_NUMBER, "wrong-number"),
    ):
        for hesitant in (False, True):
            action = choose_script(
                library, emotion=Emotion.NEUTRAL, intent=intent, case=CASE, hesitant=hesitant
            )
            assert action.script_id == expected
    other = choose_script(library, emotion=Emotion.NEUTRAL, intent=Intent.OTHER, case=CASE)
    assert other.script_id == "fallback"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("可以分{{instalment_count}}期", r"script 'x': .*\{\{instalment_count\}\}"),
        ("每期｛instalment_amount｝元", "script 'x': .*full-width braces"),
        ("每期｛instalment_amount}元", "script 'x': .*full-width braces"),
        ("可以分{{instalment_count}}期，每期｛instalment_amount｝元", "script 'x'"),
    ],
)
def test_mistyped_placeholder_braces_are_refused(body: str, message: str) -> None:
    with pytest.raises(ScriptLibraryError, match=message):
        parse_library(GOOD + f'[[scripts]]\nid = "x"\npriority = 5\ntext = "{body}"\n')


def test_literal_braces_around_other_text_still_load() -> None:
    library = parse_library(GOOD + '[[scripts]]\nid = "x"\ntext = "{{提示}}｛备注｝"\n')
    assert [s.text for s in library.scripts if s.id == "x"] == ["{{提示}}｛备注｝"]


AGREED = AgreedPlan(
    instalment_count=26, instalment_fen=180_000, next_due=date(2026, 12, 29), next_due_fen=180_000
)


@pytest.mark.parametrize(
    ("emotion", "intent", "hesitant", "willingness"),
    [
        (Emotion.NEUTRAL, Intent.OTHER, False, 0.5),
        (Emotion.NEUTRAL, Intent.OTHER, True, 0.5),
        (Emotion.NEUTRAL, Intent.OTHER, False, 0.2),
        (Emotion.NEUTRAL, Intent.ASK_PLAN, False, 0.5),
        (Emotion.ANGRY, Intent.REFUSE, False, 0.5),
        (Emotion.SAD, Intent.CANNOT_PAY, False, 0.5),
    ],
)
def test_a_signed_plan_is_never_offered_a_new_plan_beside_it(
    emotion: Emotion, intent: Intent, hesitant: bool, willingness: float
) -> None:
    """With a plan the debtor signed, the offer is never quoted, whatever the script."""
    case = CaseContext(debtor_name="张先生", outstanding_fen=1_260_000, plan=PLAN, agreed=AGREED)
    action = choose_script(
        LIBRARY,
        emotion=emotion,
        intent=intent,
        case=case,
        cause=OverdueCause.ILLNESS,
        hesitant=hesitant,
        willingness=willingness,
    )
    assert "4,200.00" not in action.text and "3期" not in action.text
    assert "{" not in action.text


def test_a_signed_plan_is_spoken_of_by_its_next_payment() -> None:
    case = CaseContext(debtor_name="张先生", plan=PLAN, agreed=AGREED)
    action = choose_script(LIBRARY, emotion=Emotion.NEUTRAL, intent=Intent.OTHER, case=case)
    assert action.script_id == "agreed-plan-next-due"
    assert "1,800.00元" in action.text and "2026年12月29日" in action.text
    # a library without such a script falls back on its plain reminder
    minimal = parse_library(
        'version = "t"\n'
        '[[scripts]]\nid = "third"\nintents = ["third_party"]\ntext = "请转告他回电"\n'
        '[[scripts]]\nid = "wrong"\nintents = ["wrong_number"]\ntext = "打扰了"\n'
        '[[scripts]]\nid = "offer"\npriority = 5\ntext = "分{instalment_count}期"\n'
        '[[scripts]]\nid = "agreed"\npriority = 3\ntext = "下一期{next_due_date}"\n'
        '[[scripts]]\nid = "plain"\ntext = "请按时还款"\n'
    )
    chosen = choose_script(minimal, emotion=Emotion.NEUTRAL, intent=Intent.OTHER, case=case)
    assert (chosen.script_id, chosen.text) == ("agreed", "下一期2026年12月29日")
    paid = CaseContext(plan=PLAN, agreed=AgreedPlan(instalment_count=26, instalment_fen=0))
    chosen = choose_script(minimal, emotion=Emotion.NEUTRAL, intent=Intent.OTHER, case=paid)
    assert chosen.script_id == "plain"


def test_a_script_may_carry_its_purpose_in_chinese() -> None:
    """``purpose_zh`` is optional: a library without it loads as before."""
    text = GOOD.replace(
        'id = "fallback"\n', 'id = "fallback"\npurpose = "Catch-all"\npurpose_zh = "兜底"\n'
    )
    library = parse_library(text)
    assert (library.scripts[0].purpose, library.scripts[0].purpose_zh) == ("Catch-all", "兜底")
    action = choose_script(library, emotion=Emotion.NEUTRAL, intent=Intent.OTHER, case=CASE)
    assert action.purpose_zh == "兜底" and action.as_json()["purpose_zh"] == "兜底"
    assert parse_library(GOOD).scripts[0].purpose_zh is None


@pytest.mark.parametrize("value", ['""', '"  "', "3", "[]"])
def test_an_empty_or_non_text_purpose_zh_is_refused(value: str) -> None:
    with pytest.raises(ScriptLibraryError, match="script 'fallback': 'purpose_zh'"):
        parse_library(GOOD.replace('id = "fallback"\n', f'id = "fallback"\npurpose_zh = {value}\n'))


def test_every_shipped_script_has_its_purpose_in_chinese() -> None:
    assert all(s.purpose_zh and s.purpose for s in LIBRARY.scripts)
