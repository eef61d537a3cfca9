"""Schemathesis against the app's own OpenAPI document, in process (ASGI), on PostgreSQL:
whatever it generates — valid or not, signed in as admin (bearer token from
POST /api/auth/token), as the world's debtor (bearer token from POST /api/auth/debtor/token
with the development notifier's one-time code, so the portal routes are fuzzed past the
403) or anonymous — no request may end in a server error (5xx). The simulated payment
provider is enabled, as in development.

The world is small on purpose (one creditor, debtor, case, account, two collectors and an
admin), so the ids the fuzzer tries first (1, 2 …) reach real rows; the number of examples
per operation is bounded so that the whole module runs in well under a minute.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import create_engine, text

from compliance.world import make_world
from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.config import get_settings
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import upgrade
from debtflow.models import Role

PG_ADMIN_URL = os.environ.get(
    "DEBTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "fuzz-admin-password"
DEBTOR_PHONE = "13912345678"
EXAMPLES = 8  # per operation and caller


def _admin_sql(statement: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def fuzz_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"debtflow_fuzz_{uuid.uuid4().hex[:10]}"
    try:
        _admin_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # the server is part of the test environment: say so loudly
        pytest.fail(f"PostgreSQL is required for the OpenAPI fuzz test ({PG_ADMIN_URL}): {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEBTFLOW_DATABASE_URL", url)
        patch.setenv("DEBTFLOW_DATA_DIR", str(tmp_path_factory.mktemp("fuzz")))
        patch.setenv("DEBTFLOW_PAYMENT_PROVIDER", "simulated")
        patch.setenv("DEBTFLOW_PAYMENT_WEBHOOK_SECRET", "fuzz-webhook-secret")
        get_settings.cache_clear()
        get_engine.cache_clear()
        upgrade(get_engine())
        with unit_of_work() as session:
            world = make_world(session, tag="FZ")
            auth_service.create_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
            auth_service.create_user(
                session,
                username="fuzz-debtor",
                role=Role.DEBTOR,
                debtor_id=world.debtor.id,
                phone=DEBTOR_PHONE,
            )
        yield url
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def admin_headers(fuzz_database: str) -> dict[str, str]:
    client = TestClient(create_app(), base_url="https://testserver")
    response = client.post("/api/auth/token", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def debtor_headers(fuzz_database: str) -> dict[str, str]:
    client = TestClient(create_app(), base_url="https://testserver")
    sent = client.post("/api/auth/debtor/code", json={"phone": DEBTOR_PHONE})
    assert sent.status_code == 202, sent.text
    log = get_settings().data_dir / "notifications" / "one-time-codes.log"
    lines = [line for line in log.read_text("utf-8").splitlines() if DEBTOR_PHONE in line]
    code = re.search(r"code (\d{6})", lines[-1])
    assert code, lines[-1]
    response = client.post(
        "/api/auth/debtor/token", data={"phone": DEBTOR_PHONE, "code": code.group(1)}
    )
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert client.get("/api/portal/debts", headers=headers).status_code == 200
    return headers


#: the app's schema, read in process (building the OpenAPI document needs no database)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", create_app())
OPERATIONS = {
    f"{op.method.upper()} {op.path}": op
    for op in (result.ok() for result in SCHEMA.get_all_operations())
}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _fuzz(label: str, headers: dict[str, str] | None) -> None:
    # schemathesis' own pytest integration (``from_fixture``) does not run under pytest 9,
    # so each operation's strategy is driven by Hypothesis here
    operation = OPERATIONS[label]

    @FUZZ
    @given(case=operation.as_strategy())
    def examples(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    examples()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_server_error_as_admin(
    label: str, fuzz_database: str, admin_headers: dict[str, str]
) -> None:
    _fuzz(label, admin_headers)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_server_error_as_debtor(
    label: str, fuzz_database: str, debtor_headers: dict[str, str]
) -> None:
    _fuzz(label, debtor_headers)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_server_error_anonymous(label: str, fuzz_database: str) -> None:
    _fuzz(label, None)


def test_the_fuzzer_sees_the_dashboard_and_a_token() -> None:
    """The schema really lists the operations the fuzz tests are meant to cover."""
    assert "GET /api/reports/dashboard" in OPERATIONS
    assert "POST /api/auth/token" in OPERATIONS
    assert len(OPERATIONS) >= 20


def test_an_id_beyond_the_column_range_is_bad_input(admin_headers: dict[str, str]) -> None:
    """What the fuzzer first found: ids past PostgreSQL's INTEGER range were a 500."""
    client = TestClient(create_app(), base_url="https://testserver")
    response = client.get("/api/cases/99999999999", headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
    assert client.get("/api/cases/999999", headers=admin_headers).status_code == 404
