"""compliance gate: contact decisions, supervisor overrides, contact restrictions,
personal-data view log, QA samples; every contact attempt tied to a decision

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 03:25:49.673605

Existing contact attempts (made before the gate existed) each get a decision marked
``pack_version = 'before-gate'`` with the same id, so ``contact_attempt.decision_id`` can be
NOT NULL. Triggers (SQLite and PostgreSQL) refuse a contact attempt whose decision was a
deny without a supervisor override, or whose debtor or channel differ from the decision's,
and refuse any UPDATE of decisions, overrides and personal-data views.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NO_UPDATE = ("contact_decision", "deny_override", "personal_data_view")

PERMISSION_MESSAGE = (
    "contact_attempt needs an allowed (or supervisor-overridden) gate decision "
    "for the same debtor and channel"
)
PERMITTED = (
    "EXISTS (SELECT 1 FROM contact_decision d WHERE d.id = NEW.decision_id "
    "AND d.debtor_id = NEW.debtor_id AND d.channel = NEW.channel "
    "AND (d.allowed OR EXISTS (SELECT 1 FROM deny_override o WHERE o.decision_id = d.id)))"
)


def _backfill_decisions() -> None:
    """One 'before-gate' decision per contact attempt recorded before this migration."""
    dialect = op.get_bind().dialect.name
    empty_reasons = "CAST('[]' AS JSON)" if dialect == "postgresql" else "'[]'"
    op.execute(
        "INSERT INTO contact_decision (id, debtor_id, case_id, collector_id, collecting_party, "
        "requested_by, channel, target, contact_point_id, purpose, debtor_unreachable, "
        "planned_at, allowed, "
        "reasons, pack_version, next_allowed_at, expires_at, decided_at) "
        "SELECT id, debtor_id, case_id, collector_id, 'unknown', 'migration 0002', channel, "
        f"party, contact_point_id, 'collection', FALSE, attempted_at, TRUE, {empty_reasons}, "
        "'before-gate', NULL, attempted_at, recorded_at FROM contact_attempt"
    )
    op.execute("UPDATE contact_attempt SET decision_id = id, collecting_party = 'unknown'")
    if dialect == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('contact_decision', 'id'), "
            "COALESCE(MAX(id), 0) + 1, false) FROM contact_decision"
        )


def _create_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, event in (
            ("contact_attempt_permission_insert", "INSERT"),
            ("contact_attempt_permission_update", "UPDATE OF decision_id, debtor_id, channel"),
        ):
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON contact_attempt "
                f"WHEN NOT {PERMITTED} "
                f"BEGIN SELECT RAISE(ABORT, '{PERMISSION_MESSAGE}'); END"
            )
        for table in NO_UPDATE:
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is never updated'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION debtflow_contact_attempt_permission() RETURNS trigger "
            f"AS $$ BEGIN IF NOT {PERMITTED} THEN "
            f"RAISE EXCEPTION '{PERMISSION_MESSAGE}'; END IF; RETURN NEW; END; $$ "
            "LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER contact_attempt_permission "
            "BEFORE INSERT OR UPDATE OF decision_id, debtor_id, channel ON contact_attempt "
            "FOR EACH ROW EXECUTE FUNCTION debtflow_contact_attempt_permission()"
        )
        op.execute(
            "CREATE OR REPLACE FUNCTION debtflow_no_update() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is never updated', TG_TABLE_NAME; END; $$ "
            "LANGUAGE plpgsql"
        )
        for table in NO_UPDATE:
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION debtflow_no_update()"
            )


def _drop_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS contact_attempt_permission_insert")
        op.execute("DROP TRIGGER IF EXISTS contact_attempt_permission_update")
        for table in NO_UPDATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS contact_attempt_permission ON contact_attempt")
        for table in NO_UPDATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}")
        op.execute("DROP FUNCTION IF EXISTS debtflow_contact_attempt_permission()")
        op.execute("DROP FUNCTION IF EXISTS debtflow_no_update()")


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "contact_restriction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("flag", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_contact_restriction_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtor.id"], name=op.f("fk_contact_restriction_debtor_id_debtor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_restriction")),
    )
    with op.batch_alter_table("contact_restriction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_restriction_debtor_flag", ["debtor_id", "flag"], unique=False
        )

    op.create_table(
        "personal_data_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("contact_point_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("viewer", sa.String(length=80), nullable=False),
        sa.Column("viewer_role", sa.String(length=30), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_personal_data_view_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["collector.id"],
            name=op.f("fk_personal_data_view_collector_id_collector"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_point_id"],
            ["contact_point.id"],
            name=op.f("fk_personal_data_view_contact_point_id_contact_point"),
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtor.id"], name=op.f("fk_personal_data_view_debtor_id_debtor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_view")),
    )
    with op.batch_alter_table("personal_data_view", schema=None) as batch_op:
        batch_op.create_index(
            "ix_personal_data_view_debtor_at", ["debtor_id", "viewed_at"], unique=False
        )

    op.create_table(
        "contact_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("collector_id", sa.Integer(), nullable=True),
        sa.Column("collecting_party", sa.String(length=60), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("contact_point_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("debtor_unreachable", sa.Boolean(), nullable=False),
        sa.Column("script_text", sa.Text(), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("pack_version", sa.String(length=80), nullable=False),
        sa.Column("next_allowed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_contact_decision_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_contact_decision_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["collector.id"],
            name=op.f("fk_contact_decision_collector_id_collector"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_point_id"],
            ["contact_point.id"],
            name=op.f("fk_contact_decision_contact_point_id_contact_point"),
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtor.id"], name=op.f("fk_contact_decision_debtor_id_debtor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_decision")),
    )
    with op.batch_alter_table("contact_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_decision_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contact_decision_collector_id"), ["collector_id"], unique=False
        )
        batch_op.create_index(
            "ix_contact_decision_debtor_planned", ["debtor_id", "planned_at"], unique=False
        )
        batch_op.create_index("ix_contact_decision_decided_at", ["decided_at"], unique=False)

    op.create_table(
        "deny_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("supervisor", sa.String(length=80), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=True),
        sa.Column("overridden_reasons", sa.JSON(), nullable=False),
        sa.Column("pack_version", sa.String(length=80), nullable=False),
        sa.Column("written_reason", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collector_id"], ["collector.id"], name=op.f("fk_deny_override_collector_id_collector")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["contact_decision.id"],
            name=op.f("fk_deny_override_decision_id_contact_decision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deny_override")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_deny_override_decision_id")),
    )
    op.create_table(
        "qa_sample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_attempt_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("selected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_attempt_id"],
            ["contact_attempt.id"],
            name=op.f("fk_qa_sample_contact_attempt_id_contact_attempt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_sample")),
        sa.UniqueConstraint("contact_attempt_id", name=op.f("uq_qa_sample_contact_attempt_id")),
    )
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("collecting_party", sa.String(length=60), nullable=True))
    _backfill_decisions()
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.alter_column("decision_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "collecting_party", existing_type=sa.String(length=60), nullable=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_contact_attempt_decision_id"), ["decision_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contact_attempt_account_id_account"), "account", ["account_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contact_attempt_decision_id_contact_decision"),
            "contact_decision",
            ["decision_id"],
            ["id"],
        )

    # ### end Alembic commands ###
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_contact_attempt_decision_id_contact_decision"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_contact_attempt_account_id_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_contact_attempt_decision_id"), type_="unique")
        batch_op.drop_column("collecting_party")
        batch_op.drop_column("account_id")
        batch_op.drop_column("decision_id")

    op.drop_table("qa_sample")
    op.drop_table("deny_override")
    with op.batch_alter_table("contact_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_decision_decided_at")
        batch_op.drop_index("ix_contact_decision_debtor_planned")
        batch_op.drop_index(batch_op.f("ix_contact_decision_collector_id"))
        batch_op.drop_index(batch_op.f("ix_contact_decision_case_id"))

    op.drop_table("contact_decision")
    with op.batch_alter_table("personal_data_view", schema=None) as batch_op:
        batch_op.drop_index("ix_personal_data_view_debtor_at")

    op.drop_table("personal_data_view")
    with op.batch_alter_table("contact_restriction", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_restriction_debtor_flag")

    op.drop_table("contact_restriction")
    # ### end Alembic commands ###
