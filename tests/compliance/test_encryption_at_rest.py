"""ID and phone numbers are stored encrypted (AES-256-GCM tokens) with a blind index; every
write path (ORM, intake's driver-level bulk SQL, sign-in codes) encrypts, lookups and
uniqueness go through the index, the migration converts existing rows both ways, and a key
rotation re-encrypts everything under the new key."""

from __future__ import annotations

import base64
import json
import os

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from compliance.world import make_world
from debtflow.auth import service as auth_service
from debtflow.cli.main import app
from debtflow.compliance import keys
from debtflow.config import (
    forget_personal_data_cipher,
    get_settings,
    personal_data_cipher,
    pii_key_file,
)
from debtflow.core.compliance.crypto import PersonalDataTokenError
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import downgrade, upgrade
from debtflow.models import ContactPoint, Debtor, Role, User
from debtflow.models.debtor import personal_data_index
from debtflow.models.enums import ContactKind, ContactParty
from debtflow.portfolio import service as portfolio_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio


def raw(session, sql, **params):
    return session.execute(text(sql), params).all()


def test_raw_rows_hold_tokens_not_the_numbers(session):
    world = make_world(session)
    user = auth_service.create_user(
        session, username="d1", role=Role.DEBTOR, debtor_id=world.debtor.id, phone="13812345678"
    )
    session.flush()
    [(stored_id, id_index)] = raw(
        session,
        "SELECT id_number_encrypted, id_number_index FROM debtor WHERE id = :id",
        id=world.debtor.id,
    )
    [(stored_phone, phone_index)] = raw(
        session,
        "SELECT value_encrypted, value_index FROM contact_point WHERE id = :id",
        id=world.debtor_phone.id,
    )
    [(user_phone,)] = raw(
        session, "SELECT phone_encrypted FROM app_user WHERE id = :id", id=user.id
    )
    cipher = personal_data_cipher()
    for token, plain in [
        (stored_id, world.debtor.id_number),
        (stored_phone, world.debtor_phone.value),
        (user_phone, "13812345678"),
    ]:
        assert token.startswith(f"v1.{cipher.current_key_id}.") and plain not in token
        assert cipher.decrypt(token) == plain
    assert world.debtor_phone.value == "+86 138-1234-5678"
    assert id_index == cipher.blind_index(world.debtor.id_number)
    assert phone_index == cipher.blind_index("13812345678") != stored_phone
    # the ORM reads the plain value back
    session.expire_all()
    assert session.get(Debtor, world.debtor.id).id_number == world.debtor.id_number
    assert session.get(User, user.id).phone == "13812345678"
    # and a one-time code keeps only the phone's blind index
    auth_service.request_debtor_code(session, phone="+86 138 1234 5678", notifier=_Silent())
    [(code_phone,)] = raw(
        session, "SELECT phone_index FROM debtor_one_time_code WHERE user_id = :id", id=user.id
    )
    assert code_phone == cipher.blind_index("13812345678")


class _Silent:
    def send_code(self, **_kwargs):
        pass


def test_uniqueness_is_kept_by_the_blind_index(session):
    world = make_world(session)
    twin = ContactPoint(
        debtor_id=world.debtor.id,
        kind=ContactKind.PHONE,
        value="138 1234 5678",  # the debtor's number (+86 138-1234-5678), written differently
        party=ContactParty.DEBTOR,
    )
    session.add(twin)
    with pytest.raises(Exception, match="(?i)unique"):
        session.flush()


def test_intake_encrypts_upserts_by_id_number_and_checks_names_against_the_database(
    session, tmp_path
):
    make_creditor(session)
    rows = portfolio_rows(count=3)
    path = write_portfolio(tmp_path / "a.csv", rows)
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    stored = raw(session, "SELECT id_number_encrypted, id_number_index FROM debtor")
    assert len(stored) == 3  # the second import found every debtor by its blind index
    cipher = personal_data_cipher()
    numbers = {r["id_number"].upper() for r in rows}
    assert {cipher.decrypt(token) for token, _ in stored} == numbers
    for token, index in stored:
        assert not any(number in token for number in numbers)
        assert index == cipher.blind_index(cipher.decrypt(token))
    points = raw(session, "SELECT value_encrypted FROM contact_point")
    phones = {r["phone"] for r in rows}
    assert phones <= {cipher.decrypt(token) for (token,) in points}
    assert not any(phone in token for (token,) in points for phone in phones)
    # a name conflict is found through the index, and the ID number is named in the error
    rows[0]["name"] = "张冒名"
    with pytest.raises(portfolio_service.PortfolioRejected) as info:
        portfolio_service.import_portfolio(
            session,
            path=write_portfolio(tmp_path / "b.csv", rows),
            creditor_code="TESTBANK",
            today=TODAY,
        )
    assert rows[0]["id_number"].upper() in info.value.errors[0].reason


