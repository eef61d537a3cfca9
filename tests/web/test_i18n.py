"""The Babel catalogs: zh-CN and English hold the same keys, none empty, and every key the
templates and pages ask for by name is in them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import DictLoader, TemplateNotFound

from debtflow.web import i18n
from debtflow.web.deps import TEMPLATES as TEMPLATES_OF_THE_APP

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


def _environment(templates: dict[str, str]) -> i18n.LanguageEnvironment:
    return i18n.LanguageEnvironment(
        loader=i18n.LanguageLoader(DictLoader(templates)),
        autoescape=True,
        extensions=[i18n.LiteralTranslations],
    )


PAGE = {
    "base.html": '<h1>{{ _("cases") }}</h1>{% block body %}{% endblock %}',
    "page.html": (
        '{% extends "base.html" %}{% block body %}'
        '{{ _("accounts") }}|{{ _("no_such.key") }}|{{ _("state." ~ status) }}|'
        '{{ _("cases") ~ "!" }}|{% include "part.html" %}{% endblock %}'
    ),
    "part.html": '<i>{{ _("accounts") }}</i>',
}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_page_compiled_per_language_reads_as_the_runtime_translator(lang: str) -> None:
    """Literal keys are translated when ``<lang>/page.html`` is compiled — with what the
    page's included and extended templates say in the same language — and give the same
    text as ``_`` at render time; a computed key is still looked up then."""
    translate = i18n.translator(lang)
    html = _environment(PAGE).get_template(f"{lang}/page.html").render(_=translate, status="active")
    assert html == (
        f"<h1>{translate('cases')}</h1>{translate('accounts')}|key|{translate('state.active')}|"
        f"{translate('cases')}!|<i>{translate('accounts')}</i>"
    )
    assert translate("accounts") != translate("cases")  # the test tells them apart


def test_literal_keys_leave_no_lookup_in_the_compiled_pages() -> None:
    """Every shipped template, compiled per language: a literal ``_("key")`` is fixed text,
    only computed keys call ``_`` while the page renders."""
    environment = TEMPLATES_OF_THE_APP.env
    # how Jinja compiles ``_("key")`` when ``_`` is looked up at render time
    calls_with_a_literal = re.compile(r"name='_'\) if l_\d+__ is missing else l_\d+__\), '")
    computed = 0
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        for lang in i18n.LANGUAGES:
            source, _file, _uptodate = environment.loader.get_source(environment, f"{lang}/{name}")
            code = environment.compile(source, f"{lang}/{name}", raw=True)
            assert not calls_with_a_literal.search(code), (lang, name)
            computed += code.count("name='_'")
        literal = LITERAL_IN_TEMPLATE.search(path.read_text(encoding="utf-8"))
        if literal:
            zh = environment.get_template(f"zh/{name}")
            assert zh.name == f"zh/{name}"
    assert computed, "computed keys are still looked up at render time"


def test_fixed_text_is_escaped_like_text_translated_at_render_time(monkeypatch) -> None:
    monkeypatch.setattr(i18n, "translator", lambda lang: lambda key: "<b>R&D</b>")
    html = _environment({"p.html": '{{ _("x") }}|{{ _(k) }}'}).get_template("zh/p.html")
    assert html.render(_=i18n.translator("zh"), k="x") == (
        "&lt;b&gt;R&amp;D&lt;/b&gt;|&lt;b&gt;R&amp;D&lt;/b&gt;"
    )


def test_a_template_outside_the_languages_is_not_found() -> None:
    with pytest.raises(TemplateNotFound):
        _environment(PAGE).get_template("page.html")
    with pytest.raises(TemplateNotFound):
        _environment(PAGE).get_template("fr/page.html")


def test_no_template_binds_the_translator_name() -> None:
    """``LiteralTranslations`` reads every ``_("key")`` as the translator: a template that
    bound ``_`` to something else would silently get catalog text instead."""
    binds = re.compile(
        r"{%-?\s*(?:set|for|with|macro\s+\w+\s*\()[^%]*?(?<![\w.])_(?![\w(])", re.DOTALL
    )
    assert binds.search("{% set _ = other %}") and binds.search("{% for x, _ in pairs %}")
    assert binds.search("{% macro row(_, b) %}") and not binds.search('{% set a = _("x") %}')
    offending = [
        path.name
        for path in TEMPLATES.rglob("*.html")
        if binds.search(path.read_text(encoding="utf-8"))
    ]
    assert not offending, offending


def _domain_error_codes() -> dict[str, str]:
    """Every domain error class of the application (all modules imported) by its code."""
    import importlib
    import pkgutil

    import debtflow
    from debtflow.core.errors import DomainError

    for module in pkgutil.walk_packages(debtflow.__path__, "debtflow."):
        if ".migrations." not in module.name:
            importlib.import_module(module.name)
    found: dict[str, str] = {}
    pending = [DomainError]
    while pending:
        kind = pending.pop()
        found.setdefault(kind.code, kind.__qualname__)
        pending.extend(kind.__subclasses__())
    return found


def test_every_domain_error_has_words_in_both_languages() -> None:
    from debtflow.web.errors import HTTP_CODES

    codes = _domain_error_codes()
    codes.update({code: f"HTTP {status}" for status, code in HTTP_CODES.items()})
    codes["csrf"] = "the CSRF check"
    assert {"case_not_found", "invalid_promise", "contact_not_permitted"} <= set(codes)
    for lang in i18n.LANGUAGES:
        missing = sorted(
            f"{code} ({name})"
            for code, name in codes.items()
            if f"error.{code}" not in i18n.catalog(lang)
        )
        assert not missing, f"{lang}: {missing}"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_refusal_reads_in_the_visitors_language_with_the_details_beneath(lang: str) -> None:
    from debtflow.core.errors import NotFound

    word = i18n.error_wording(lang)
    said = word(NotFound("case 7 does not exist"))
    assert said.headline == i18n.catalog(lang)["error.not_found"]
    assert said.detail == "case 7 does not exist"
    # a code without words, and plain text, read as the message alone
    assert word(i18n.Refusal("no_such_code", "went wrong")) == i18n.ErrorWording("went wrong")
    assert word("already translated") == i18n.ErrorWording("already translated")
