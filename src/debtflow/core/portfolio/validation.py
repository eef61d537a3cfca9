"""Validate a portfolio file's rows into typed records, or say exactly what is wrong.

Every problem is a :class:`RowError` with the spreadsheet row number (the header is row 1),
the column as the file names it, and a reason. Validation never stops at the first error:
the creditor gets the whole list in one pass. This module holds the full, error-collecting
reader of one row (``validate_row``), the header checks, and the drivers for a chunk of rows
and a whole file; the records are in ``records``, the one-pass reader of plain rows in
``fast_path`` and the checks across rows in ``cross_row``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from debtflow.core.money import MAX_AMOUNT_FEN, AmountError, fen_to_yuan, yuan_to_fen
from debtflow.core.portfolio.columns import (
    BY_NAME,
    DEBTOR_TYPES,
    OVERDUE_CAUSES,
    PRODUCT_TYPES,
    YES_NO,
)
from debtflow.core.portfolio.cross_row import CrossRowChecks
from debtflow.core.portfolio.fast_path import _QuickReader
from debtflow.core.portfolio.identifiers import (
    IdentifierError,
    normalise_phone,
    normalise_resident_id,
    normalise_uscc,
    resident_id_birth_date,
)
from debtflow.core.portfolio.records import (
    CONTACT_FIELDS,
    DEFAULT_TIMEZONE,
    EMAIL_ADDRESS,
    HISTORY_FIELDS,
    ChunkResult,
    HeaderMap,
    MonthRecord,
    PortfolioRow,
    RowError,
    ThirdPartyContact,
    ValidationReport,
)

_WHOLE = re.compile(r"^-?\d+(\.0+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


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
        if fen > MAX_AMOUNT_FEN:
            self.error(
                name,
                f"amount {value} is more than the most accepted, {fen_to_yuan(MAX_AMOUNT_FEN)}",
            )
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
    if email and not EMAIL_ADDRESS.match(email):
        r.error("email", f"{email!r} is not an e-mail address")

    province = r.required_text("province")
    city = r.required_text("city")
    latitude = r.coordinate("latitude", -90.0, 90.0)
    longitude = r.coordinate("longitude", -180.0, 180.0)
    if bool(r.text("latitude")) != bool(r.text("longitude")):  # a bad value is said above
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
    for name_field, relation_field, phone_field, auth_field in CONTACT_FIELDS:
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
    for m, (status_field, statement_field, paid_field) in enumerate(HISTORY_FIELDS, start=1):
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


def header_errors(headers: HeaderMap) -> list[RowError]:
    """Problems with the header row itself: a column twice, a required column missing."""
    errors = [RowError(1, dup, "this column appears twice") for dup in headers.duplicates]
    unknown = (
        f"; headers not recognised: {', '.join(headers.unknown)}"
        if headers.unknown
        else "; every other header was recognised"
    )
    for missing in headers.missing_required():
        column = BY_NAME[missing]
        errors.append(
            RowError(
                1,
                missing,
                f"required column is missing (header {missing} or {column.zh}){unknown}",
            )
        )
    return errors


def validate_chunk(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    today: date,
    first_row: int,
    cell_problems: Mapping[int, Sequence[tuple[str, str]]] | None = None,
) -> ChunkResult:
    """Validate rows one by one (no checks across rows); blank lines are skipped.
    ``cell_problems`` ({row number: [(column label, reason)]}) are what the file reader
    found wrong with cells as stored (numbers in an XLSX identifier column that lost
    digits): such a row is refused with them and with its other errors."""
    headers = HeaderMap(header)
    quick = _QuickReader(headers)
    latest_birth = date.today()  # as normalise_resident_id judges a birth date plausible
    result = ChunkResult()
    for offset, cells in enumerate(rows):
        if not any((c or "").strip() for c in cells):
            continue
        result.rows_read += 1
        row_number = first_row + offset
        if cell_problems and row_number in cell_problems:
            found = [RowError(row_number, label, why) for label, why in cell_problems[row_number]]
            labels = {e.column for e in found}
            _, errors = validate_row(row_number, cells, headers, today=today)
            result.errors.extend([*found, *(e for e in errors if e.column not in labels)])
            result.rejected_rows[row_number] = [c or "" for c in cells]
            continue
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
