from __future__ import annotations

import pytest

from debtflow.core.conversation.labels import Emotion, Intent, OverdueCause, Segment
from debtflow.core.conversation.scripts import (
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


GOOD = """
version = "v1"
[[scripts]]
id = "fallback"
text = "您好"
"""


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
