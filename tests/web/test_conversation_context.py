"""The conversation API and call alerts read a debtor's words on a case with what the case
page knows of it: the next action's script quotes the plan worked out now (the exact
instalment), as the page's suggested script does (issue #7: placeholders filled from the case
and its treatment plan), on SQLite and PostgreSQL."""

from __future__ import annotations

from debtflow.auth import service as auth_service
from debtflow.core.money import fen_to_yuan
from debtflow.db import unit_of_work
from debtflow.models import Role
from debtflow.workbench import service as workbench_service


def _case_with_an_offer(world):  # type: ignore[no-untyped-def]
    agent = world.callers[Role.ONLINE_AGENT]
    cases = sorted(world.cases_of_collector[agent.collector_id] - world.debtor_case_ids)
    with unit_of_work() as session:
        user = auth_service.get_user(session, username=agent.username)
        for case_id in cases:
            context = workbench_service.script_context(session, case_id=case_id, user=user)
            if context.plan is not None:
                return case_id, context.plan
    raise AssertionError("the demo gives the agent a case with a plan on offer")


def test_the_api_next_action_quotes_the_plan_the_case_page_quotes(demo_world):
    case_id, offer = _case_with_an_offer(demo_world)
    api = demo_world.client(Role.ONLINE_AGENT)
    answer = api.post(
        "/api/conversations/analyze",
        json={"case_id": case_id, "utterances": [{"speaker": "debtor", "text": "我再想想吧"}]},
    )
    assert answer.status_code == 200, answer.text
    action = answer.json()["readings"][0]["next_action"]
    # whichever script the segment and the words choose, it offers the case's plan
    assert f"{offer.instalment_count}期" in action["text"], action
    assert fen_to_yuan(offer.instalment_fen) in action["text"], action

    live = api.post(
        "/api/conversations/live",
        json={
            "case_id": case_id,
            "call_ref": "ctx-1",
            "first_turn": 1,
            "utterances": [{"speaker": "debtor", "text": "我再想想吧"}],
        },
    )
    assert live.status_code == 200, live.text
    assert live.json()["readings"][0]["next_action"]["text"] == action["text"]
