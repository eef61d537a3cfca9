import pytest
from hypothesis import given
from hypothesis import strategies as st

from debtflow.core.money import MAX_AMOUNT_FEN, AmountError, fen_to_yuan, yuan_to_fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1234.56", 123456), ("1,234.5", 123450), ("¥1234", 123400), ("0.01", 1), ("12元", 1200),
     ("-3.10", -310)],
)  # fmt: skip
def test_yuan_text_to_fen_without_floats(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["1.234", "1e3", "abc", "", "1.2.3", "0.1+0.2"])
def test_malformed_amounts_are_refused(text):
    with pytest.raises(AmountError):
        yuan_to_fen(text)


def test_fen_print_as_yuan():
    assert fen_to_yuan(123456789) == "1,234,567.89"
    assert fen_to_yuan(-5) == "-0.05"


def test_one_printer_for_every_amount() -> None:
    from debtflow.core.money import fen_to_yuan

    assert fen_to_yuan(123456) == "1,234.56"
    assert fen_to_yuan(123456, symbol=True) == "¥1,234.56"
    assert fen_to_yuan(-1, symbol=True) == "-¥0.01"  # not "-¥1.99" as fen // 100 gives
    assert fen_to_yuan(0) == "0.00"


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1,234.56", 123456), ("12,345,678", 1234567800), ("1，234，567.8", 123456780),
     ("¥12,345元", 1234500), ("１,２３４", 123400), ("999,999.99", 99999999),
     ("-1,000", -100000)],
)  # fmt: skip
def test_thousands_groups_are_read(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    "text",
    ["12,34", "1,2,3,4", "1,23,456", "12,3456", "1,234,56", "1234,567", ",123", "123,",
     "1,,234", "0,123", "00,123", "1,234，567", "1,234.5,6", "1.234,56", "1,234.567", ",",
     "，", "12，34"],
)  # fmt: skip
def test_commas_that_are_not_thousands_groups_are_refused(text):
    # "12,34" was read as 1,234 yuan: no figure can be read from it with certainty
    with pytest.raises(AmountError):
        yuan_to_fen(text)


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_FEN), st.sampled_from([",", "，"]))
def test_every_amount_printed_with_its_groups_reads_back(fen, separator):
    printed = fen_to_yuan(fen).replace(",", separator)
    assert yuan_to_fen(printed) == fen
    assert yuan_to_fen(f"¥{printed}") == fen


@given(
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.sets(st.integers(min_value=0, max_value=12), max_size=5),
    st.sampled_from(["", ".5", ".05"]),
)
def test_commas_are_taken_only_where_thousands_groups_put_them(digits, commas, decimals):
    text = "".join(("," if i in commas and i > 0 else "") + d for i, d in enumerate(digits))
    text += decimals
    whole = int(digits) * 100 + int((decimals[1:] + "00")[:2])
    if "," not in text or text == f"{int(digits):,}{decimals}":
        assert yuan_to_fen(text) == whole
    else:
        with pytest.raises(AmountError):
            yuan_to_fen(text)
