from datetime import date

import pytest

from debtflow.core.portfolio.identifiers import (
    IdentifierError,
    normalise_phone,
    normalise_resident_id,
    normalise_uscc,
    resident_id_check_char,
    uscc_check_char,
)


def test_published_example_resident_id_passes_checksum():
    # GB 11643-1999 worked example
    assert resident_id_check_char("11010519491231002") == "X"
    assert normalise_resident_id("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("110105194912310021", "checksum"),
        ("11010519491231002", "17 digits"),
        ("11010519490231002X", "birth date"),  # 31 Feb... well, 1949-02-31
        ("1101051949123100AX", "17 digits"),
        ("110105290012310026", "plausible"),  # born in 2900
    ],
)
def test_malformed_resident_ids_are_refused_with_the_reason(value, why):
    with pytest.raises(IdentifierError, match=why):
        normalise_resident_id(value)


def test_unified_social_credit_code_checksum():
    code = "91350100M000100Y4"
    full = code + uscc_check_char(code)
    assert normalise_uscc(full.lower()) == full
    wrong = full[:-1] + ("0" if full[-1] != "0" else "1")
    with pytest.raises(IdentifierError, match="checksum"):
        normalise_uscc(wrong)
    with pytest.raises(IdentifierError, match="18 characters"):
        normalise_uscc("91350100M000100I4X")  # I is not in the alphabet


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("010-62345678", "01062345678"),
        ("0755 8888 1234", "075588881234"),
    ],
)
def test_phone_numbers_are_normalised(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "phone", "62345678"])
def test_malformed_phone_numbers_are_refused(raw):
    with pytest.raises(IdentifierError):
        normalise_phone(raw)


def test_birth_dates_in_the_future_are_refused():
    future = date.today().year + 1
    first17 = f"110105{future}0101002"
    with pytest.raises(IdentifierError, match="plausible"):
        normalise_resident_id(first17 + resident_id_check_char(first17))


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("+86 20 8765 4321", "02087654321"),
        ("0086 755 8888 6666", "075588886666"),
        ("+86-755-88886666", "075588886666"),
        ("+86 020 8765 4321", "02087654321"),
        ("１３８００１３８００７", "13800138007"),
        ("＋８６ １３８００１３８００７", "13800138007"),
    ],
)
def test_landlines_after_country_code_and_full_width_digits_are_accepted(text, digits):
    from debtflow.core.portfolio.identifiers import normalise_phone

    assert normalise_phone(text) == digits


@pytest.mark.parametrize(
    ("read", "text"),
    [(normalise_resident_id, "4.40106E+17"), (normalise_phone, "1.38001E+10")],
)
def test_a_number_excel_rounded_is_named_as_such(read, text) -> None:
    with pytest.raises(IdentifierError, match="Excel rounded"):
        read(text)
