"""Validate a portfolio file's rows into typed records, or say exactly what is wrong.

Every problem is a :class:`RowError` with the spreadsheet row number (the header is row 1),
the column as the file names it, and a reason. Validation never stops at the first error:
the creditor gets the whole list in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from debtflow.core.money import AmountError, yuan_to_fen
from debtflow.core.portfolio.columns import (
    BY_NAME,
    CONTACT_SLOTS,
    DEBTOR_TYPES,
    HEADER_LOOKUP,
    HISTORY_MONTHS,
    OVERDUE_CAUSES,
    PRODUCT_TYPES,
    YES_NO,
    header_key,
)
from debtflow.core.portfolio.identifiers import (
    _ID_CHECK,
    _ID_WEIGHTS,
    IdentifierError,
    normalise_phone,
    normalise_resident_id,
    normalise_uscc,
    resident_id_birth_date,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTACT_FIELDS = tuple(
    (f"contact{k}_name", f"contact{k}_relation", f"contact{k}_phone", f"contact{k}_authorised")
    for k in range(1, CONTACT_SLOTS + 1)
)
_HISTORY_FIELDS = tuple(
    (f"status_m{m}", f"statement_m{m}", f"paid_m{m}") for m in range(1, HISTORY_MONTHS + 1)
)
_WHOLE = re.compile(r"^-?\d+(\.0+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


class ThirdPartyContact(NamedTuple):
    name: str
    relation: str
    phone: str
    authorised: bool


class MonthRecord(NamedTuple):
    """One month of repayment history, most recent first (m1 = last month)."""

    status: int
    statement_fen: int
    paid_fen: int


@dataclass(slots=True)
class PortfolioRow:
    row: int
    account_number: str
    debtor_type: str
    name: str
    id_number: str
    birth_date: date | None
    registered_on: date | None
    employer: str | None
    industry: str | None
    phone: str
    email: str | None
    province: str
    city: str
    address: str | None
    latitude: float | None
    longitude: float | None
    timezone: str
    product_type: str
    original_fen: int
    principal_fen: int
    interest_fen: int
    fees_fen: int
    penalty_fen: int
    annual_rate_bp: int
    instalment_fen: int
    instalment_count: int
    first_due_date: date
    paid_fen: int
    opened_on: date
    maturity_date: date | None
    credit_limit_fen: int | None
    monthly_income_fen: int | None
    other_debts_fen: int | None
    dependents: int | None
    monthly_spending_fen: int | None
    monthly_revenue_fen: int | None
    receivables_fen: int | None
    main_customers: tuple[str, ...]
    overdue_cause: str
    contacts: tuple[ThirdPartyContact, ...] = ()
    history: tuple[MonthRecord, ...] = ()

    @property
    def outstanding_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fees_fen + self.penalty_fen


@dataclass
class ValidationReport:
    rows: list[PortfolioRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rejected_rows: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class HeaderMap:
    """Which file column holds which canonical field, and the file's own header names."""

    def __init__(self, header: Sequence[str]) -> None:
        self.index: dict[str, int] = {}
        self.label: dict[str, str] = {}
        self.unknown: list[str] = []
        self.duplicates: list[str] = []
        for position, text in enumerate(header):
            if not text or not text.strip():
                continue
            canonical = HEADER_LOOKUP.get(header_key(text))
            if canonical is None:
                self.unknown.append(text.strip())
            elif canonical in self.index:
                self.duplicates.append(text.strip())
            else:
                self.index[canonical] = position
                self.label[canonical] = text.strip().lstrip("\ufeff")

    def missing_required(self) -> list[str]:
        return [c.name for c in BY_NAME.values() if c.required and c.name not in self.index]


