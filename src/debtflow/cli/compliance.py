"""`debtflow compliance ...`: check a contact against a rule pack without a database."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from debtflow.core.compliance.contact import (
    Channel,
    ContactFlag,
    ContactIntent,
    ContactRecord,
    Target,
)
from debtflow.core.compliance.gate import evaluate
from debtflow.core.compliance.rule_pack import (
    PackError,
    load_override_file,
    load_pack,
    shipped_pack_names,
)
from debtflow.web.inputs import EARLIEST_YEAR, LATEST_YEAR

app = typer.Typer(help="Contact-policy gate: check an intended contact against a rule pack.")

INPUT_ERROR_EXIT = 2
#: the years a contact moment may fall in (those of every date the platform takes); the
#: gate's day and week arithmetic runs past the edges of ``datetime`` (year 9999) long
#: before that, so a moment outside is refused
FIRST_YEAR, LAST_YEAR = EARLIEST_YEAR, LATEST_YEAR


class InputError(ValueError):
    """The JSON on stdin does not describe a contact."""


@app.callback()
def compliance() -> None:
    """Contact-policy gate: check an intended contact against a rule pack."""


def _moment(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise InputError(f"{where}: expected an ISO-8601 string with offset, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{where}: not an ISO-8601 date-time: {value!r}") from exc
    if moment.tzinfo is None:
        raise InputError(f"{where}: {value!r} has no UTC offset (write e.g. +08:00 or Z)")
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InputError(f"{where}: {value!r} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    return moment


def _boolean(body: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"{where}{key}: expected true or false, got {value!r}")
    return value


def _text(body: dict[str, Any], key: str, where: str, default: str | None) -> str | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{where}{key}: expected a string, got {value!r}")
    return value


def _choice(value: Any, kind: type[Channel] | type[Target], where: str) -> Any:
    try:
        return kind(value)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in kind)
        raise InputError(f"{where}: {value!r} is not one of {allowed}") from exc


_INTENT_KEYS = {
    "at",
    "debtor_tz",
    "channel",
    "target",
    "third_party_authorised",
    "debtor_unreachable",
    "third_party_refused",
    "flags",
    "history",
    "collector",
    "party",
    "debt_id",
    "purpose",
    "cooling_off_until",
    "script",
}
_RECORD_KEYS = {"at", "channel", "connected", "conversation", "party", "debt_id", "target"}


def _record(body: Any, index: int) -> ContactRecord:
    where = f"history[{index}]"
    if not isinstance(body, dict):
        raise InputError(f"{where}: expected an object")
    unknown = sorted(set(body) - _RECORD_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in ("at", "channel"):
        if key not in body:
            raise InputError(f"{where}: missing field {key!r}")
    return ContactRecord(
        at=_moment(body["at"], f"{where}.at"),
        channel=_choice(body["channel"], Channel, f"{where}.channel"),
        connected=_boolean(body, "connected", f"{where}.", False),
        conversation=_boolean(body, "conversation", f"{where}.", False),
        party=_text(body, "party", f"{where}.", "") or "",
        debt_id=_text(body, "debt_id", f"{where}.", None),
        target=_choice(body.get("target", "debtor"), Target, f"{where}.target"),
    )


def parse_intent(raw: str, default_zone: ZoneInfo) -> tuple[ContactIntent, list[ContactRecord]]:
    """Turn the stdin JSON into an intent and its history, or raise InputError."""
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"stdin is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InputError("stdin must hold one JSON object")
    unknown = sorted(set(body) - _INTENT_KEYS)
    if unknown:
        raise InputError(f"unknown field(s) {', '.join(unknown)}")
    for key in ("at", "channel"):
        if key not in body:
            raise InputError(f"missing field {key!r}")
    zone_name = body.get("debtor_tz", default_zone.key)
    if not isinstance(zone_name, str):
        raise InputError(f"debtor_tz: expected an IANA zone name, got {zone_name!r}")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"debtor_tz: unknown IANA time zone {zone_name!r}") from exc
    flags = body.get("flags", [])
    if not isinstance(flags, list):
        raise InputError("flags: expected a list of strings")
    try:
        flag_set = frozenset(ContactFlag(flag) for flag in flags)
    except ValueError as exc:
        allowed = ", ".join(flag.value for flag in ContactFlag)
        raise InputError(f"flags: {exc}; known flags: {allowed}") from exc
    history = body.get("history", [])
    if not isinstance(history, list):
        raise InputError("history: expected a list of contact objects")
    records = [_record(item, index) for index, item in enumerate(history)]
    cooling = body.get("cooling_off_until")
    intent = ContactIntent(
        at=_moment(body["at"], "at"),
        debtor_tz=zone,
        channel=_choice(body["channel"], Channel, "channel"),
        target=_choice(body.get("target", "debtor"), Target, "target"),
        collector_id=_text(body, "collector", "", "") or "",
        party=_text(body, "party", "", "") or "",
        debt_id=_text(body, "debt_id", "", None),
        purpose=_text(body, "purpose", "", "collection") or "collection",
        third_party_authorised=_boolean(body, "third_party_authorised", "", False),
        debtor_unreachable=_boolean(body, "debtor_unreachable", "", False),
        third_party_refused=_boolean(body, "third_party_refused", "", False),
        flags=flag_set,
        cooling_off_until=None if cooling is None else _moment(cooling, "cooling_off_until"),
        script_text=_text(body, "script", "", None),
    )
    return intent, records


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(INPUT_ERROR_EXIT)


@app.command()
def check(
    pack: Annotated[str, typer.Option("--pack", help="Rule pack name, e.g. cn-2025, us-regf.")],
    override: Annotated[
        Path | None,
        typer.Option("--override", help="Creditor override TOML (may only tighten the pack)."),
    ] = None,
) -> None:
    """Read one contact as JSON on stdin and print the gate decision as JSON."""
    try:
        rules = load_pack(pack)
        if override is not None:
            rules = load_override_file(rules, override)
    except PackError as exc:
        raise _fail(str(exc)) from None
    try:
        intent, history = parse_intent(sys.stdin.read(), rules.default_timezone)
    except InputError as exc:
        raise _fail(str(exc)) from None
    decision = evaluate(intent, history, rules)
    next_at = decision.next_allowed_at
    typer.echo(
        json.dumps(
            {
                "allowed": decision.allowed,
                "reasons": [code.value for code in decision.reasons],
                "pack_version": decision.pack_version,
                "next_allowed_at": None if next_at is None else next_at.isoformat(),
            },
            ensure_ascii=False,
        )
    )


@app.command()
def packs() -> None:
    """List the shipped rule packs and their versions."""
    for name in shipped_pack_names():
        rules = load_pack(name)
        typer.echo(f"{name}\t{rules.version}\t{rules.jurisdiction}")


if __name__ == "__main__":
    app()
