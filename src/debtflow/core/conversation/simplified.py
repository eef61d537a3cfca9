"""Traditional Chinese read as simplified: the models were trained, and the rules written, on
simplified Chinese, so a debtor or collector writing 繁體 ("再不還錢就讓你全家好看") would
otherwise slip past the speech rules and be misread. Character for character (OpenCC's
table, ``traditional_simplified.tsv``), so the text keeps its length and a flag's span
points at the same characters of what was actually said."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    text = (
        resources.files("debtflow.core.conversation")
        .joinpath("traditional_simplified.tsv")
        .read_text(encoding="utf-8")
    )
    table: dict[int, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        traditional, _, simplified = line.partition("\t")
        if len(traditional) != 1 or len(simplified) != 1:
            raise ValueError(f"traditional_simplified.tsv line {number}: not one character each")
        table[ord(traditional)] = simplified
    return table


def to_simplified(text: str) -> str:
    """``text`` with every traditional character replaced by its simplified one; the same
    length, so positions in the result are positions in ``text``."""
    return text.translate(_table())
