"""The script library and speech rules in force (issue: operations managers edit the library without
code): ``DEBTFLOW_SCRIPT_LIBRARY`` / ``DEBTFLOW_SPEECH_RULES`` reach the analysis service, the JSON
route, the case page and the CLI; an edited file is used on the next call without a restart; a file
that cannot be used is refused with ``invalid_conversation_rules`` (503: the operator's file, not
the request; CLI exit 2) naming the file."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from compliance.world import make_world
from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.cli.common import ready_engine
from debtflow.cli.main import app as cli
from debtflow.config import get_settings
from debtflow.conversation import rules as conversation_rules
from debtflow.conversation import service
from debtflow.conversation.rules import InvalidConversationRules
from debtflow.db import unit_of_work
from debtflow.models import Role

SHIPPED = resources.files("debtflow.core.conversation")
SHIPPED_LIBRARY = SHIPPED.joinpath("script_library/library.toml").read_text(encoding="utf-8")
SHIPPED_RULES = SHIPPED.joinpath("rules/collector_speech.toml").read_text(encoding="utf-8")

#: a manager's script above every other: no condition, so it is chosen for any debtor line
#: (but never for a third party or a wrong number, which only scripts naming them get)
OPS_SCRIPT = """
[[scripts]]
id = "ops-first"
purpose = "the operations manager's opening"
priority = 1000
text = "{text}"
"""
#: a manager's speech rule; the shipped rules and model flag nothing on LINE
OPS_RULE = """
[[rules]]
id = "ops-no-weekend-promise"
violation = "harassment"
severity = "low"
pattern = "周末再联系"
note = "the manager's rule: no weekend calls are promised"
"""
LINE = "好的，那我们周末再联系您。"

runner = CliRunner()


def _touch(path: Path, text: str) -> None:
    """Write ``text`` and move the modification time on, as a later edit would."""
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, max(stat.st_mtime_ns, mtime + 1_000_000_000)))


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables; the settings are read again."""

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_env
    get_settings.cache_clear()


@pytest.fixture
def library(tmp_path: Path, configure: Callable[..., None]) -> Path:
    """The manager's library: the shipped one plus ``ops-first``, in force by the setting."""
    path = tmp_path / "library.toml"
    _touch(path, SHIPPED_LIBRARY + OPS_SCRIPT.format(text="开场白第一版：您好，请问现在方便吗？"))
    configure(DEBTFLOW_SCRIPT_LIBRARY=str(path))
    return path


def _next_action(readings: list[dict[str, object]]) -> dict[str, str]:
    action = readings[-1]["next_action"]
    assert isinstance(action, dict)
    return action


def test_the_configured_library_is_used_and_an_edit_needs_no_restart(library: Path) -> None:
    readings, _ = service.analyze([("debtor", "我再想想")])
    assert _next_action(readings)["script_id"] == "ops-first"
    assert _next_action(readings)["text"] == "开场白第一版：您好，请问现在方便吗？"
    models = service.analyzer().models

    _touch(library, SHIPPED_LIBRARY + OPS_SCRIPT.format(text="开场白第二版：打扰您一分钟。"))
    readings, _ = service.analyze([("debtor", "我再想想")])
    assert _next_action(readings)["text"] == "开场白第二版：打扰您一分钟。"
    assert service.analyzer().models is models, "the models are not loaded again"
    assert conversation_rules.script_library() is conversation_rules.script_library()


def test_the_configured_speech_rules_add_a_flag(tmp_path: Path, configure) -> None:
    readings, _ = service.analyze([("collector", LINE)])
    assert readings[0]["flags"] == []
    rules = tmp_path / "speech.toml"
    _touch(rules, SHIPPED_RULES + OPS_RULE)
    configure(DEBTFLOW_SPEECH_RULES=str(rules))
    readings, _ = service.analyze([("collector", LINE)])
    assert [f["rule"] for f in readings[0]["flags"]] == ["ops-no-weekend-promise"]
    assert readings[0]["score"] == 95


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("version = [", "not valid TOML"),
        ('version = "x"\n[[scripts]]\nid = "a"\ntext = "{nope}"\n', "script 'a'"),
        (None, "cannot read"),
    ],
)
def test_a_library_that_cannot_be_used_is_refused_naming_the_file(
    tmp_path: Path, configure, content: str | None, problem: str
) -> None:
    path = tmp_path / "broken.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    configure(DEBTFLOW_SCRIPT_LIBRARY=str(path))
    for _ in range(2):  # never cached: refused every time
        with pytest.raises(InvalidConversationRules, match=problem) as refused:
            service.analyze([("debtor", "我再想想")])
        assert refused.value.status_code == 503
        assert refused.value.code == "invalid_conversation_rules"
        assert f"script library {path} (DEBTFLOW_SCRIPT_LIBRARY): " in refused.value.message


