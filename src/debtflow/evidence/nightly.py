"""The nightly ``evidence_head`` step: sign a tree head when the log grew since the last one.

Importing this module registers the step (order 90, after the other nightly work). The cycle
runs in one transaction, and a head signs committed leaves only, so the head covers the log
as it was before the cycle's own first append; the cycle's leaves are covered by the
head :func:`sign_committed_log` signs once the cycle has committed (``debtflow nightly`` and
``debtflow demo`` call it), else by the next one.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from debtflow.db import unit_of_work
from debtflow.evidence.heads import issue_tree_head, latest_head, signable_tree_size
from debtflow.nightly.service import StepCounts, register_step


def issue_nightly_head(session: Session, as_of: date) -> StepCounts:
    """Sign the committed tree unless the latest head already covers it (idempotent)."""
    size = signable_tree_size(session)
    last = latest_head(session)
    if last is not None and last.tree_size >= size:
        return {"tree_heads_issued": 0, "evidence_tree_size": size}
    issued = issue_tree_head(session)
    return {"tree_heads_issued": 1, "evidence_tree_size": issued.row.tree_size}


register_step("evidence_head", 90, issue_nightly_head)


def sign_committed_log() -> StepCounts:
    """After the cycle's transaction committed: sign a head over the leaves it appended
    (they were not yet committed when step 90 ran), in a transaction of its own. Nothing
    when the latest head already covers the log."""
    with unit_of_work() as session:
        return issue_nightly_head(session, date.today())
