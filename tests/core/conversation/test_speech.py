from __future__ import annotations

from pathlib import Path

import pytest

from debtflow.core.conversation.labels import Severity, Violation
from debtflow.core.conversation.speech import (
    RuleFileError,
    SpeechFlag,
    compliance_score,
    load_rules,
    parse_rules,
    rule_flags,
)

RULES = load_rules()


@pytest.mark.parametrize(
    ("text", "violation"),
    [
        ("你走夜路小心点", Violation.THREAT),
        ("你这个老赖", Violation.INSULT),
        ("我会一直打到你还钱为止", Violation.HARASSMENT),
        ("这里是派出所经侦大队", Violation.IMPERSONATION),
        ("不还钱就要坐牢", Violation.FALSE_LEGAL),
        ("你老公欠我们三万块钱没还", Violation.THIRD_PARTY_DISCLOSURE),
        ("去别的平台借了先还我们", Violation.BORROW_ELSEWHERE),
    ],
)
def test_each_violation_is_flagged_with_a_span_inside_the_text(
    text: str, violation: Violation
) -> None:
    flags = [f for f in rule_flags(text, RULES) if f.violation is violation]
    assert flags, f"{violation} not flagged in {text}"
    for flag in flags:
        assert text[flag.start : flag.end] == flag.excerpt
        assert flag.excerpt
        assert flag.rule


@pytest.mark.parametrize(
    "text",
    [
        "您好，请问是张先生本人吗",
        "逾期会影响您的个人征信记录",
        "如果长期不还款，我们可能会依法通过诉讼解决",
        "我们不是警察，只是提醒您还款",
        "请问您方便转告他给我们回个电话吗",
        "我们可以帮您申请分期",
    ],
)
def test_compliant_speech_is_not_flagged(text: str) -> None:
    assert rule_flags(text, RULES) == []


def test_score_takes_the_worst_penalty_per_violation() -> None:
    def flag(violation: Violation, severity: Severity) -> SpeechFlag:
        return SpeechFlag(violation, "r", severity, 0, 1, "x")

    assert compliance_score([]) == 100
    assert compliance_score([flag(Violation.INSULT, Severity.MEDIUM)]) == 85
    assert (
        compliance_score(
            [flag(Violation.INSULT, Severity.MEDIUM), flag(Violation.INSULT, Severity.HIGH)]
        )
        == 70
    )
    many = [flag(v, Severity.CRITICAL) for v in Violation]
    assert compliance_score(many) == 0


GOOD = """
version = "t1"
[[rules]]
id = "a"
violation = "insult"
severity = "medium"
pattern = "老赖"
"""


def test_a_minimal_rule_file_loads() -> None:
    rules = parse_rules(GOOD)
    assert rules.version == "t1"
    assert [f.excerpt for f in rule_flags("老赖", rules)] == ["老赖"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('pattern = "老赖"', 'pattern = "(老赖"'), "rule 'a': bad regular expression"),
        (GOOD.replace('"insult"', '"rude"'), "rule 'a': violation 'rude'"),
        (GOOD.replace('"medium"', '"huge"'), "rule 'a': severity 'huge'"),
        (GOOD + GOOD.replace('version = "t1"', ""), "'a' is used twice"),
        (GOOD.replace('version = "t1"', ""), "missing 'version'"),
        (GOOD + 'colour = "red"\n', "unknown keys"),
        ("version = [", "not valid TOML"),
    ],
)
def test_bad_rule_files_are_reported_clearly(text: str, message: str) -> None:
    with pytest.raises(RuleFileError, match=message):
        parse_rules(text)


def test_unreadable_rule_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")