class _RowReader:
    """Reads one row's cells by canonical name, collecting errors instead of raising."""

    def __init__(self, row_number: int, cells: Sequence[str], headers: HeaderMap) -> None:
        self.row = row_number
        self.headers = headers
        self.errors: list[RowError] = []
        width = len(cells)
        self.values = {
            name: (cells[i] or "").strip() if i < width else "" for name, i in headers.index.items()
        }

    def label(self, name: str) -> str:
        return self.headers.label.get(name, name)

    def error(self, name: str, reason: str) -> None:
        self.errors.append(RowError(self.row, self.label(name), reason))

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def required_text(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.error(name, "is required")
        return value

    def optional_text(self, name: str) -> str | None:
        return self.text(name) or None

    def fen(self, name: str, *, required: bool = False, default: int | None = None) -> int | None:
        value = self.text(name)
        if not value:
            if required:
                self.error(name, "is required")
            return default
        try:
            fen = yuan_to_fen(value)
        except AmountError:
            self.error(name, f"{value!r} is not an amount in yuan (at most 2 decimals)")
            return default
        if fen < 0:
            self.error(name, f"amount cannot be negative ({value})")
            return default
        return fen

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.text(name)
        if not value:
            if required:
                self.error(name, "is required")
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.error(name, f"{value!r} is not a real date (use YYYY-MM-DD)")
        return parsed

    def integer(self, name: str, *, required: bool = False, low: int, high: int) -> int | None:
        value = self.text(name)
        if not value:
            if required:
                self.error(name, "is required")
            return None
        if not _WHOLE.match(value):
            self.error(name, f"{value!r} is not a whole number")
            return None
        number = int(value.split(".", 1)[0])
        if not low <= number <= high:
            self.error(name, f"{number} is outside {low}..{high}")
            return None
        return number

    def coordinate(self, name: str, low: float, high: float) -> float | None:
        value = self.text(name)
        if not value:
            return None
        try:
            number = float(Decimal(value))
        except InvalidOperation:
            self.error(name, f"{value!r} is not a number")
            return None
        if not low <= number <= high:
            self.error(name, f"{number} is outside {low}..{high}")
            return None
        return number

    def choice(self, name: str, table: dict[str, str], default: str) -> str:
        value = self.text(name)
        if not value:
            return default
        found = table.get(value) or table.get(value.lower().replace(" ", "_"))
        if found is None:
            allowed = sorted({v for v in table.values()})
            self.error(name, f"unknown value {value!r} (allowed: {', '.join(allowed)})")
            return default
        return found

    def phone(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name)
        if not value:
            if required:
                self.error(name, "is required")
            return None
        try:
            return normalise_phone(value)
        except IdentifierError as exc:
            self.error(name, f"{value!r}: {exc}")
            return None


def parse_date(text: str) -> date | None:
    value = text.strip()
    if _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    if " " in value or "T" in value:  # spreadsheet datetimes: keep the date part
        value = re.split(r"[ T]", value, maxsplit=1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def parse_rate_bp(text: str) -> int:
    """``"14.6"`` / ``"14.6%"`` (percent a year) → 1460 basis points."""
    value = text.strip().rstrip("%％").strip()
    try:
        percent = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a percentage") from exc
    if not percent.is_finite():
        raise ValueError(f"{text!r} is not a percentage")
    if percent < 0 or percent > 100:
        raise ValueError(f"{text!r} is outside 0–100 %")
    bp = percent * 100
    if bp != bp.to_integral_value():
        raise ValueError(f"{text!r} has more precision than a basis point")
    return int(bp)


def validate_row(
    row_number: int, cells: Sequence[str], headers: HeaderMap, *, today: date
) -> tuple[PortfolioRow | None, list[RowError]]:
    r = _RowReader(row_number, cells, headers)
    account_number = r.required_text("account_number")
    debtor_type = r.choice("debtor_type", DEBTOR_TYPES, "person")
    name = r.required_text("name")

    id_raw = r.required_text("id_number")
    id_number = ""
    if id_raw:
        try:
            id_number = (
                normalise_resident_id(id_raw) if debtor_type == "person" else normalise_uscc(id_raw)
            )
        except IdentifierError as exc:
            r.error("id_number", f"{id_raw!r}: {exc}")

    birth_date = r.day("birth_date")
    if debtor_type == "person" and id_number:
        id_birth = resident_id_birth_date(id_number)
        if birth_date is None:
            birth_date = id_birth
        elif birth_date != id_birth:
            r.error("birth_date", f"{birth_date} disagrees with the ID number ({id_birth})")
    if birth_date is not None and birth_date > today:
        r.error("birth_date", f"{birth_date} is in the future")
    registered_on = r.day("registered_on")
    if registered_on is not None and registered_on > today:
        r.error("registered_on", f"{registered_on} is in the future")

    phone = r.phone("phone", required=True)
    email = r.optional_text("email")
    if email and not _EMAIL.match(email):
        r.error("email", f"{email!r} is not an e-mail address")

    province = r.required_text("province")
    city = r.required_text("city")
    latitude = r.coordinate("latitude", -90.0, 90.0)
    longitude = r.coordinate("longitude", -180.0, 180.0)
    if (latitude is None) != (longitude is None):
        r.error("latitude", "latitude and longitude must be given together")
    zone = r.text("timezone") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        r.error("timezone", f"{zone!r} is not an IANA time zone (e.g. Asia/Shanghai)")

    product_raw = r.text("product_type")
    product_type = ""
    if not product_raw:
        r.error("product_type", "is required")
    else:
        product_type = r.choice("product_type", PRODUCT_TYPES, "")

    original = r.fen("original_amount", required=True)
    if original == 0:
        r.error("original_amount", "the amount lent must be positive")
    principal = r.fen("principal", required=True)
    interest = r.fen("interest", default=0)
    fees = r.fen("fees", default=0)
    penalty = r.fen("penalty", default=0)

    rate_bp = None
    rate_raw = r.text("annual_rate")
    if not rate_raw:
        r.error("annual_rate", "is required")
    else:
        try:
            rate_bp = parse_rate_bp(rate_raw)
        except ValueError as exc:
            r.error("annual_rate", str(exc))

    instalment = r.fen("instalment_amount", required=True)
    if instalment == 0:
        r.error("instalment_amount", "an instalment must be positive")
    count = r.integer("instalment_count", required=True, low=1, high=600)
    first_due = r.day("first_due_date", required=True)
    paid = r.fen("paid_amount", default=0)
    opened_on = r.day("opened_on", required=True)
    maturity = r.day("maturity_date")
    if opened_on is not None and opened_on > today:
        r.error("opened_on", f"{opened_on} is in the future")
    if opened_on and first_due and first_due < opened_on:
        r.error("first_due_date", f"{first_due} is before the loan was paid out ({opened_on})")
    if first_due and maturity and maturity < first_due:
        r.error("maturity_date", f"{maturity} is before the first due date ({first_due})")
    if instalment and count and paid is not None and paid > instalment * count:
        r.error("paid_amount", "more than the whole schedule has been paid")

    credit_limit = r.fen("credit_limit")
    income = r.fen("monthly_income")
    other_debts = r.fen("other_debts")
    dependents = r.integer("dependents", low=0, high=30)
    spending = r.fen("monthly_spending")
    revenue = r.fen("monthly_revenue")
    receivables = r.fen("receivables")
    customers_raw = r.text("main_customers")
    customers = tuple(c.strip() for c in re.split(r"[;；]", customers_raw) if c.strip())
    cause = r.choice("overdue_cause", OVERDUE_CAUSES, "unknown")

    contacts: list[ThirdPartyContact] = []
    for name_field, relation_field, phone_field, auth_field in _CONTACT_FIELDS:
        c_name = r.text(name_field)
        c_relation = r.text(relation_field)
        c_phone_raw = r.text(phone_field)
        c_auth_raw = r.text(auth_field)
        if not (c_name or c_relation or c_phone_raw or c_auth_raw):
            continue
        if not c_name:
            r.error(name_field, "a contact needs a name")
        if not c_relation:
            r.error(relation_field, "a contact needs a relation to the debtor")
        c_phone = r.phone(phone_field, required=True)
        authorised = False
        if c_auth_raw:
            parsed = YES_NO.get(c_auth_raw.lower())
            if parsed is None:
                r.error(auth_field, f"{c_auth_raw!r} is not yes/no (是/否)")
            else:
                authorised = parsed
        if c_phone and phone and c_phone == phone:
            r.error(phone_field, "a third-party contact cannot have the debtor's own phone")
        if c_name and c_relation and c_phone:
            contacts.append(ThirdPartyContact(c_name, c_relation, c_phone, authorised))

    history: list[MonthRecord] = []
    for m, (status_field, statement_field, paid_field) in enumerate(_HISTORY_FIELDS, start=1):
        given = (r.text(status_field), r.text(statement_field), r.text(paid_field))
        if not any(given):
            continue
        if not all(given):
            r.error(status_field, f"month {m} history needs status, statement and paid together")
            continue
        status = r.integer(status_field, low=-2, high=9)
        statement = r.fen(statement_field)
        month_paid = r.fen(paid_field)
        if status is not None and statement is not None and month_paid is not None:
            history.append(MonthRecord(status, statement, month_paid))

    if r.errors:
        return None, r.errors
    assert original is not None and principal is not None and instalment is not None
    assert count is not None and first_due is not None and opened_on is not None
    assert rate_bp is not None and phone is not None and paid is not None
    return (
        PortfolioRow(
            row=row_number,
            account_number=account_number,
            debtor_type=debtor_type,
            name=name,
            id_number=id_number,
            birth_date=birth_date if debtor_type == "person" else None,
            registered_on=registered_on,
            employer=r.optional_text("employer"),
            industry=r.optional_text("industry"),
            phone=phone,
            email=email,
            province=province,
            city=city,
            address=r.optional_text("address"),
            latitude=latitude,
            longitude=longitude,
            timezone=zone,
            product_type=product_type,
            original_fen=original,
            principal_fen=principal,
            interest_fen=interest or 0,
            fees_fen=fees or 0,
            penalty_fen=penalty or 0,
            annual_rate_bp=rate_bp,
            instalment_fen=instalment,
            instalment_count=count,
            first_due_date=first_due,
            paid_fen=paid,
            opened_on=opened_on,
            maturity_date=maturity,
            credit_limit_fen=credit_limit,
            monthly_income_fen=income,
            other_debts_fen=other_debts,
            dependents=dependents,
            monthly_spending_fen=spending,
            monthly_revenue_fen=revenue,
            receivables_fen=receivables,
            main_customers=customers,
            overdue_cause=cause,
            contacts=tuple(contacts),
            history=tuple(history),
        ),
        [],
    )


# --- fast path ----------------------------------------------------------------------------
# Most rows of a creditor's file are plain: ASCII digits, ISO dates, amounts like 1234.56.
# ``_QuickReader`` reads such a row in one pass with no error bookkeeping; at the first cell
# it is not certain about it gives up (returns None) and ``validate_row`` reads the row,
# producing exactly the errors (or the row) it always did. So the fast path can only ever
# accept rows that ``validate_row`` accepts, with the same values (tests compare the two).

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
    them; anything else is left to it."""
    if value.isascii():
        whole, dot, cents = value.partition(".")
        if whole.isdigit():
            if not dot:
                return int(whole) * 100
            if cents.isdigit():
                if len(cents) == 2:
                    return int(whole + cents)
                if len(cents) == 1:
                    return int(whole + cents) * 10
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
        self.contacts = tuple(tuple(at[f] for f in fields) for fields in _CONTACT_FIELDS)
        self.history = tuple(tuple(at[f] for f in fields) for fields in _HISTORY_FIELDS)

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
        if email and not _EMAIL.match(email):
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


def header_errors(headers: HeaderMap) -> list[RowError]:
    """Problems with the header row itself: a column twice, a required column missing."""
    errors = [RowError(1, dup, "this column appears twice") for dup in headers.duplicates]
    for missing in headers.missing_required():
        column = BY_NAME[missing]
        errors.append(
            RowError(1, missing, f"required column is missing (header {missing} or {column.zh})")
        )
    return errors


@dataclass
class ChunkResult:
    rows: list[PortfolioRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: dict[int, list[str]] = field(default_factory=dict)
    rows_read: int = 0


def validate_chunk(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, today: date, first_row: int
) -> ChunkResult:
    """Validate rows one by one (no checks across rows); blank lines are skipped."""
    headers = HeaderMap(header)
    quick = _QuickReader(headers)
    latest_birth = date.today()  # as normalise_resident_id judges a birth date plausible
    result = ChunkResult()
    for offset, cells in enumerate(rows):
        if not any((c or "").strip() for c in cells):
            continue
        result.rows_read += 1
        row_number = first_row + offset
        quick_row = quick.read(row_number, cells, today=today, latest_birth=latest_birth)
        if quick_row is not None:
            result.rows.append(quick_row)
            continue
        parsed, errors = validate_row(row_number, cells, headers, today=today)
        if errors:
            result.errors.extend(errors)
            result.rejected_rows[row_number] = [c or "" for c in cells]
        elif parsed is not None:
            result.rows.append(parsed)
    return result


class KeyedRow(Protocol):
    """What the checks across rows read of a row (a ``PortfolioRow``, or the prepared form
    intake writes)."""

    @property
    def row(self) -> int: ...

    @property
    def account_number(self) -> str: ...

    @property
    def id_number(self) -> str: ...

    @property
    def name(self) -> str: ...


Keyed = TypeVar("Keyed", bound=KeyedRow)


class CrossRowChecks:
    """Checks that span rows: an account number twice, one ID number under two names."""

    def __init__(self, headers: HeaderMap) -> None:
        self.labels = headers.label
        self.accounts: dict[str, int] = {}
        self.names: dict[str, tuple[int, str]] = {}

    def check(self, row: KeyedRow) -> list[RowError]:
        errors: list[RowError] = []
        first = self.accounts.get(row.account_number)
        if first is not None:
            errors.append(
                RowError(
                    row.row,
                    self.labels["account_number"],
                    f"duplicate account number {row.account_number} (first on row {first})",
                )
            )
        known = self.names.get(row.id_number)
        if known is not None and known[1] != row.name:
            errors.append(
                RowError(
                    row.row,
                    self.labels["name"],
                    f"ID number {row.id_number} belongs to {known[1]!r} on row {known[0]}",
                )
            )
        if not errors:
            self.accounts[row.account_number] = row.row
            self.names.setdefault(row.id_number, (row.row, row.name))
        return errors

    def kept(
        self,
        rows: Sequence[Keyed],
        *,
        errors: list[RowError],
        rejected_rows: dict[int, list[str]],
        raw: Sequence[Sequence[str]],
        first_row: int,
    ) -> list[Keyed]:
        """``rows`` less those that clash with earlier rows; their errors are added to
        ``errors`` (kept in row order) and their cells to ``rejected_rows``."""
        kept: list[Keyed] = []
        for row in rows:
            clashes = self.check(row)
            if clashes:
                errors.extend(clashes)
                rejected_rows[row.row] = [c or "" for c in raw[row.row - first_row]]
            else:
                kept.append(row)
        errors.sort(key=lambda e: e.row)
        return kept

    def keep(self, chunk: ChunkResult, raw: Sequence[Sequence[str]], first_row: int) -> None:
        """Drop from ``chunk`` the rows that clash with earlier rows, recording why."""
        chunk.rows = self.kept(
            chunk.rows,
            errors=chunk.errors,
            rejected_rows=chunk.rejected_rows,
            raw=raw,
            first_row=first_row,
        )


def validate_portfolio(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, today: date, first_row: int = 2
) -> ValidationReport:
    """Validate a whole file in memory: header, each row, and duplicates across rows."""
    headers = HeaderMap(header)
    report = ValidationReport(ignored_columns=list(headers.unknown))
    report.errors = header_errors(headers)
    if report.errors:
        return report
    chunk = validate_chunk(header, rows, today=today, first_row=first_row)
    CrossRowChecks(headers).keep(chunk, rows, first_row)
    report.rows = chunk.rows
    report.errors = chunk.errors
    report.rejected_rows = chunk.rejected_rows
    return report
