import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from debtflow.core.strategy.segmentation import (
    SEGMENT_ORDER,
    CaseProfile,
    OverdueCause,
    RuleFileError,
    Segment,
    columns_from_profiles,
    load_rules,
    parse_rules,
    segment_case,
    segment_many,
    shipped_rules,
)

RULES = shipped_rules()
SHIPPED_TEXT = (
    Path(__file__).parents[3] / "src/debtflow/core/strategy/rules/segmentation-v1.toml"
).read_text("utf-8")


def test_deliberate_default_is_risk_with_its_reason() -> None:
    decision = segment_case(
        CaseProfile(days_past_due=10, overdue_cause=OverdueCause.DELIBERATE, propensity=0.9),
        RULES,
    )
    assert decision.segment is Segment.RISK
    assert decision.reason_codes == ("DELIBERATE_DEFAULT",)
    assert decision.rules_version == "segmentation-v1"
    assert "恶意" in decision.reasons[0].zh and "deliberate" in decision.reasons[0].en


def test_repeatedly_unreachable_is_risk() -> None:
    decision = segment_case(CaseProfile(days_past_due=45, failed_contact_streak=5), RULES)
    assert (decision.segment, decision.reason_codes) == (Segment.RISK, ("REPEATEDLY_UNREACHABLE",))
    four = segment_case(CaseProfile(days_past_due=45, failed_contact_streak=4), RULES)
    assert four.segment is not Segment.RISK


@pytest.mark.parametrize("cause", ["unemployment", "illness", "business_downturn"])
def test_temporary_hardship_causes_are_hardship(cause: str) -> None:
    decision = segment_case(
        CaseProfile(days_past_due=70, overdue_cause=OverdueCause(cause), propensity=0.1), RULES
    )
    assert decision.segment is Segment.HARDSHIP
    assert decision.reason_codes == ("TEMPORARY_HARDSHIP",)


def test_early_case_with_stable_income_is_potential() -> None:
    decision = segment_case(
        CaseProfile(days_past_due=30, income_stable=True, propensity=0.1), RULES
    )
    assert decision.segment is Segment.POTENTIAL
    later = segment_case(CaseProfile(days_past_due=31, income_stable=True, propensity=0.1), RULES)
    assert later.segment is Segment.HARDSHIP


def test_first_matching_rule_wins() -> None:
    # both "deliberate" and "temporary hardship" could apply; the earlier rule decides
    profile = CaseProfile(days_past_due=5, overdue_cause=OverdueCause.DELIBERATE, broken_promises=4)
    assert segment_case(profile, RULES).rule == "deliberate default"


def test_long_overdue_low_propensity_is_risk_and_catch_all_is_hardship() -> None:
    assert (
        segment_case(CaseProfile(days_past_due=120, propensity=0.1), RULES).segment is Segment.RISK
    )
    catch_all = segment_case(CaseProfile(days_past_due=120, propensity=0.3), RULES)
    assert (catch_all.segment, catch_all.rule) == (Segment.HARDSHIP, "otherwise restructure")


def test_vectorised_path_agrees_with_one_case_at_a_time() -> None:
    rng = np.random.default_rng(7)
    causes = list(OverdueCause)
    profiles = [
        CaseProfile(
            days_past_due=int(rng.integers(0, 200)),
            overdue_cause=causes[int(rng.integers(0, len(causes)))],
            failed_contact_streak=int(rng.integers(0, 8)),
            broken_promises=int(rng.integers(0, 5)),
            late_months=int(rng.integers(0, 7)),
            propensity=float(rng.random()),
            income_stable=bool(rng.integers(0, 2)),
        )
        for _ in range(3_000)
    ]
    batch = segment_many(columns_from_profiles(profiles), RULES)
    for k, profile in enumerate(profiles):
        decision = segment_case(profile, RULES)
        assert SEGMENT_ORDER[batch.segment[k]] is decision.segment
        assert RULES.rules[batch.rule[k]].name == decision.rule
    assert set(np.unique(batch.segment)) == {0, 1, 2}


def _document() -> dict[str, Any]:
    return tomllib.loads(SHIPPED_TEXT)


