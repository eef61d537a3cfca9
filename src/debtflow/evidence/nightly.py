"""The nightly ``evidence_head`` step: sign a tree head when the log grew since the last one.

Importing this module registers the step (order 90, after the other nightly work). The cycle
runs in one transaction, and a head signs committed leaves only, so the head covers the log
as it was before the cycle's own first append; the cycle's leaves are covered by the next
head (the next night's, ``debtflow evidence head``, or an export that needs them).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

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
