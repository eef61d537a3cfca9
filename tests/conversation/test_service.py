import pytest

from debtflow.conversation import service
from debtflow.core.errors import InvalidInput


def test_debtor_and_collector_lines_are_read_in_order():
    readings, summary = service.analyze(
        [("collector", "您好，这里是还款提醒。"), ("debtor", "我下周五一定还五百")]
    )
    assert [r["speaker"] for r in readings] == ["collector", "debtor"]
    assert "flags" in readings[0] and "score" in readings[0]
    debtor = readings[1]
    assert {"emotion", "emotion_scores", "intent", "cause", "willingness", "next_action"} <= set(
        debtor
    )
    assert debtor["intent"] == "promise_to_pay"
    assert 0.0 <= debtor["willingness"] <= 1.0
    assert summary


def test_a_threat_by_a_collector_is_flagged():
    readings, _ = service.analyze([("collector", "再不还钱就让你全家好看，我们知道你家住哪")])
    assert readings[0]["flags"]


@pytest.mark.parametrize(
    ("speaker", "text", "message"),
    [("agent", "hello", "speaker"), ("debtor", "   ", "empty")],
)
def test_bad_utterances_are_refused(speaker, text, message):
    with pytest.raises(InvalidInput, match=message):
        service.analyze([(speaker, text)])


def test_models_come_from_the_configured_directory(conversation_models):
    assert service.model_dir() == conversation_models


def test_a_lone_surrogate_is_refused_not_a_traceback():
    with pytest.raises(InvalidInput, match="utterance 1"):
        service.analyze([("debtor", "\ud800")])
