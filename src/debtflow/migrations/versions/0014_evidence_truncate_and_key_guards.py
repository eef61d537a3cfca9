"""evidence log: TRUNCATE refused on PostgreSQL; signing keys can only be added and retired

Revision ID: 0014
Revises: 0013

The append-only guards of 0004 are row triggers, which PostgreSQL does not fire for
TRUNCATE: a statement trigger now refuses TRUNCATE on every guarded evidence table (SQLite
has no TRUNCATE). ``evidence_signing_key`` rows are never deleted and the only change
allowed is the one rotation makes: setting ``retired_at`` on a key that had none.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NO_TRUNCATE = (
    "evidence_leaf",
    "evidence_node",
    "evidence_tree_head",
    "evidence_cosignature",
    "evidence_log_state",
    "evidence_signing_key",
)
# an UPDATE of a key row that is not "retire a key that was active"
KEY_CHANGE_REFUSED = (
    "NEW.key_id {ne} OLD.key_id OR NEW.public_key {ne} OLD.public_key "
    "OR NEW.active_from {ne} OLD.active_from OR OLD.retired_at IS NOT NULL "
    "OR NEW.retired_at IS NULL"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER evidence_signing_key_retire_only BEFORE UPDATE ON "
            f"evidence_signing_key WHEN {KEY_CHANGE_REFUSED.format(ne='IS NOT')} "
            "BEGIN SELECT RAISE(ABORT, 'evidence_signing_key: a key can only be retired, "
            "once'); END"
        )
        op.execute(
            "CREATE TRIGGER evidence_signing_key_no_delete BEFORE DELETE ON evidence_signing_key "
            "BEGIN SELECT RAISE(ABORT, 'evidence_signing_key rows are never deleted'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION debtflow_evidence_no_truncate() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME; END; "
            "$$ LANGUAGE plpgsql"
        )
        for table in NO_TRUNCATE:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION debtflow_evidence_no_truncate()"
            )
        op.execute(
            "CREATE OR REPLACE FUNCTION debtflow_evidence_key_retire_only() RETURNS trigger "
            "AS $$ BEGIN IF TG_OP = 'DELETE' THEN "
            "RAISE EXCEPTION 'evidence_signing_key rows are never deleted'; END IF; "
            f"IF {KEY_CHANGE_REFUSED.format(ne='IS DISTINCT FROM')} THEN "
            "RAISE EXCEPTION 'evidence_signing_key: a key can only be retired, once'; END IF; "
            "RETURN NEW; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER evidence_signing_key_retire_only BEFORE UPDATE OR DELETE ON "
            "evidence_signing_key FOR EACH ROW "
            "EXECUTE FUNCTION debtflow_evidence_key_retire_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS evidence_signing_key_retire_only")
        op.execute("DROP TRIGGER IF EXISTS evidence_signing_key_no_delete")
    elif dialect == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS evidence_signing_key_retire_only ON evidence_signing_key"
        )
        for table in NO_TRUNCATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS debtflow_evidence_key_retire_only()")
        op.execute("DROP FUNCTION IF EXISTS debtflow_evidence_no_truncate()")
