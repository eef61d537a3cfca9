"""field-level encryption of ID and phone numbers

Every stored ID and phone number (and contact e-mail) becomes an AES-256-GCM token under the
settings' current personal-data key, next to an HMAC blind index that takes over uniqueness
and lookups:

* ``debtor.id_number`` -> ``id_number_encrypted`` + ``id_number_index`` (unique)
* ``contact_point.value`` -> ``value_encrypted`` + ``value_index``
  (unique per debtor and kind)
* ``app_user.phone`` -> ``phone_encrypted`` + ``phone_index`` (unique)
* ``debtor_one_time_code.phone`` -> ``phone_index`` only (codes are looked up, never shown)

Existing rows are converted: upgrade encrypts, downgrade decrypts (the keys must still be in
the ring). On SQLite the tables are rebuilt (batch mode) with foreign keys switched off, so
rebuilding ``debtor`` or ``app_user`` does not cascade into their children; that needs a
commit of the work so far, as SQLite only changes the setting outside a transaction.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from debtflow.config import personal_data_cipher

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TOKEN = sa.String(length=400)
INDEX = sa.String(length=64)


@contextmanager
def _foreign_keys_off() -> Iterator[None]:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN")
    try:
        yield
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by migration 0009: {broken[:5]}")
        bind.exec_driver_sql("COMMIT")
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        if not bind.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            bind.exec_driver_sql("BEGIN")


def _convert(
    table: str,
    source: str,
    targets: dict[str, Callable[[str], str]],
    *,
    unique_over: tuple[str, ...] | None = None,
) -> None:
    """Fill ``targets`` (column -> function of the source value) for every row with a value;
    when ``unique_over`` is given, refuse rows that would share one index value."""
    bind = op.get_bind()
    extra = ", ".join(unique_over[:-1]) if unique_over else ""
    columns = f"id, {source}" + (f", {extra}" if extra else "")
    rows = bind.execute(
        sa.text(f'SELECT {columns} FROM "{table}" WHERE {source} IS NOT NULL')
    ).fetchall()
    updates = []
    seen: dict[tuple[object, ...], int] = {}
    for row in rows:
        values = {column: make(row[1]) for column, make in targets.items()}
        if unique_over:
            key = (*row[2:], values[unique_over[-1]])
            if key in seen:
                raise RuntimeError(
                    f"{table} rows {seen[key]} and {row[0]} hold the same {source} once "
                    "normalised; merge them before migrating"
                )
            seen[key] = row[0]
        updates.append({"row_id": row[0], **values})
    if updates:
        assignments = ", ".join(f"{column} = :{column}" for column in targets)
        bind.execute(sa.text(f'UPDATE "{table}" SET {assignments} WHERE id = :row_id'), updates)


def upgrade() -> None:
    cipher = personal_data_cipher()
    encrypt, index = cipher.encrypt, cipher.blind_index
    for table, column in (
        ("debtor", "id_number"),
        ("contact_point", "value"),
        ("app_user", "phone"),
    ):
        op.add_column(table, sa.Column(f"{column}_encrypted", TOKEN, nullable=True))
        op.add_column(table, sa.Column(f"{column}_index", INDEX, nullable=True))
    op.add_column("debtor_one_time_code", sa.Column("phone_index", INDEX, nullable=True))

    _convert(
        "debtor",
        "id_number",
        {"id_number_encrypted": encrypt, "id_number_index": index},
        unique_over=("id_number_index",),
    )
    _convert(
        "contact_point",
        "value",
        {"value_encrypted": encrypt, "value_index": index},
        unique_over=("debtor_id", "kind", "value_index"),
    )
    _convert(
        "app_user",
        "phone",
        {"phone_encrypted": encrypt, "phone_index": index},
        unique_over=("phone_index",),
    )
    _convert("debtor_one_time_code", "phone", {"phone_index": index})

    with _foreign_keys_off():
        with op.batch_alter_table("debtor") as batch_op:
            batch_op.drop_constraint("uq_debtor_id_number", type_="unique")
            batch_op.drop_column("id_number")
            batch_op.alter_column("id_number_encrypted", existing_type=TOKEN, nullable=False)
            batch_op.alter_column("id_number_index", existing_type=INDEX, nullable=False)
            batch_op.create_unique_constraint("uq_debtor_id_number_index", ["id_number_index"])
        with op.batch_alter_table("contact_point") as batch_op:
            batch_op.drop_constraint("uq_contact_point_debtor_id_kind_value", type_="unique")
            batch_op.drop_column("value")
            batch_op.alter_column("value_encrypted", existing_type=TOKEN, nullable=False)
            batch_op.alter_column("value_index", existing_type=INDEX, nullable=False)
            batch_op.create_unique_constraint(
                "uq_contact_point_debtor_id_kind_value_index", ["debtor_id", "kind", "value_index"]
            )
        with op.batch_alter_table("app_user") as batch_op:
            batch_op.drop_constraint("uq_app_user_phone", type_="unique")
            batch_op.drop_column("phone")
            batch_op.create_unique_constraint("uq_app_user_phone_index", ["phone_index"])
        with op.batch_alter_table("debtor_one_time_code") as batch_op:
            batch_op.drop_index("ix_debtor_one_time_code_phone_sent")
            batch_op.drop_column("phone")
            batch_op.alter_column("phone_index", existing_type=INDEX, nullable=False)
            batch_op.create_index(
                "ix_debtor_one_time_code_phone_index_sent", ["phone_index", "sent_at"]
            )


def downgrade() -> None:
    decrypt = personal_data_cipher().decrypt
    op.add_column("debtor", sa.Column("id_number", sa.String(length=32), nullable=True))
    op.add_column("contact_point", sa.Column("value", sa.String(length=200), nullable=True))
    op.add_column("app_user", sa.Column("phone", sa.String(length=32), nullable=True))
    op.add_column("debtor_one_time_code", sa.Column("phone", sa.String(length=32), nullable=True))
    _convert("debtor", "id_number_encrypted", {"id_number": decrypt})
    _convert("contact_point", "value_encrypted", {"value": decrypt})
    _convert("app_user", "phone_encrypted", {"phone": decrypt})
    # only the blind index of a code's phone was kept: take the phone of the code's user
    op.execute(
        "UPDATE debtor_one_time_code SET phone = COALESCE((SELECT app_user.phone FROM app_user "
        "WHERE app_user.id = debtor_one_time_code.user_id), '')"
    )

    with _foreign_keys_off():
        with op.batch_alter_table("debtor_one_time_code") as batch_op:
            batch_op.drop_index("ix_debtor_one_time_code_phone_index_sent")
            batch_op.drop_column("phone_index")
            batch_op.alter_column("phone", existing_type=sa.String(length=32), nullable=False)
            batch_op.create_index("ix_debtor_one_time_code_phone_sent", ["phone", "sent_at"])
        with op.batch_alter_table("app_user") as batch_op:
            batch_op.drop_constraint("uq_app_user_phone_index", type_="unique")
            batch_op.drop_column("phone_index")
            batch_op.drop_column("phone_encrypted")
            batch_op.create_unique_constraint("uq_app_user_phone", ["phone"])
        with op.batch_alter_table("contact_point") as batch_op:
            batch_op.drop_constraint("uq_contact_point_debtor_id_kind_value_index", type_="unique")
            batch_op.drop_column("value_index")
            batch_op.drop_column("value_encrypted")
            batch_op.alter_column("value", existing_type=sa.String(length=200), nullable=False)
            batch_op.create_unique_constraint(
                "uq_contact_point_debtor_id_kind_value", ["debtor_id", "kind", "value"]
            )
        with op.batch_alter_table("debtor") as batch_op:
            batch_op.drop_constraint("uq_debtor_id_number_index", type_="unique")
            batch_op.drop_column("id_number_index")
            batch_op.drop_column("id_number_encrypted")
            batch_op.alter_column("id_number", existing_type=sa.String(length=32), nullable=False)
            batch_op.create_unique_constraint("uq_debtor_id_number", ["id_number"])
