"""The Babel catalogs: zh-CN and English hold the same keys, none empty, and every key the
templates and pages ask for by name is in them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from debtflow.web import i18n

SRC = Path(i18n.__file__).resolve().parents[1]
TEMPLATES = SRC / "web" / "templates"
LITERAL_IN_TEMPLATE = re.compile(r"""\b_\(\s*(["'])([A-Za-z0-9_.]+)\1\s*\)""")
LITERAL_IN_PYTHON = re.compile(r"""\b(?:_|t|translate)\(\s*(["'])([a-z0-9_.]+)\1\s*\)""")


def keys_of(lang: str) -> set[str]:
    with i18n.catalog_path(lang).open("rb") as po:
        return {str(m.id) for m in read_po(po) if m.id}


def test_both_catalogs_hold_the_same_keys_and_no_empty_text() -> None:
    zh, en = keys_of("zh"), keys_of("en")
    assert zh == en, f"only in zh: {sorted(zh - en)}; only in en: {sorted(en - zh)}"
    for lang in i18n.LANGUAGES:
        assert set(i18n.catalog(lang)) == zh, f"{lang}: keys without text"


def test_every_literal_key_in_the_templates_is_translated() -> None:
    used = {
        (path.name, match.group(2))
        for path in TEMPLATES.rglob("*.html")
        for match in LITERAL_IN_TEMPLATE.finditer(path.read_text(encoding="utf-8"))
    }
    assert used, "the pattern finds the templates' keys"
    known = set(i18n.catalog("zh"))
    missing = sorted(f"{name}: {key}" for name, key in used if key not in known)
    assert not missing, missing


def test_every_literal_key_in_the_pages_code_is_translated() -> None:
    used = {
        (path.name, match.group(2))
        for path in SRC.rglob("*.py")
        if "translator" in (text := path.read_text(encoding="utf-8")) and path.name != "i18n.py"
        for match in LITERAL_IN_PYTHON.finditer(text)
    }
    assert used, "the pattern finds the keys the pages' code asks for"
    known = set(i18n.catalog("zh"))
    missing = sorted(f"{name}: {key}" for name, key in used if key not in known)
    assert not missing, missing


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_translator_uses_the_catalog_and_shows_unknown_keys(lang: str) -> None:
    translate = i18n.translator(lang)
    assert translate("cases") == i18n.catalog(lang)["cases"]
    assert translate("role.no_such_role") == "no_such_role"
    assert translate("no_such_key") == "no_such_key"


def test_chinese_is_chinese_and_english_is_english() -> None:
    zh, en = i18n.catalog("zh"), i18n.catalog("en")
    assert re.search(r"[\u4e00-\u9fff]", zh["cases"])
    assert en["cases"] == "Cases"
