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


def test_requests_that_arrive_together_load_the_models_once(monkeypatch, tmp_path):
    """The first requests of a process wait for one load (or training) of the models
    instead of each starting its own."""
    import threading
    import time
    from types import SimpleNamespace

    from debtflow.conversation import service

    loads: list[int] = []

    def slow_load(directory):
        loads.append(1)
        time.sleep(0.2)
        return object()

    monkeypatch.setattr(service, "_ANALYZERS", {})
    monkeypatch.setattr(service, "model_dir", lambda: tmp_path)
    monkeypatch.setattr(service, "load_or_train", slow_load)
    monkeypatch.setattr(
        service,
        "make_analyzer",
        lambda models, library, rules: SimpleNamespace(models=models, library=library, rules=rules),
    )
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(service.analyzer())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len(got) == 4 and len({id(a) for a in got}) == 1