def test_rotation_reencrypts_every_value_and_is_safe_to_run_twice(session, monkeypatch):
    world = make_world(session)
    session.flush()
    old = personal_data_cipher()
    first = base64.b64encode(os.urandom(32)).decode()
    second = base64.b64encode(os.urandom(32)).decode()
    index = base64.b64encode(b"x" * 32).decode()
    monkeypatch.setenv("DEBTFLOW_PII_KEYS", f"a:{first}")
    monkeypatch.setenv("DEBTFLOW_PII_INDEX_KEY", index)
    get_settings.cache_clear()
    try:
        # the rows were written under the development file key, which is not in this ring
        with pytest.raises(PersonalDataTokenError, match="not in the key ring"):
            personal_data_cipher().decrypt(
                raw(session, "SELECT id_number_encrypted FROM debtor")[0][0]
            )
        monkeypatch.setenv("DEBTFLOW_PII_KEYS", f"a:{first},b:{second}")
        monkeypatch.setenv("DEBTFLOW_PII_CURRENT_KEY", "b")
        get_settings.cache_clear()
        # re-encrypt the stored values under "a" first, as a deployment that used key a
        for table, column in keys.ENCRYPTED_COLUMNS:
            for row_id, token in raw(session, f"SELECT id, {column} FROM {table}"):
                if token is not None:
                    session.execute(
                        text(f"UPDATE {table} SET {column} = :t WHERE id = :id"),
                        {"t": _under("a", first, old.decrypt(token)), "id": row_id},
                    )
        counts = keys.count_to_examine(session)
        assert counts["debtor"] >= 1 and counts["contact_point"] >= 2
        rotated = _rotate_all(session, limit=1)
        assert rotated == sum(counts.values())
        assert _rotate_all(session, limit=100) == 0  # nothing left under the old key
        ring = personal_data_cipher()
        for table, column in keys.ENCRYPTED_COLUMNS:
            for (token,) in raw(session, f"SELECT {column} FROM {table}"):
                if token is not None:
                    assert ring.key_id_of(token) == "b"
        session.expire_all()
        assert session.get(Debtor, world.debtor.id).id_number == world.debtor.id_number
        assert session.get(ContactPoint, world.debtor_phone.id).value == "+86 138-1234-5678"
    finally:
        get_settings.cache_clear()


def _under(key_id, encoded, plain):
    from debtflow.core.compliance.crypto import PersonalDataCipher

    return PersonalDataCipher({key_id: base64.b64decode(encoded)}, key_id, b"x" * 32).encrypt(plain)


def _rotate_all(session, *, limit):
    total = 0
    for table, _column in keys.ENCRYPTED_COLUMNS:
        after = 0
        while True:
            batch = keys.rotate_batch(session, table=table, after_id=after, limit=limit)
            if not batch.examined:
                break
            assert batch.last_id > after
            after, total = batch.last_id, total + batch.rotated
    return total


def test_rotation_refuses_an_unknown_table(session):
    with pytest.raises(keys.InvalidInput, match="no encrypted personal data"):
        keys.rotate_batch(session, table="case", after_id=0)


