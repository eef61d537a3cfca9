"""evidence log: leaves, Merkle nodes, signed tree heads, witness co-signatures, signing
keys, attached files

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 03:50:00.000000

Leaves, nodes, tree heads and co-signatures are append-only: triggers (SQLite and
PostgreSQL) refuse UPDATE and DELETE. The single log-state row (id 1, tree size 0) is
created here; its tree size can only grow and the row cannot be deleted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY = ("evidence_leaf", "evidence_node", "evidence_tree_head", "evidence_cosignature")


def _create_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        op.execute(
            "CREATE TRIGGER evidence_log_state_no_shrink BEFORE UPDATE ON evidence_log_state "
            "WHEN NEW.tree_size < OLD.tree_size OR NEW.id <> OLD.id "
            "BEGIN SELECT RAISE(ABORT, 'the evidence log never shrinks'); END"
        )
        op.execute(
            "CREATE TRIGGER evidence_log_state_no_delete BEFORE DELETE ON evidence_log_state "
            "BEGIN SELECT RAISE(ABORT, 'the evidence log never shrinks'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION debtflow_evidence_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION debtflow_evidence_append_only()"
            )
        op.execute(
            "CREATE OR REPLACE FUNCTION debtflow_evidence_no_shrink() RETURNS trigger AS $$ "
            "BEGIN IF TG_OP = 'DELETE' OR NEW.tree_size < OLD.tree_size OR NEW.id <> OLD.id "
            "THEN RAISE EXCEPTION 'the evidence log never shrinks'; END IF; RETURN NEW; END; "
            "$$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER evidence_log_state_no_shrink BEFORE UPDATE OR DELETE "
            "ON evidence_log_state FOR EACH ROW EXECUTE FUNCTION debtflow_evidence_no_shrink()"
        )


def _drop_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        op.execute("DROP TRIGGER IF EXISTS evidence_log_state_no_shrink")
        op.execute("DROP TRIGGER IF EXISTS evidence_log_state_no_delete")
    elif dialect == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP TRIGGER IF EXISTS evidence_log_state_no_shrink ON evidence_log_state")
        op.execute("DROP FUNCTION IF EXISTS debtflow_evidence_append_only()")
        op.execute("DROP FUNCTION IF EXISTS debtflow_evidence_no_shrink()")


def upgrade() -> None:
    state = op.create_table(
        "evidence_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_log_state")),
    )
    op.bulk_insert(state, [{"id": 1, "tree_size": 0}])
    op.create_table(
        "evidence_leaf",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("canonical_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_evidence_leaf")),
    )
    op.create_index(op.f("ix_evidence_leaf_case_id"), "evidence_leaf", ["case_id"], unique=False)
    op.create_table(
        "evidence_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_evidence_node")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "evidence_signing_key",
        sa.Column("key_id", sa.LargeBinary(length=8), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("active_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_evidence_signing_key")),
        sa.UniqueConstraint("public_key", name=op.f("uq_evidence_signing_key_public_key")),
    )
    op.create_table(
        "evidence_tree_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.LargeBinary(length=8), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["evidence_signing_key.key_id"],
            name=op.f("fk_evidence_tree_head_key_id_evidence_signing_key"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_tree_head")),
    )
    op.create_index(
        op.f("ix_evidence_tree_head_timestamp_us"),
        "evidence_tree_head",
        ["timestamp_us"],
        unique=False,
    )
    op.create_table(
        "evidence_cosignature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_head_id", sa.Integer(), nullable=False),
        sa.Column("witness_key_id", sa.LargeBinary(length=8), nullable=False),
        sa.Column("witness_public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tree_head_id"],
            ["evidence_tree_head.id"],
            name=op.f("fk_evidence_cosignature_tree_head_id_evidence_tree_head"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_cosignature")),
    )
    op.create_index(
        op.f("ix_evidence_cosignature_tree_head_id"),
        "evidence_cosignature",
        ["tree_head_id"],
        unique=False,
    )
    op.create_table(
        "evidence_file",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_file")),
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("evidence_file")
    op.drop_index(op.f("ix_evidence_cosignature_tree_head_id"), table_name="evidence_cosignature")
    op.drop_table("evidence_cosignature")
    op.drop_index(op.f("ix_evidence_tree_head_timestamp_us"), table_name="evidence_tree_head")
    op.drop_table("evidence_tree_head")
    op.drop_table("evidence_signing_key")
    op.drop_table("evidence_node")
    op.drop_index(op.f("ix_evidence_leaf_case_id"), table_name="evidence_leaf")
    op.drop_table("evidence_leaf")
    op.drop_table("evidence_log_state")
