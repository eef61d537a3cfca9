"""Shared builders for compliance-gate tests (no database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from debtflow.core.compliance.contact import Channel, ContactIntent, ContactRecord, Target
from debtflow.core.compliance.rule_pack import RulePack, load_pack


@pytest.fixture(scope="session")
def cn_pack() -> RulePack:
    return load_pack("cn-2025")


@pytest.fixture(scope="session")
def us_pack() -> RulePack:
    return load_pack("us-regf")


def _at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, "tests must write offsets"
    return moment


@pytest.fixture
def make_intent() -> Callable[..., ContactIntent]:
    def build(
        at: str, *, tz: str = "Asia/Shanghai", channel: str = "call", **extra: Any
    ) -> ContactIntent:
        if "target" in extra:
            extra["target"] = Target(extra["target"])
        return ContactIntent(at=_at(at), debtor_tz=ZoneInfo(tz), channel=Channel(channel), **extra)

    return build


@pytest.fixture
def make_record() -> Callable[..., ContactRecord]:
    def build(
        at: str,
        *,
        channel: str = "call",
        connected: bool = True,
        conversation: bool = False,
        party: str = "in-house",
        debt_id: str | None = None,
    ) -> ContactRecord:
        return ContactRecord(
            at=_at(at),
            channel=Channel(channel),
            connected=connected,
            conversation=conversation,
            party=party,
            debt_id=debt_id,
        )

    return build
