from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from debtflow.core.conversation.labels import Severity, Violation
from debtflow.core.conversation.speech import (
    RuleFileError,
    SpeechFlag,
    SpeechModel,
    check_utterances,
    compliance_score,
    excused_violations,
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


def test_a_doubled_backslash_class_is_refused_because_it_never_matches_digits() -> None:
    # in a single-quoted TOML string '\\d' reaches the regex as \\d: a backslash and "d"
    doubled = GOOD.replace('pattern = "老赖"', "pattern = '打你\\\\d+遍'")
    with pytest.raises(RuleFileError, match=r"rule 'a': 'pattern' has .*one backslash"):
        parse_rules(doubled)
    single = parse_rules(GOOD.replace('pattern = "老赖"', "pattern = '打你\\d+遍'"))
    assert [f.excerpt for f in rule_flags("我一天打你50遍", single)] == ["打你50遍"]


@pytest.mark.parametrize(
    ("text", "violation"),
    [
        # the shipped digit rules once held '\\d' and missed every Arabic numeral
        ("我们有200个号码轮着打你", Violation.HARASSMENT),
        ("我给你打30遍你总会接", Violation.HARASSMENT),
        ("这种情况要判5年", Violation.FALSE_LEGAL),
        ("你住3号楼我们都知道", Violation.THREAT),
    ],
)
def test_shipped_rules_read_arabic_numerals(text: str, violation: Violation) -> None:
    assert violation in {f.violation for f in rule_flags(text, RULES)}, text


def test_unreadable_rule_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")


# Rules widened by concept for issue #7: phrasings unlike the templates (unpunctuated,
# indirect, regional), none of them a line of the blind blocks.
@pytest.mark.parametrize(
    ("text", "violation"),
    [
        ("你好自为之吧真把我们惹急了别怪我们不客气", Violation.THREAT),
        ("你媳妇上班那个超市我们都摸清了", Violation.THREAT),
        ("明天就去你老家门口等着你", Violation.THREAT),
        ("不还的话你这饭碗怕是保不住了", Violation.THREAT),
        ("就你这副德行还想让人同情", Violation.INSULT),
        ("从今天开始每隔五分钟给你拨一次", Violation.HARASSMENT),
        ("你拉黑也没用我们有几百个号码轮流打", Violation.HARASSMENT),
        ("这通电话是派出所打来的你认真听", Violation.IMPERSONATION),
        ("我以律师的身份告诉你", Violation.IMPERSONATION),
        ("拖到下个月你就得进去蹲两年", Violation.FALSE_LEGAL),
        ("你的案子马上移交公安处理", Violation.FALSE_LEGAL),
        ("不还的话以后你护照都办不了", Violation.FALSE_LEGAL),
        ("麻烦你带个话给你哥他的贷款已经逾期半年了", Violation.THIRD_PARTY_DISCLOSURE),
        ("我们这就打电话给你们公司领导说明你欠款的情况", Violation.THIRD_PARTY_DISCLOSURE),
        ("把你家那台车拿去抵押一下不就有钱了", Violation.BORROW_ELSEWHERE),
        ("你表姐那边周转一下先还上", Violation.BORROW_ELSEWHERE),
        # telling the family (a review of session 10 found these unflagged)
        ("再不还钱就告诉你家人和同事", Violation.THIRD_PARTY_DISCLOSURE),
        ("我会通知你家人", Violation.THIRD_PARTY_DISCLOSURE),
        ("我们会联系你父母让他们知道", Violation.THIRD_PARTY_DISCLOSURE),
        # widened on the third hand-written training block (other writers' words)
        ("你这个龟孙子还有脸接电话", Violation.INSULT),
        ("我们是金融监管局的现在正式通知你", Violation.IMPERSONATION),
        ("【某某区人民法院】请尽快与我们联系", Violation.IMPERSONATION),
        ("你爸的退休金也得给你扣掉", Violation.FALSE_LEGAL),
        ("你欠钱的截图我发到你们公司大群了", Violation.THIRD_PARTY_DISCLOSURE),
        ("她的贷款拖了两个月了你叫她赶紧处理", Violation.THIRD_PARTY_DISCLOSURE),
        ("我们每天晚上都上你家门口敲门", Violation.HARASSMENT),
        # a refusal to wait is no exception to the threat that follows it (review, 11-30)
        ("你不还的话我们不会手软，马上派人抓你", Violation.FALSE_LEGAL),
        ("警察不会跟你客气，拘留你是分分钟的事", Violation.FALSE_LEGAL),
        ("法院不会再等了，判刑是肯定的", Violation.FALSE_LEGAL),
        ("我们已经向法院申请强制执行了", Violation.FALSE_LEGAL),
        ("今天就申请强制执行", Violation.FALSE_LEGAL),
    ],
)
def test_widened_rules_catch_the_concept_in_other_words(text: str, violation: Violation) -> None:
    assert violation in {f.violation for f in rule_flags(text, RULES)}, text


@pytest.mark.parametrize(
    "text",
    [
        "如果协商不了债权人有权依法起诉",
        "您别担心欠款不会让您坐牢但是征信会有记录",
        "起诉以后要法院立案审理才有结果",
        "判决生效后仍不履行的才会被列为失信被执行人",
        "请您不要向其他平台借钱来还我们这边可以分期",
        "我们只和借款人本人谈欠款的事",
        "您肯定也不希望一直接到我们的电话吧",
        "我们不会去您单位也不会联系您的同事",
        "我们不会联系你家人的请放心",
        "您可以跟家人商量一下还款计划",
        "您也可以告诉家人帮忙想想办法",
        "请问您是张先生的家人吗",
        "我们明天下午再给您打一个电话",
        "您一直不接电话我们只能继续按流程联系您",
        # negations a compliant collector says (each once flagged)
        "没有人会因为逾期被拘留的我们也没那个权力",
        "我们没有权力冻结任何人的账户",
        "判决以后如果还不还款债权人可以依法申请强制执行",
        "这种情况有可能被列入失信名单所以尽早处理比较好",
        "借网贷还债只会越滚越多我们不建议",
        "我没说你是骗子只是核实一下",
        "没必要去找亲戚借钱我们按您的能力定方案",
        # naming an authority is not claiming to be one; "他们" is not a third party
        "我是平安的，可以找银保监会投诉",
        "我们是持牌机构，受金融监管",
        "协商不成的话，我们法院见",
        "您的借款逾期了，我让他们把还款链接发给您",
        "我跟你讲讲你逾期以后会产生的费用",
        "我们不会天天上门的，您放心",
        "您儿子真有出息，考上大学了",
    ],
)
def test_tough_but_lawful_speech_is_not_flagged_by_rules(text: str) -> None:
    assert rule_flags(text, RULES) == []


def test_an_exception_of_a_rule_also_lifts_the_model_flag() -> None:
    text = "我们不是警察也不是法院"
    assert excused_violations(text, RULES) == {Violation.IMPERSONATION}
    assert excused_violations("我是派出所的民警", RULES) == set()


# An exception lifts only the hit it overlaps or touches, never other hits in the line.
@pytest.mark.parametrize(
    ("text", "violation"),
    [
        ("我不是律师，我是法院的法官", Violation.IMPERSONATION),
        ("这不是诈骗电话，你涉嫌诈骗，马上立案抓你，让你坐牢", Violation.FALSE_LEGAL),
        ("你这个老赖，别以为不在老赖名单上就没事", Violation.INSULT),
    ],
)
def test_an_exception_elsewhere_in_the_line_does_not_lift_a_hit(
    text: str, violation: Violation
) -> None:
    assert violation in {f.violation for f in rule_flags(text, RULES)}, text
    assert violation not in excused_violations(text, RULES)
    [flags] = check_utterances([text], RULES)
    assert compliance_score(flags) < 100


EXCEPTION = """
version = "t1"
[[rules]]
id = "a"
violation = "insult"
severity = "medium"
pattern = "老赖"
unless = "老赖名单|不是说你"
"""


@pytest.mark.parametrize(
    ("text", "excerpts"),
    [
        ("老赖名单", []),  # overlaps
        ("老赖，不是说你", ["老赖"]),  # a character lies between: the hit stands
        ("老赖不是说你", []),  # touches the hit's end
        ("不是说你老赖", []),  # touches the hit's start
        ("老赖！老赖名单", ["老赖"]),
    ],
)
def test_an_exception_lifts_only_the_hit_it_overlaps_or_touches(
    text: str, excerpts: list[str]
) -> None:
    rules = parse_rules(EXCEPTION)
    assert [(f.start, f.excerpt) for f in rule_flags(text, rules)] == [
        (text.index(e), e) for e in excerpts
    ]


def test_the_model_is_excused_only_when_every_hit_of_the_violation_is() -> None:
    rules = parse_rules(EXCEPTION)
    assert excused_violations("那是老赖名单", rules) == {Violation.INSULT}
    assert excused_violations("不是说你，别担心", rules) == {Violation.INSULT}
    assert excused_violations("老赖，老赖名单", rules) == set()
    model = _FixedScores({Violation.INSULT: 0.95}, threshold=0.4)
    [flags] = check_utterances(["那是老赖名单"], rules, model)
    assert flags == []


class _FixedScores(SpeechModel):
    """A model whose scores are given, to test how model flags join rule flags."""

    def __init__(self, scores: dict[Violation, float], threshold: float) -> None:
        super().__init__({}, threshold, 0.9)
        self._fixed = scores

    def scores(self, texts: Sequence[str]) -> dict[Violation, Any]:
        return {v: np.full(len(texts), s) for v, s in self._fixed.items()}


def test_model_adds_a_violation_no_rule_caught_above_its_threshold() -> None:
    model = _FixedScores({Violation.THREAT: 0.5}, threshold=0.4)
    [flags] = check_utterances(["嗯嗯好的"], RULES, model)
    assert [(f.violation, f.rule) for f in flags] == [(Violation.THREAT, "model:threat")]
    [flags] = check_utterances(["嗯嗯好的"], RULES, _FixedScores({Violation.THREAT: 0.3}, 0.4))
    assert flags == []


def test_a_second_violation_from_the_model_needs_the_second_threshold() -> None:
    text = "你这个老赖"  # the insult rule fires
    weak = _FixedScores({Violation.THREAT: 0.6}, threshold=0.4)
    assert {f.violation for f in check_utterances([text], RULES, weak)[0]} == {Violation.INSULT}
    strong = _FixedScores({Violation.THREAT: 0.95}, threshold=0.4)
    found = {f.violation for f in check_utterances([text], RULES, strong)[0]}
    assert found == {Violation.INSULT, Violation.THREAT}


def test_model_flag_is_dropped_where_the_rule_exception_applies() -> None:
    model = _FixedScores({Violation.IMPERSONATION: 0.99}, threshold=0.4)
    assert check_utterances(["我们不是警察，只是提醒您还款"], RULES, model) == [[]]
    assert check_utterances(["您好，请问是张先生本人吗"], RULES, model)[0][0].rule == (
        "model:impersonation"
    )


def test_two_rules_on_the_same_words_give_one_flag_and_other_words_their_own() -> None:
    text = "再不还钱就让你全家好看，我去你单位找你领导"
    flags = rule_flags(text, RULES)
    threats = [f for f in flags if f.violation is Violation.THREAT]
    # "去你单位找你" matches two threat rules; the supervisor sees it once
    assert sorted(f.excerpt for f in threats) == ["去你单位找", "让你全家好看"]
    assert all(text[f.start : f.end] == f.excerpt for f in flags)
    two_words = rule_flags("老赖你个骗子", RULES)
    assert [f.excerpt for f in two_words] == ["老赖", "骗子"]


def test_of_two_overlapping_hits_the_more_severe_rule_stands() -> None:
    rules = parse_rules(
        'version = "t"\n'
        '[[rules]]\nid = "mild"\nviolation = "threat"\nseverity = "low"\npattern = "找你"\n'
        '[[rules]]\nid = "grave"\nviolation = "threat"\nseverity = "critical"\n'
        'pattern = "去你家找你"\n'
    )
    assert [(f.rule, f.excerpt) for f in rule_flags("明天去你家找你", rules)] == [
        ("grave", "去你家找你")
    ]
