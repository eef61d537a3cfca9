"""Which recorded calls QA reviews: a stable random share plus a risk-weighted extra.

Stable: the same call id (and salt) always gives the same answer, so re-running the sampler
or running it on two workers never changes the sample.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum


class SampleReason(StrEnum):
    RANDOM = "random"
    RISK = "risk"
    FORCED = "forced"


@dataclass(frozen=True, slots=True)
class QaPolicy:
    random_share: float = 0.05
    #: extra probability for a call of risk 1.0 (scaled linearly with risk)
    risk_extra_share: float = 0.5

    def __post_init__(self) -> None:
        for name, share in (
            ("random_share", self.random_share),
            ("risk_extra_share", self.risk_extra_share),
        ):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {share}")


@dataclass(frozen=True, slots=True)
class QaSelection:
    selected: bool
    reason: SampleReason | None


def _uniform(salt: bytes, call_id: str, stream: str) -> float:
    digest = hmac.new(salt, f"{stream}\x00{call_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def qa_select(
    call_id: str,
    *,
    risk: float,
    policy: QaPolicy,
    salt: bytes,
    forced: bool = False,
) -> QaSelection:
    """``risk`` in [0, 1] (e.g. speech-compliance flags, complaints); ``forced`` always picks."""
    if not call_id:
        raise ValueError("call id must not be empty")
    if not 0.0 <= risk <= 1.0:
        raise ValueError(f"risk must be between 0 and 1, got {risk}")
    if forced:
        return QaSelection(True, SampleReason.FORCED)
    if _uniform(salt, call_id, "random") < policy.random_share:
        return QaSelection(True, SampleReason.RANDOM)
    if _uniform(salt, call_id, "risk") < risk * policy.risk_extra_share:
        return QaSelection(True, SampleReason.RISK)
    return QaSelection(False, None)
