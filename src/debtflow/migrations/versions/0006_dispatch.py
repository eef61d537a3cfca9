"""dispatch: assignment history (append-only), manager overrides, learner outcomes and
state, daily dispatch metrics, field routes

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APPEND_ONLY = ("dispatch_assignment",)


def _append_only_triggers() -> None:
    """Assignment history is never rewritten: the database refuses UPDATE and DELETE."""
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        elif dialect == "postgresql":
            # the function comes with 0001; re-created here so this revision stands alone
            op.execute(
                "CREATE OR REPLACE FUNCTION debtflow_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION debtflow_append_only()"
            )


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


def upgrade() -> None:
    op.create_table(
        "dispatch_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("previous_collector_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatch_day", sa.Date(), nullable=False),
        sa.Column("how", sa.String(12), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("prior_probability", sa.Float(), nullable=False),
        sa.Column("effort_hours", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("deciding", sa.JSON(), nullable=False),
        sa.Column("runner_up_collector_id", sa.Integer(), nullable=True),
        sa.Column("runner_up_value_fen", sa.BigInteger(), nullable=True),
        sa.Column("margin_fen", sa.BigInteger(), nullable=True),
        sa.Column("fits", sa.Boolean(), nullable=False),
        sa.Column("unmet", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_dispatch_assignment_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["collector.id"],
            name=op.f("fk_dispatch_assignment_collector_id_collector"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_collector_id"],
            ["collector.id"],
            name=op.f("fk_dispatch_assignment_previous_collector_id_collector"),
        ),
        sa.ForeignKeyConstraint(
            ["runner_up_collector_id"],
            ["collector.id"],
            name=op.f("fk_dispatch_assignment_runner_up_collector_id_collector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_assignment")),
    )
    op.create_index(
        "ix_dispatch_assignment_case_at", "dispatch_assignment", ["case_id", "assigned_at"]
    )
    op.create_index(
        op.f("ix_dispatch_assignment_collector_id"), "dispatch_assignment", ["collector_id"]
    )
    op.create_index(
        op.f("ix_dispatch_assignment_assigned_at"), "dispatch_assignment", ["assigned_at"]
    )

    op.create_table(
        "dispatch_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_collector_id", sa.Integer(), nullable=True),
        sa.Column("to_collector_id", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["dispatch_assignment.id"],
            name=op.f("fk_dispatch_override_assignment_id_dispatch_assignment"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_dispatch_override_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["from_collector_id"],
            ["collector.id"],
            name=op.f("fk_dispatch_override_from_collector_id_collector"),
        ),
        sa.ForeignKeyConstraint(
            ["to_collector_id"],
            ["collector.id"],
            name=op.f("fk_dispatch_override_to_collector_id_collector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_override")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_dispatch_override_assignment_id")),
    )
    op.create_index(op.f("ix_dispatch_override_case_id"), "dispatch_override", ["case_id"])

    op.create_table(
        "dispatch_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("recovered_fen", sa.BigInteger(), nullable=False),
        sa.Column("promised", sa.Boolean(), nullable=False),
        sa.Column("contacted", sa.Boolean(), nullable=False),
        sa.Column("reward", sa.Float(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["dispatch_assignment.id"],
            name=op.f("fk_dispatch_outcome_assignment_id_dispatch_assignment"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_dispatch_outcome_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["collector.id"],
            name=op.f("fk_dispatch_outcome_collector_id_collector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_outcome")),
    )
    op.create_index(
        op.f("ix_dispatch_outcome_assignment_id"), "dispatch_outcome", ["assignment_id"]
    )
    op.create_index(op.f("ix_dispatch_outcome_case_id"), "dispatch_outcome", ["case_id"])

    op.create_table(
        "dispatch_model_state",
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("outcomes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", name=op.f("pk_dispatch_model_state")),
    )

    op.create_table(
        "dispatch_daily_metrics",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("assignments", sa.Integer(), nullable=False),
        sa.Column("fitting", sa.Integer(), nullable=False),
        sa.Column("match_accuracy", sa.Float(), nullable=True),
        sa.Column("reassignments", sa.Integer(), nullable=False),
        sa.Column("reassignment_rate", sa.Float(), nullable=True),
        sa.Column("contacted", sa.Integer(), nullable=False),
        sa.Column("response_minutes_median", sa.Float(), nullable=True),
        sa.Column("response_minutes_p90", sa.Float(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_dispatch_daily_metrics")),
    )

    op.create_table(
        "field_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stops", sa.JSON(), nullable=False),
        sa.Column("unvisitable", sa.JSON(), nullable=False),
        sa.Column("leave_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("back_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("travel_seconds", sa.Integer(), nullable=False),
        sa.Column("inputs_key", sa.String(64), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collector_id"], ["collector.id"], name=op.f("fk_field_route_collector_id_collector")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_route")),
        sa.UniqueConstraint("collector_id", "day", name=op.f("uq_field_route_collector_id_day")),
    )
    op.create_index(op.f("ix_field_route_day"), "field_route", ["day"])

    _append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_index(op.f("ix_field_route_day"), table_name="field_route")
    op.drop_table("field_route")
    op.drop_table("dispatch_daily_metrics")
    op.drop_table("dispatch_model_state")
    op.drop_index(op.f("ix_dispatch_outcome_case_id"), table_name="dispatch_outcome")
    op.drop_index(op.f("ix_dispatch_outcome_assignment_id"), table_name="dispatch_outcome")
    op.drop_table("dispatch_outcome")
    op.drop_index(op.f("ix_dispatch_override_case_id"), table_name="dispatch_override")
    op.drop_table("dispatch_override")
    op.drop_index(op.f("ix_dispatch_assignment_assigned_at"), table_name="dispatch_assignment")
    op.drop_index(op.f("ix_dispatch_assignment_collector_id"), table_name="dispatch_assignment")
    op.drop_index("ix_dispatch_assignment_case_at", table_name="dispatch_assignment")
    op.drop_table("dispatch_assignment")
