"""The evidence log in the database: appends, signed tree heads, court packages and audits.

The pure Merkle, leaf, signing and package logic is :mod:`debtflow.core.evidence`; this
package stores it (see ``docs/evidence.md`` and ``docs/evidence-operations.md``).
"""

from debtflow.evidence.log import (
    AppendedLeaf,
    AttachedFile,
    EvidenceAct,
    InvalidEvidence,
    append,
    append_at_commit,
    append_many,
)

__all__ = [
    "AppendedLeaf",
    "AttachedFile",
    "EvidenceAct",
    "InvalidEvidence",
    "append",
    "append_at_commit",
    "append_many",
]