def test_migration_encrypts_existing_rows_and_decrypts_them_on_downgrade(database_url):
    engine = get_engine()
    upgrade(engine, "0008")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO debtor (id, debtor_type, name, id_number, timezone, main_customers,"
                " created_at, updated_at) VALUES (1, 'person', '张三', '11010119900101123X',"
                " 'Asia/Shanghai', '[]', :now, :now)"
            ),
            {"now": "2026-11-20 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO contact_point (id, debtor_id, kind, value, party, authorised, valid)"
                " VALUES (1, 1, 'phone', '13812345678', 'debtor', true, true),"
                " (2, 1, 'email', 'zs@example.com', 'debtor', true, true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO app_user (id, username, display_name, role, debtor_id, phone,"
                " active, failed_logins, created_at) VALUES (1, 'd1', '张三', 'debtor', 1,"
                " '13812345678', true, 0, :now)"
            ),
            {"now": "2026-11-20 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO debtor_one_time_code (user_id, phone, code_hash, sent_at,"
                " expires_at, attempts) VALUES (1, '13812345678', 'h', :now, :now, 0)"
            ),
            {"now": "2026-11-20 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO web_session (token_hash, user_id, csrf_token, created_at,"
                " expires_at) VALUES ('t', 1, 'c', :now, :now)"
            ),
            {"now": "2026-11-20 00:00:00"},
        )
    upgrade(engine)
    cipher = personal_data_cipher()
    with engine.connect() as connection:
        [(id_token, id_index)] = connection.execute(
            text("SELECT id_number_encrypted, id_number_index FROM debtor")
        ).all()
        points = dict(
            connection.execute(text("SELECT id, value_encrypted FROM contact_point")).all()
        )
        [(phone_token, phone_index)] = connection.execute(
            text("SELECT phone_encrypted, phone_index FROM app_user")
        ).all()
        [(code_index,)] = connection.execute(
            text("SELECT phone_index FROM debtor_one_time_code")
        ).all()
        sessions = connection.execute(text("SELECT count(*) FROM web_session")).scalar()
    assert "11010119900101123X" not in id_token and "13812345678" not in phone_token
    assert cipher.decrypt(id_token) == "11010119900101123X"
    assert id_index == cipher.blind_index("11010119900101123x")
    assert {k: cipher.decrypt(v) for k, v in points.items()} == {
        1: "13812345678",
        2: "zs@example.com",
    }
    assert cipher.decrypt(phone_token) == "13812345678"
    assert phone_index == code_index == cipher.blind_index("13812345678")
    assert sessions == 1  # rebuilding app_user did not cascade into its sessions
    with unit_of_work(engine) as session:  # the application reads them
        assert session.get(Debtor, 1).id_number == "11010119900101123X"
        assert auth_service.request_debtor_code  # sign-in finds the user by index:
        from debtflow.auth import repository as auth_repository

        assert auth_repository.by_phone(session, phone="13812345678").id == 1

    downgrade(engine, "0008")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id_number FROM debtor")).all() == [
            ("11010119900101123X",)
        ]
        assert dict(connection.execute(text("SELECT id, value FROM contact_point")).all()) == {
            1: "13812345678",
            2: "zs@example.com",
        }
        assert connection.execute(text("SELECT phone FROM app_user")).all() == [("13812345678",)]
        assert connection.execute(text("SELECT phone FROM debtor_one_time_code")).all() == [
            ("13812345678",)
        ]
        assert connection.execute(text("SELECT count(*) FROM contact_point")).scalar() == 2


def test_development_key_file_is_private_and_rotate_command_adds_a_key(database_url, tmp_path):
    runner = CliRunner()
    engine = get_engine()
    upgrade(engine)
    with unit_of_work(engine) as session:
        world = make_world(session)
        debtor_id, point_id = world.debtor.id, world.debtor_phone.id
        number = world.debtor.id_number
    path = pii_key_file()
    assert path.is_relative_to(tmp_path) and oct(path.stat().st_mode & 0o777) == "0o600"
    first = json.loads(path.read_text())
    result = runner.invoke(app, ["compliance", "rotate-pii-key", "--new-key", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted under key k2" in result.output
    stored = json.loads(path.read_text())
    assert stored["current"] == "k2" and set(stored["keys"]) == {"k1", "k2"}
    assert stored["index_key"] == first["index_key"]
    again = runner.invoke(app, ["compliance", "rotate-pii-key"])
    assert again.exit_code == 0 and "0 of" in again.output
    with engine.connect() as connection:
        token = connection.execute(
            text("SELECT id_number_encrypted FROM debtor WHERE id = :id"), {"id": debtor_id}
        ).scalar_one()
    assert token.startswith("v1.k2.")
    with unit_of_work(engine) as session:
        assert session.get(Debtor, debtor_id).id_number == number
        assert session.get(ContactPoint, point_id).value == "+86 138-1234-5678"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"\xff\xfe", "is not JSON"), (b"{}", "is not a key file"), (b"[1]", "is not a key file")],
)
def test_a_development_key_file_that_is_not_one_is_one_line(database_url, content, reason):
    upgrade(get_engine())
    path = pii_key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    forget_personal_data_cipher()
    result = CliRunner().invoke(app, ["compliance", "rotate-pii-key", "--new-key"])
    forget_personal_data_cipher()
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: personal-data keys: ")
    assert f"key file {path} {reason}" in lines[0] and "DEBTFLOW_PII_KEY_FILE" in lines[0]


def test_encrypted_columns_refuse_sql_comparison_and_updates_keep_the_index(session):
    with pytest.raises(TypeError, match="compare its \\*_index column"):
        select(Debtor).where(Debtor.id_number == "11010119900101123X")
    with pytest.raises(TypeError):
        select(User).where(User.phone.in_(["13812345678"]))
    world = make_world(session)
    world.debtor_phone.value = "139 0000 2222"
    session.flush()
    cipher = personal_data_cipher()
    [(token, index)] = raw(
        session,
        "SELECT value_encrypted, value_index FROM contact_point WHERE id = :id",
        id=world.debtor_phone.id,
    )
    assert cipher.decrypt(token) == "139 0000 2222"
    assert index == cipher.blind_index("13900002222")
    found = session.scalars(
        select(ContactPoint).where(ContactPoint.value_index == personal_data_index("13900002222"))
    ).one()
    assert found.id == world.debtor_phone.id
