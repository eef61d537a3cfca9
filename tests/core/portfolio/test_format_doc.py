from pathlib import Path

from debtflow.core.portfolio.columns import COLUMNS

DOC = Path(__file__).parents[3] / "docs" / "portfolio-format.md"


def test_the_format_guide_documents_every_column_in_both_languages():
    text = DOC.read_text(encoding="utf-8")
    missing = [c.name for c in COLUMNS if f"`{c.name}`" not in text or c.zh not in text]
    assert missing == []
