"""How a payment is split across what the debtor owes.

Order: fees → penalty → interest → principal (documented in docs/ageing.md). Whatever
remains after principal is an overpayment and is reported, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outstanding:
    fees_fen: int = 0
    penalty_fen: int = 0
    interest_fen: int = 0
    principal_fen: int = 0

    def __post_init__(self) -> None:
        for name in ("fees_fen", "penalty_fen", "interest_fen", "principal_fen"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")

    @property
    def total_fen(self) -> int:
        return self.fees_fen + self.penalty_fen + self.interest_fen + self.principal_fen


@dataclass(frozen=True)
class Allocation:
    to_fees_fen: int
    to_penalty_fen: int
    to_interest_fen: int
    to_principal_fen: int
    overpaid_fen: int
    remaining: Outstanding

    @property
    def applied_fen(self) -> int:
        return self.to_fees_fen + self.to_penalty_fen + self.to_interest_fen + self.to_principal_fen


def allocate(amount_fen: int, outstanding: Outstanding) -> Allocation:
    """Apply ``amount_fen`` in the order fees → penalty → interest → principal."""
    if amount_fen <= 0:
        raise ValueError("a payment must be a positive amount of fen")
    left = amount_fen
    parts: list[int] = []
    for owed in (
        outstanding.fees_fen,
        outstanding.penalty_fen,
        outstanding.interest_fen,
        outstanding.principal_fen,
    ):
        take = min(left, owed)
        parts.append(take)
        left -= take
    fees, penalty, interest, principal = parts
    return Allocation(
        to_fees_fen=fees,
        to_penalty_fen=penalty,
        to_interest_fen=interest,
        to_principal_fen=principal,
        overpaid_fen=left,
        remaining=Outstanding(
            fees_fen=outstanding.fees_fen - fees,
            penalty_fen=outstanding.penalty_fen - penalty,
            interest_fen=outstanding.interest_fen - interest,
            principal_fen=outstanding.principal_fen - principal,
        ),
    )
