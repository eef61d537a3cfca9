"""Mainland China identifiers: resident ID (GB 11643), unified social credit code
(GB 32100), mobile and landline phone numbers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


class IdentifierError(ValueError):
    """An identifier that is malformed or fails its checksum."""


#: how Excel shows a long number it keeps as a number: 4.40106E+17
_EXCEL_NUMBER = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
EXCEL_ROUNDED = (
    "looks like a number Excel rounded (it keeps 15 significant digits; the others are lost): "
    "format the column as text in the creditor's workbook and enter the value again"
)


def resident_id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_resident_id(text: str) -> str:
    """Validate an 18-character resident ID and return it upper-cased.

    Checks the pattern, the embedded birth date (a real date, not in the future, after
    1900) and the ISO 7064 MOD 11-2 check character.
    """
    value = text.strip().upper()
    if not _ID_PATTERN.match(value):
        if _EXCEL_NUMBER.match(value):
            raise IdentifierError(EXCEL_ROUNDED)
        raise IdentifierError("resident ID must be 17 digits followed by a digit or X")
    birth = resident_id_birth_date(value)
    if birth.year < 1900 or birth > date.today():
        raise IdentifierError(f"resident ID birth date {birth.isoformat()} is not plausible")
    expected = resident_id_check_char(value[:17])
    if value[17] != expected:
        raise IdentifierError(
            f"resident ID checksum fails (check character is {value[17]}, expected {expected})"
        )
    return value


def resident_id_birth_date(value: str) -> date:
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise IdentifierError(f"resident ID holds no valid birth date ({value[6:14]})") from exc


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(text: str) -> str:
    """Validate an 18-character unified social credit code (businesses)."""
    value = text.strip().upper()
    if not _USCC_PATTERN.match(value):
        raise IdentifierError(
            "unified social credit code must be 18 characters of digits and capitals "
            "(no I, O, S, V, Z)"
        )
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        raise IdentifierError(
            f"unified social credit code checksum fails (check character is {value[17]}, "
            f"expected {expected})"
        )
    return value


def normalise_phone(text: str) -> str:
    """A mainland mobile (11 digits starting 13–19) or landline with area code.

    Full-width characters are read as their ASCII forms (NFKC); spaces, dashes and a
    leading +86 / 0086 / 86 are removed, and a landline's trunk 0, which is left out after
    the country code (``+86 20 8765 4321``), is put back; the result is digits only.
    """
    value = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", text).strip())
    international = False
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            international = True
    if value.startswith("86") and len(value) == 13:
        value = value[2:]
    if international and value and value[0] in "23456789":
        value = "0" + value
    if not value.isdigit():
        if _EXCEL_NUMBER.match(value):
            raise IdentifierError(EXCEL_ROUNDED)
        raise IdentifierError("phone number may contain only digits, spaces, dashes and +86")
    if value.startswith("1"):
        if not _MOBILE.match(value):
            raise IdentifierError("mobile number must be 11 digits starting 13–19")
        return value
    if _LANDLINE.match(value):
        return value
    raise IdentifierError("not a mainland mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx)")
