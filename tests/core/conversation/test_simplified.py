"""Traditional Chinese is read as simplified: a collector writing 繁體 is flagged as one
writing simplified, with spans and excerpts of the words as written, and a debtor's
traditional promise or refusal is read the same — the compliance check cannot be slipped by
switching script."""

from __future__ import annotations

import pytest

from debtflow.core.conversation.analysis import ConversationAnalyzer
from debtflow.core.conversation.labels import Intent, Violation
from debtflow.core.conversation.simplified import to_simplified
from debtflow.core.conversation.speech import check_utterances, load_rules, rule_flags

RULES = load_rules()


def test_characters_are_replaced_one_for_one() -> None:
    assert to_simplified("再不還錢就讓你全家好看") == "再不还钱就让你全家好看"
    assert to_simplified("兩萬塊，下週還") == "两万块，下周还"
    mixed = "abc 123 ✓ 你好 還"
    assert len(to_simplified(mixed)) == len(mixed) and to_simplified(mixed) == "abc 123 ✓ 你好 还"
    assert to_simplified("已经是简体") == "已经是简体"  # simplified text is left as it is


@pytest.mark.parametrize(
    ("traditional", "violation"),
    [
        ("這裡是派出所經偵大隊", Violation.IMPERSONATION),
        ("不還錢就要坐牢", Violation.FALSE_LEGAL),
        ("你老公欠我們三萬塊錢沒還", Violation.THIRD_PARTY_DISCLOSURE),
        ("去別的平台借了先還我們", Violation.BORROW_ELSEWHERE),
        ("我會一直打到你還錢為止", Violation.HARASSMENT),
    ],
)
def test_a_traditional_violation_is_flagged_with_its_own_words(
    traditional: str, violation: Violation
) -> None:
    simplified = to_simplified(traditional)
    assert simplified != traditional
    expected = {f.violation for f in check_utterances([simplified], RULES)[0]}
    assert violation in expected  # the rule catches the simplified line …
    (flags,) = check_utterances([traditional], RULES)
    assert violation in {f.violation for f in flags}  # … and the traditional one
    for flag in flags:
        assert flag.excerpt == traditional[flag.start : flag.end] and flag.excerpt


def test_a_traditional_debtor_line_reads_as_the_simplified_one(
    analyzer: ConversationAnalyzer,
) -> None:
    (promise,) = analyzer.read_debtor(["行，下週五先還三千塊"])
    assert promise.text == "行，下週五先還三千塊"  # the words as said
    assert promise.intent is Intent.PROMISE_TO_PAY and promise.promise is not None
    assert promise.promise.when == "下周五" and promise.promise.amount_fen == 300_000
    (plain,) = analyzer.read_debtor(["行，下周五先还三千块"])
    assert promise.intent_scores == plain.intent_scores
    assert promise.emotion_scores == plain.emotion_scores
    (refusal,) = analyzer.read_debtor(["滾，神經病"])
    assert refusal.intent is Intent.REFUSE


def test_the_table_ships_with_its_licence() -> None:
    from importlib import resources

    package = resources.files("debtflow.core.conversation")
    table = package.joinpath("traditional_simplified.tsv").read_text(encoding="utf-8")
    assert "Apache-2.0" in table.splitlines()[4]
    assert "Apache License" in package.joinpath("traditional_simplified.LICENSE.txt").read_text(
        encoding="utf-8"
    )


def test_look_alike_characters_are_read_as_the_plain_ones() -> None:
    """Compatibility ideographs and Kangxi radicals look like the ordinary characters; a
    rule must not be slipped by typing them. Full-width letters and digits fold too, but
    punctuation stays as written (the rules spell out "，")."""
    disguised = "不还钱就来抓\U0002f804"  # U+2F804: a compatibility ideograph of 你
    assert to_simplified(disguised) == "不还钱就来抓你"
    assert to_simplified("⼈") == "人"  # U+2F08 KANGXI RADICAL MAN
    assert to_simplified("ＡＢＣ１２３，！") == "ABC123，！"
    for disguised in ("不还钱就要坐\uf946", "你这个\u2f7c赖"):  # 牢, 老 as look-alikes
        assert not rule_flags(disguised, RULES)  # the raw text slips past the patterns …
        (flags,) = check_utterances([disguised], RULES)
        assert flags, disguised  # … the text as read does not
        assert all(f.excerpt == disguised[f.start : f.end] for f in flags)


def test_ordinary_simplified_characters_are_left_alone() -> None:
    for text in ("乾隆皇帝", "哪吒", "蒜薹", "甯先生"):
        assert to_simplified(text) == text


def test_reading_twice_is_reading_once() -> None:
    from debtflow.core.conversation.simplified import _table

    values = "".join(_table().values())
    assert to_simplified(values) == values


def test_a_rule_written_in_traditional_matches_either_script() -> None:
    from debtflow.core.conversation.speech import parse_rules

    rules = parse_rules(
        'version = "hk-1"\n'
        "[[rules]]\n"
        'id = "hk-threat"\n'
        'violation = "threat"\n'
        'severity = "critical"\n'
        'pattern = "打斷你的腿"\n'
    )
    for said in ("再不還就打斷你的腿", "再不还就打断你的腿"):
        (flags,) = check_utterances([said], rules)
        assert [f.rule for f in flags] == ["hk-threat"], said
        assert flags[0].excerpt == said[flags[0].start : flags[0].end]
