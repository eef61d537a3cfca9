"""Text read the way the models were trained and the rules written: simplified Chinese in
plain characters. A debtor or collector writing 繁體 ("再不還錢就讓你全家好看"), or
characters that only look the same — full-width letters, CJK compatibility ideographs
(U+F900…, U+2F800…), Kangxi radicals (⼈ for 人) — would otherwise slip past the speech
rules and be misread.

Character for character, so the text keeps its length and a flag's span points at the same
characters of what was actually said: each character whose NFKC form is one other letter,
digit or ideograph is read as that character (punctuation stays as written: the rules spell
out full-width "，" and "！"), then OpenCC's traditional → simplified table
(``traditional_simplified.tsv``) applies. The table is closed under itself, so reading a text
twice gives what reading it once gives."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

#: blocks of characters with a one-character compatibility form: enclosed and CJK symbols,
#: Kangxi and CJK radicals, compatibility ideographs, vertical and small forms, full-width
#: and half-width forms, enclosed alphanumeric supplement
_COMPATIBILITY_BLOCKS = (
    (0x2460, 0x24FF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x33FF),
    (0xF900, 0xFAFF),
    (0xFE10, 0xFE6F),
    (0xFF00, 0xFFEF),
    (0x1F100, 0x1F2FF),
    (0x2F800, 0x2FA1F),
)


def _traditional() -> dict[str, str]:
    text = (
        resources.files("debtflow.core.conversation")
        .joinpath("traditional_simplified.tsv")
        .read_text(encoding="utf-8")
    )
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        traditional, _, simplified = line.partition("\t")
        if len(traditional) != 1 or len(simplified) != 1:
            raise ValueError(f"traditional_simplified.tsv line {number}: not one character each")
        table[traditional] = simplified
    return table


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    traditional = _traditional()
    table = {ord(k): v for k, v in traditional.items()}
    for start, end in _COMPATIBILITY_BLOCKS:
        for point in range(start, end + 1):
            folded = unicodedata.normalize("NFKC", chr(point))
            if (
                len(folded) == 1
                and folded != chr(point)
                and unicodedata.category(folded)[0] in "LN"  # punctuation stays as written
            ):
                table[point] = traditional.get(folded, folded)
    return table


def to_simplified(text: str) -> str:
    """``text`` with every traditional or compatibility character replaced by its plain
    simplified one; the same length, so positions in the result are positions in ``text``."""
    return text.translate(_table())