def _propensity_condition(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(
        c
        for rule in document["rules"]
        for c in rule.get("conditions", [])
        if c["field"] == "propensity"
    )
    return found


def test_an_edited_threshold_changes_decisions_without_code() -> None:
    document = _document()
    document["rules"][1]["conditions"][0]["value"] = 3
    rules = parse_rules(document)
    decision = segment_case(CaseProfile(days_past_due=45, failed_contact_streak=3), rules)
    assert decision.segment is Segment.RISK


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["rules"][0]["conditions"][0].update(field="mood"), "unknown field 'mood'"),
        (lambda d: d["rules"][0]["conditions"][0].update(op="=~"), "bad operator '=~'"),
        (
            lambda d: d["rules"][0]["conditions"][0].update(value="malicious"),
            "unknown overdue cause",
        ),
        (lambda d: d["rules"][1]["conditions"][0].update(value="five"), "expected a number"),
        (lambda d: d["rules"][1]["conditions"][0].update(value=4.5), "whole number"),
        (lambda d: d["rules"][0]["conditions"][0].update(op=">"), "cannot compare"),
        (lambda d: d["rules"][0].update(segment="vip"), "unknown segment 'vip'"),
        (lambda d: d["rules"][0].update(reasons=["NOPE"]), "not in \\[reasons\\]: NOPE"),
        (lambda d: d["rules"].pop(), "must have no conditions"),
        (lambda d: d.pop("version"), "missing 'version'"),
        (lambda d: d["rules"][3]["conditions"][0].update(value=[]), "non-empty list"),
        (lambda d: d["rules"][0].update(colour="red"), "unknown keys: colour"),
        (lambda d: d["reasons"]["DELIBERATE_DEFAULT"].pop("zh"), "'en' and 'zh'"),
        # a rule without conditions before the last takes every case: the rest never apply
        (lambda d: d["rules"][0].pop("conditions"), "rule 1 .* has no conditions"),
        (lambda d: d["rules"][0].update(conditions=[]), "could never apply"),
        (lambda d: d["rules"][0].update(reasons=[1]), "reason codes are names"),
        (lambda d: d["rules"][0].update(reasons=[["X"]]), "reason codes are names"),
        (lambda d: d["reasons"]["DELIBERATE_DEFAULT"].update(enn="x"), "unknown keys: enn"),
        (lambda d: _propensity_condition(d).update(value=70), "between 0 and 1"),
        (lambda d: _propensity_condition(d).update(value=-0.2), "between 0 and 1"),
        (lambda d: d["rules"][1]["conditions"][0].update(value=-3), "never negative"),
    ],
)
def test_bad_rule_files_are_refused_with_a_clear_message(edit: Any, message: str) -> None:
    document = _document()
    edit(document)
    with pytest.raises(RuleFileError, match=message):
        parse_rules(document)


def test_error_names_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(SHIPPED_TEXT.replace('"failed_contact_streak"', '"contact_streak"'), "utf-8")
    with pytest.raises(RuleFileError, match=r"rule 2 \(repeatedly unreachable\)"):
        load_rules(path)


def test_missing_or_broken_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="not found"):
        load_rules(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("version = [", "utf-8")
    with pytest.raises(RuleFileError, match="not valid TOML"):
        load_rules(broken)


def test_a_rule_file_not_in_utf8_is_refused_and_a_bom_is_dropped(tmp_path: Path) -> None:
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe x")
    with pytest.raises(RuleFileError, match="bin.toml: not UTF-8"):
        load_rules(binary)
    with_bom = tmp_path / "bom.toml"
    with_bom.write_bytes(b"\xef\xbb\xbf" + SHIPPED_TEXT.encode("utf-8"))
    assert load_rules(with_bom) == RULES


def test_a_rule_may_carry_its_name_in_chinese() -> None:
    """``name_zh`` is optional: the decision carries it, and a file without it loads."""
    decision = segment_case(CaseProfile(days_past_due=12, propensity=0.83), RULES)
    assert (decision.rule, decision.rule_zh) == ("early, likely to pay", "早期逾期、可能还款")
    assert RULES.name_zh("temporary hardship") == "暂时困难"
    assert RULES.name_zh("no such rule") is None and RULES.name_zh(None) is None
    document = tomllib.loads(SHIPPED_TEXT)
    for rule in document["rules"]:
        del rule["name_zh"]
    plain = parse_rules(document)
    assert segment_case(CaseProfile(days_past_due=12, propensity=0.83), plain).rule_zh is None


@pytest.mark.parametrize("value", ["", "  ", 3])
def test_an_empty_or_non_text_name_zh_is_refused(value: Any) -> None:
    document = tomllib.loads(SHIPPED_TEXT)
    document["rules"][0]["name_zh"] = value
    with pytest.raises(RuleFileError, match=r"rule 1 \(deliberate default\): 'name_zh'"):
        parse_rules(document)


def test_every_shipped_rule_has_its_name_in_chinese() -> None:
    assert all(r.name_zh for r in RULES.rules)