def test_a_file_moved_in_place_is_read_even_with_the_same_size_and_time(
    tmp_path: Path, configure
) -> None:
    path = tmp_path / "library.toml"
    path.write_text(SHIPPED_LIBRARY + OPS_SCRIPT.format(text="版本甲"), encoding="utf-8")
    configure(DEBTFLOW_SCRIPT_LIBRARY=str(path))
    assert conversation_rules.script_library().scripts[0].text == "版本甲"
    moved = tmp_path / "next.toml"
    moved.write_text(SHIPPED_LIBRARY + OPS_SCRIPT.format(text="版本乙"), encoding="utf-8")
    stat = path.stat()
    os.utime(moved, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert moved.stat().st_size == stat.st_size
    os.replace(moved, path)
    assert conversation_rules.script_library().scripts[0].text == "版本乙"


def test_a_byte_order_mark_is_dropped(tmp_path: Path, configure) -> None:
    library = tmp_path / "bom.toml"
    library.write_bytes(
        b"\xef\xbb\xbf" + (SHIPPED_LIBRARY + OPS_SCRIPT.format(text="带 BOM 的话术库")).encode()
    )
    rules = tmp_path / "bom-rules.toml"
    rules.write_bytes(b"\xef\xbb\xbf" + SHIPPED_RULES.encode())
    configure(DEBTFLOW_SCRIPT_LIBRARY=str(library), DEBTFLOW_SPEECH_RULES=str(rules))
    assert conversation_rules.script_library().scripts[0].text == "带 BOM 的话术库"
    assert conversation_rules.speech_rules().rules


# --- the JSON route and the case page, on SQLite and PostgreSQL ---------------------------


def _agent_world() -> tuple[int, str, str]:
    """A case assigned to an agent who signs in: (case id, API token, session cookie)."""
    with unit_of_work() as session:
        world = make_world(session)
        user = auth_service.create_user(
            session,
            username="agent-rules",
            role=Role.ONLINE_AGENT,
            password="debtflow-test-pw",
            collector_id=world.agent.id,
        )
        cookie, _ = auth_service.start_session(session, user=user)
        return world.case.id, auth_service.issue_api_token(session, user=user), cookie


def _opening(page: TestClient, case_id: int) -> tuple[str, str]:
    """The case page's opening script: (script id, text)."""
    shown = page.get(f"/cases/{case_id}")
    assert shown.status_code == 200, shown.text
    found = re.search(
        r'<blockquote class="script" data-script-id="([^"]+)">(.*?)</blockquote>', shown.text, re.S
    )
    assert found is not None
    return found.group(1), found.group(2).strip()


def test_the_route_and_the_case_page_use_the_library_in_force(
    database_url, tmp_path: Path, configure
) -> None:
    ready_engine()
    case_id, token, cookie = _agent_world()
    api = TestClient(create_app(), base_url="https://testserver")
    api.headers["Authorization"] = f"Bearer {token}"
    page = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    page.cookies.set(SESSION_COOKIE, cookie)
    body = {"utterances": [{"speaker": "debtor", "text": "我再想想"}]}

    assert _opening(page, case_id)[0] != "ops-first"

    path = tmp_path / "library.toml"
    _touch(path, SHIPPED_LIBRARY + OPS_SCRIPT.format(text="第一版开场白。"))
    configure(DEBTFLOW_SCRIPT_LIBRARY=str(path))
    answer = api.post("/api/conversations/analyze", json=body)
    assert answer.status_code == 200, answer.text
    assert _next_action(answer.json()["readings"])["text"] == "第一版开场白。"
    assert _opening(page, case_id) == ("ops-first", "第一版开场白。")

    _touch(path, SHIPPED_LIBRARY + OPS_SCRIPT.format(text="第二版开场白。"))  # no restart
    answer = api.post("/api/conversations/analyze", json=body)
    assert _next_action(answer.json()["readings"])["text"] == "第二版开场白。"
    assert _opening(page, case_id) == ("ops-first", "第二版开场白。")

    _touch(path, "version = [")
    refused = api.post("/api/conversations/analyze", json=body)
    assert refused.status_code == 503
    assert refused.json()["error"] == "invalid_conversation_rules"
    assert str(path) in refused.json()["detail"]
    assert page.get(f"/cases/{case_id}").status_code == 503


# --- the CLI ---------------------------------------------------------------------------


def _analyze(*options: str, text: str = "我再想想") -> tuple[int, str, str]:
    line = json.dumps({"speaker": "debtor", "text": text}, ensure_ascii=False) + "\n"
    result = runner.invoke(cli, ["conversation", "analyze", *options], input=line)
    return result.exit_code, result.stdout, result.stderr


def test_cli_analyze_uses_the_setting_and_an_explicit_file_wins(
    library: Path, tmp_path: Path
) -> None:
    code, out, err = _analyze()
    assert code == 0, err
    assert json.loads(out)["next_action"]["script_id"] == "ops-first"
    shipped = tmp_path / "shipped.toml"
    shipped.write_text(SHIPPED_LIBRARY, encoding="utf-8")
    code, out, err = _analyze("--library", str(shipped))
    assert code == 0, err
    assert json.loads(out)["next_action"]["script_id"] != "ops-first"


def test_cli_refuses_a_broken_library_with_exit_2(tmp_path: Path, configure) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('version = "x"\n[[scripts]]\nid = "a"\ntext = "{nope}"\n', encoding="utf-8")
    configure(DEBTFLOW_SCRIPT_LIBRARY=str(broken))
    code, out, err = _analyze()
    assert code == 2 and out == ""
    assert f"script library {broken} (DEBTFLOW_SCRIPT_LIBRARY): script 'a'" in err
    assert "Traceback" not in err
    configure(DEBTFLOW_SCRIPT_LIBRARY=str(tmp_path / "missing.toml"))
    code, _, err = _analyze("--library", str(broken))  # an explicit file is checked too
    assert code == 2 and f"script library {broken}: script 'a'" in err


def test_check_rules_says_what_is_in_force(library: Path, tmp_path: Path, configure) -> None:
    result = runner.invoke(cli, ["conversation", "check-rules"])
    assert result.exit_code == 0, result.output
    library_line, rules_line = result.stdout.splitlines()
    assert library_line.startswith(f"script library: {library} (DEBTFLOW_SCRIPT_LIBRARY), in force")
    count = len(conversation_rules.read_library(None).scripts) + 1
    assert f"{count} scripts" in library_line
    rules_count = len(conversation_rules.read_speech_rules(None).rules)
    assert rules_line.startswith("speech rules: the shipped collector_speech.toml, in force")
    assert f"{rules_count} rules" in rules_line

    candidate = tmp_path / "candidate.toml"
    candidate.write_text(SHIPPED_RULES + OPS_RULE, encoding="utf-8")
    result = runner.invoke(cli, ["conversation", "check-rules", "--rules", str(candidate)])
    assert result.exit_code == 0, result.output
    assert f"speech rules: {candidate}, not in force" in result.stdout
    assert f"{rules_count + 1} rules" in result.stdout

    candidate.write_text(SHIPPED_RULES + OPS_RULE.replace("周末再联系", "周末("), encoding="utf-8")
    result = runner.invoke(cli, ["conversation", "check-rules", "--rules", str(candidate)])
    assert result.exit_code == 2
    assert "rule 'ops-no-weekend-promise': bad regular expression" in result.stderr
    assert result.stdout.startswith("script library:"), "the good file is still reported"
