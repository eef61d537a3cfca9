from __future__ import annotations

import pytest

from debtflow.core.conversation.analysis import (
    ConversationAnalyzer,
    DebtorReading,
    Turn,
    summarise,
    utterance_willingness,
)
from debtflow.core.conversation.labels import Emotion, Intent, Speaker, Violation
from debtflow.core.conversation.scripts import CaseContext, PlanOffer


def test_willingness_follows_intent_and_emotion() -> None:
    promise = utterance_willingness(Intent.PROMISE_TO_PAY, Emotion.NEUTRAL, 0.9, False)
    refuse = utterance_willingness(Intent.REFUSE, Emotion.NEUTRAL, 0.9, False)
    angry_promise = utterance_willingness(Intent.PROMISE_TO_PAY, Emotion.ANGRY, 0.9, False)
    assert refuse < angry_promise < promise
    assert 0.0 <= utterance_willingness(Intent.REFUSE, Emotion.ANGRY, 1.0, True) <= 1.0


def test_debtor_reading_has_scores_intent_cause_and_next_action(
    analyzer: ConversationAnalyzer,
) -> None:
    (reading,) = analyzer.read_debtor(["我住院了，能不能分期"])
    assert sum(reading.emotion_scores.values()) == pytest.approx(1.0)
    assert set(reading.emotion_scores) == set(Emotion)
    assert reading.intent is Intent.ASK_PLAN
    assert reading.cause is not None and reading.cause.value == "illness"
    assert reading.next_action.text


def test_promise_records_when_and_amount(analyzer: ConversationAnalyzer) -> None:
    (reading,) = analyzer.read_debtor(["行，下周五先还三千块"])
    assert reading.intent is Intent.PROMISE_TO_PAY
    assert reading.promise is not None
    assert reading.promise.when == "下周五" and reading.promise.amount_fen == 300_000


def test_abuse_reads_as_angry_refusal(analyzer: ConversationAnalyzer) -> None:
    (reading,) = analyzer.read_debtor(["滚，神经病"])
    assert reading.intent is Intent.REFUSE
    assert reading.emotion is Emotion.ANGRY


def test_conversation_summary_aggregates_turns(analyzer: ConversationAnalyzer) -> None:
    case = CaseContext(plan=PlanOffer(3, 420_000, 700_000))
    turns = [
        Turn(Speaker.COLLECTOR, "您好，请问是张先生吗"),
        Turn(Speaker.DEBTOR, "我失业了，没钱还"),
        Turn(Speaker.COLLECTOR, "你这个老赖，不还钱就要坐牢"),
        Turn(Speaker.DEBTOR, "那我下个月15号先还两千"),
    ]
    readings = analyzer.read(turns, case)
    assert [type(r).__name__ for r in readings] == [
        "CollectorReading",
        "DebtorReading",
        "CollectorReading",
        "DebtorReading",
    ]
    summary = summarise(readings)
    assert len(summary.emotion_trajectory) == 2
    assert summary.cause is not None and summary.cause.value == "unemployment"
    assert [p.amount_fen for p in summary.promises] == [200_000]
    assert {f.violation for f in summary.flags} == {Violation.INSULT, Violation.FALSE_LEGAL}
    assert summary.compliance_score == 100 - 15 - 30
    assert summary.willingness is not None and 0 <= summary.willingness <= 1


def test_a_promise_raises_conversation_willingness(analyzer: ConversationAnalyzer) -> None:
    refusing = [r for r in analyzer.read_debtor(["没钱", "不还"]) if isinstance(r, DebtorReading)]
    promising = [r for r in analyzer.read_debtor(["没钱", "明天一定还"])]
    low, high = summarise(refusing).willingness, summarise(promising).willingness
    assert low is not None and high is not None and high > low


def test_summary_without_debtor_turns_has_no_willingness() -> None:
    assert summarise([]).willingness is None
    assert summarise([]).compliance_score == 100
