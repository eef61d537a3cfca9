import pytest

from debtflow.core.money import AmountError, fen_to_yuan, yuan_to_fen


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
