"""The fast path of portfolio validation: plain rows read in one pass.

Most rows of a creditor's file are plain: ASCII digits, ISO dates, amounts like 1234.56.
``_QuickReader`` reads such a row in one pass with no error bookkeeping; at the first cell it
is not certain about it gives up (returns None) and ``validation.validate_row`` reads the row,
producing exactly the errors (or the row) it always did. So the fast path can only ever accept
rows that ``validate_row`` accepts, with the same values (tests compare the two).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from debtflow.core.money import MAX_AMOUNT_FEN
from debtflow.core.portfolio.columns import (
    BY_NAME,
    DEBTOR_TYPES,
    OVERDUE_CAUSES,
    PRODUCT_TYPES,
    YES_NO,
)
from debtflow.core.portfolio.identifiers import (
    _ID_CHECK,
    _ID_WEIGHTS,
    normalise_phone,
    normalise_uscc,
)
from debtflow.core.portfolio.records import (
    CONTACT_FIELDS,
    DEFAULT_TIMEZONE,
    EMAIL_ADDRESS,
    HISTORY_FIELDS,
    HeaderMap,
    MonthRecord,
    PortfolioRow,
    ThirdPartyContact,
)

_PLAIN_RATE = re.compile(r"(\d{1,3})(?:\.(\d{1,2}))?%?", re.ASCII)
_PLAIN_COORDINATE = re.compile(r"-?\d{1,3}(?:\.\d+)?", re.ASCII)
_PLAIN_STATUS = re.compile(r"-?\d", re.ASCII)
_CUSTOMER_SEPARATOR = re.compile(r"[;；]")
_ID_VALUES = {str(d): d for d in range(10)}
_KNOWN_ZONES: set[str] = set()


class _GiveUp(Exception):
    """The fast path is not sure about a cell: the full reader decides."""


def _quick_fen(value: str) -> int:
    """``1234`` / ``1234.5`` / ``1234.56`` (ASCII digits) in fen, as ``yuan_to_fen`` reads
    them, up to ``MAX_AMOUNT_FEN``; anything else is left to it."""
    if value.isascii():
        whole, dot, cents = value.partition(".")
        if whole.isdigit():
            fen = None
            if not dot:
                fen = int(whole) * 100
            elif cents.isdigit():
                if len(cents) == 2:
                    fen = int(whole + cents)
                elif len(cents) == 1:
                    fen = int(whole + cents) * 10
            if fen is not None and fen <= MAX_AMOUNT_FEN:
                return fen
    raise _GiveUp


def _quick_optional_fen(value: str) -> int | None:
    return _quick_fen(value) if value else None


def _quick_day(value: str) -> date:
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise _GiveUp
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _GiveUp from None


def _quick_optional_day(value: str) -> date | None:
    return _quick_day(value) if value else None


def _quick_phone(value: str) -> str:
    if len(value) == 11 and value[0] == "1" and value.isdigit() and value.isascii():
        if value[1] in "3456789":
            return value
        raise _GiveUp
    return normalise_phone(value)  # IdentifierError makes the full reader report it


def _quick_resident_id(value: str, latest_birth: date) -> tuple[str, date]:
    if len(value) != 18 or not value.isascii() or not value[:17].isdigit():
        raise _GiveUp
    check = value[17]
    if check == "x":
        raise _GiveUp
    birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))  # ValueError: give up
    if birth.year < 1900 or birth > latest_birth:
        raise _GiveUp
    total = 0
    for char, weight in zip(value[:17], _ID_WEIGHTS, strict=True):
        total += _ID_VALUES[char] * weight
    if _ID_CHECK[total % 11] != check:
        raise _GiveUp
    return value, birth


class _QuickReader:
    """Positions of the canonical fields in the file's rows, for the fast path."""

    def __init__(self, headers: HeaderMap) -> None:
        self.width = max(headers.index.values(), default=-1) + 1
        # a field the file does not have reads the empty string appended after the cells
        self.at = {name: headers.index.get(name, -1) for name in BY_NAME}
        at = self.at
        self.contacts = tuple(tuple(at[f] for f in fields) for fields in CONTACT_FIELDS)
        self.history = tuple(tuple(at[f] for f in fields) for fields in HISTORY_FIELDS)

    def read(
        self, row_number: int, cells: Sequence[str], *, today: date, latest_birth: date
    ) -> PortfolioRow | None:
        if len(cells) < self.width:
            return None
        try:
            v = [c.strip() for c in cells]
        except AttributeError:  # a None cell (spreadsheets)
            return None
        v.append("")
        try:
            return self._read(row_number, v, today, latest_birth)
        except (_GiveUp, ValueError, KeyError, IndexError):
            return None

    def _read(self, row_number: int, v: list[str], today: date, latest_birth: date) -> PortfolioRow:
        at = self.at
        account_number = v[at["account_number"]]
        name = v[at["name"]]
        id_raw = v[at["id_number"]]
        if not (account_number and name and id_raw):
            raise _GiveUp
        type_text = v[at["debtor_type"]]
        debtor_type = DEBTOR_TYPES[type_text] if type_text else "person"
        birth_text = v[at["birth_date"]]
        birth_date = _quick_optional_day(birth_text)
        if debtor_type == "person":
            id_number, id_birth = _quick_resident_id(id_raw, latest_birth)
            if birth_date is None:
                birth_date = id_birth
            elif birth_date != id_birth:
                raise _GiveUp
        else:
            id_number = normalise_uscc(id_raw)
        if birth_date is not None and birth_date > today:
            raise _GiveUp
        registered_on = _quick_optional_day(v[at["registered_on"]])
        if registered_on is not None and registered_on > today:
            raise _GiveUp

        phone = _quick_phone(v[at["phone"]])
        email = v[at["email"]] or None
        if email and not EMAIL_ADDRESS.match(email):
            raise _GiveUp
        province = v[at["province"]]
        city = v[at["city"]]
        if not (province and city):
            raise _GiveUp
        lat_text = v[at["latitude"]]
        lon_text = v[at["longitude"]]
        latitude = longitude = None
        if lat_text or lon_text:
            if not (
                _PLAIN_COORDINATE.fullmatch(lat_text) and _PLAIN_COORDINATE.fullmatch(lon_text)
            ):
                raise _GiveUp
            latitude, longitude = float(lat_text), float(lon_text)
            if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
                raise _GiveUp
        zone = v[at["timezone"]] or DEFAULT_TIMEZONE
        if zone not in _KNOWN_ZONES:
            ZoneInfo(zone)  # raises for an unknown zone: the full reader reports it
            _KNOWN_ZONES.add(zone)
        product_type = PRODUCT_TYPES[v[at["product_type"]]]

        original = _quick_fen(v[at["original_amount"]])
        principal = _quick_fen(v[at["principal"]])
        interest = _quick_optional_fen(v[at["interest"]]) or 0
        fees = _quick_optional_fen(v[at["fees"]]) or 0
        penalty = _quick_optional_fen(v[at["penalty"]]) or 0
        rate = _PLAIN_RATE.fullmatch(v[at["annual_rate"]])
        if rate is None:
            raise _GiveUp
        whole, decimals = rate.groups()
        rate_bp = int(whole) * 100 + (int((decimals + "0")[:2]) if decimals else 0)
        instalment = _quick_fen(v[at["instalment_amount"]])
        count_text = v[at["instalment_count"]]
        if not (count_text.isdigit() and count_text.isascii()):
            raise _GiveUp
        count = int(count_text)
        first_due = _quick_day(v[at["first_due_date"]])
        paid = _quick_optional_fen(v[at["paid_amount"]]) or 0
        opened_on = _quick_day(v[at["opened_on"]])
        maturity = _quick_optional_day(v[at["maturity_date"]])
        if (
            original == 0
            or rate_bp > 10000
            or instalment == 0
            or not 1 <= count <= 600
            or opened_on > today
            or first_due < opened_on
            or (maturity is not None and maturity < first_due)
            or paid > instalment * count
        ):
            raise _GiveUp

        dependents_text = v[at["dependents"]]
        dependents = None
        if dependents_text:
            if not (dependents_text.isdigit() and dependents_text.isascii()):
                raise _GiveUp
            dependents = int(dependents_text)
            if dependents > 30:
                raise _GiveUp
        customers_text = v[at["main_customers"]]
        customers = (
            tuple(c.strip() for c in _CUSTOMER_SEPARATOR.split(customers_text) if c.strip())
            if customers_text
            else ()
        )
        cause = OVERDUE_CAUSES[v[at["overdue_cause"]]]

        contacts: list[ThirdPartyContact] = []
        for name_at, relation_at, phone_at, auth_at in self.contacts:
            c_name, c_relation, c_phone_text, c_auth = (
                v[name_at],
                v[relation_at],
                v[phone_at],
                v[auth_at],
            )
            if not (c_name or c_relation or c_phone_text or c_auth):
                continue
            if not (c_name and c_relation and c_phone_text):
                raise _GiveUp
            c_phone = _quick_phone(c_phone_text)
            if c_phone == phone:
                raise _GiveUp
            authorised = YES_NO[c_auth.lower()] if c_auth else False
            contacts.append(ThirdPartyContact(c_name, c_relation, c_phone, authorised))

        history: list[MonthRecord] = []
        for status_at, statement_at, paid_at in self.history:
            status_text, statement_text, paid_text = v[status_at], v[statement_at], v[paid_at]
            if not (status_text or statement_text or paid_text):
                continue
            if not (status_text and statement_text and paid_text):
                raise _GiveUp
            if not _PLAIN_STATUS.fullmatch(status_text):
                raise _GiveUp
            status = int(status_text)
            if status < -2:
                raise _GiveUp
            history.append(MonthRecord(status, _quick_fen(statement_text), _quick_fen(paid_text)))

        return PortfolioRow(
            row=row_number,
            account_number=account_number,
            debtor_type=debtor_type,
            name=name,
            id_number=id_number,
            birth_date=birth_date if debtor_type == "person" else None,
            registered_on=registered_on,
            employer=v[at["employer"]] or None,
            industry=v[at["industry"]] or None,
            phone=phone,
            email=email,
            province=province,
            city=city,
            address=v[at["address"]] or None,
            latitude=latitude,
            longitude=longitude,
            timezone=zone,
            product_type=product_type,
            original_fen=original,
            principal_fen=principal,
            interest_fen=interest,
            fees_fen=fees,
            penalty_fen=penalty,
            annual_rate_bp=rate_bp,
            instalment_fen=instalment,
            instalment_count=count,
            first_due_date=first_due,
            paid_fen=paid,
            opened_on=opened_on,
            maturity_date=maturity,
            credit_limit_fen=_quick_optional_fen(v[at["credit_limit"]]),
            monthly_income_fen=_quick_optional_fen(v[at["monthly_income"]]),
            other_debts_fen=_quick_optional_fen(v[at["other_debts"]]),
            dependents=dependents,
            monthly_spending_fen=_quick_optional_fen(v[at["monthly_spending"]]),
            monthly_revenue_fen=_quick_optional_fen(v[at["monthly_revenue"]]),
            receivables_fen=_quick_optional_fen(v[at["receivables"]]),
            main_customers=customers,
            overdue_cause=cause,
            contacts=tuple(contacts),
            history=tuple(history),
        )
