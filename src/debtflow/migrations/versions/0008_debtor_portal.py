"""debtor portal: chosen plans, signed agreements, payment intents and provider webhooks,
disputes, legal-advice requests, contact preferences

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
