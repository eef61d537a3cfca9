"""Page text in zh-CN (first) and English, from Babel (gettext) catalogs.

The catalogs are ``web/locale/<locale>/LC_MESSAGES/messages.po``: one per language, message
ids are stable keys (``accounts``, ``role.online_agent``) and each ``msgstr`` is the text.
Translators edit the ``.po`` files with any gettext tool (Poedit, ``pybabel``); a test
checks that both catalogs have the same keys, none empty, and that every literal key the
templates and pages use is in them. The language comes from the ``lang`` cookie set by
``/lang/{code}``; a missing key shows the key itself (without its group prefix), so gaps
are visible.

A literal key (``_("accounts")``) is translated once, when a template is compiled: every
template is compiled per language (``zh/case.html``, ``en/case.html``,
``LanguageEnvironment``) and ``LiteralTranslations`` replaces the call with its text, so a
page pays nothing at render time for its fixed wording. A computed key
(``_("state." ~ case.status.value)``) is still looked up as the page renders, through the
``_`` of ``i18n_context``; both give the same text for the same key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from fastapi import Request
from jinja2 import BaseLoader, Environment, TemplateNotFound
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = {"zh": "zh_CN", "en": "en"}


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / LOCALES[lang] / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> dict[str, str]:
    """Key -> text of one language's catalog (read once per process)."""
    with catalog_path(lang).open("rb") as po:
        messages = read_po(po, locale=LOCALES[lang])
    return {
        str(message.id): str(message.string)
        for message in messages
        if message.id and isinstance(message.id, str) and message.string
    }


def group_texts(lang: str, group: str) -> dict[str, str]:
    """The texts of one group of keys (``gate`` → ``{"quiet_hours": "…", …}``), for a
    script that words codes the server answers with (``static/field.js``)."""
    prefix = f"{group}."
    texts = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    return {key[len(prefix) :]: text for key, text in texts.items() if key.startswith(prefix)}


def language(request: Request) -> str:
    lang = request.cookies.get("lang", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[[str], str]:
    texts = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)

    def translate(key: str) -> str:
        """The text for ``key``; an unknown ``group.value`` shows ``value``."""
        text = texts.get(key)
        return text if text is not None else key.split(".", 1)[-1]

    return translate


@dataclass(frozen=True)
class Refusal:
    """A refusal that is not a domain error (an invalid request, a value out of range), in
    the shape a page shows: its ``code`` and the ``message`` with the details."""

    code: str
    message: str


@dataclass(frozen=True)
class ErrorWording:
    """A refusal as a page shows it: ``headline`` in the visitor's language, ``detail`` the
    service's own words (the amounts, the limits) when the headline is the catalog's."""

    headline: str
    detail: str | None = None


def error_wording(lang: str) -> Callable[[Any], ErrorWording]:
    """Words for a refusal: a domain error (anything with ``code`` and ``message``) reads as
    the catalog's ``error.<code>`` with its message beneath — or, where the catalog has an
    ``error.<code>.detail`` text and the error carries ``params``, that text filled with
    them (a list joined with the catalog's ``list_separator``), so the details read in the
    visitor's language too; without a catalog text, or for plain text, the message alone."""
    texts = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)

    def word(error: Any) -> ErrorWording:
        message = str(getattr(error, "message", error))
        code = getattr(error, "code", "")
        said = texts.get(f"error.{code}")
        if said is None or said == message:
            return ErrorWording(message)
        params = getattr(error, "params", None)
        detail = texts.get(f"error.{code}.detail")
        if params and detail is not None:
            separator = texts.get("list_separator", ", ")
            values = {
                name: separator.join(map(str, value))
                if isinstance(value, list | tuple)
                else str(value)
                for name, value in params.items()
            }
            try:
                return ErrorWording(said, detail.format_map(values))
            except (KeyError, ValueError, IndexError):
                pass  # a catalog text naming a field the error does not carry
        return ErrorWording(said, message)

    return word


def i18n_context(request: Request) -> dict[str, Any]:
    lang = language(request)
    return {
        "_": translator(lang),
        "error_words": error_wording(lang),
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh" else "en",
    }


def _language_of(template_name: str | None) -> str | None:
    lang, slash, _rest = (template_name or "").partition("/")
    return lang if slash and lang in LANGUAGES else None


class LanguageLoader(BaseLoader):
    """``<lang>/<name>``: the template ``name`` of ``pages`` (one file for every language),
    compiled under its full name so that ``LiteralTranslations`` knows the language."""

    def __init__(self, pages: BaseLoader) -> None:
        self.pages = pages

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if _language_of(template) is None:
            raise TemplateNotFound(template)
        return self.pages.get_source(environment, template.split("/", 1)[1])

    def list_templates(self) -> list[str]:
        return [f"{lang}/{name}" for lang in LANGUAGES for name in self.pages.list_templates()]


class LanguageEnvironment(Environment):
    """Templates addressed as ``<lang>/<name>`` (``zh/case.html``): a template's
    ``{% extends "base.html" %}`` or ``{% include … %}`` is the same language's
    (``zh/base.html``), so a page is compiled, cached and rendered per language."""

    def join_path(self, template: str, parent: str) -> str:
        lang = _language_of(parent)
        if lang is None or _language_of(template) is not None:
            return template
        return f"{lang}/{template}"


class LiteralTranslations(Extension):
    """At compile time, ``_("key")`` with a literal key becomes the text of ``key`` in the
    template's language (from its name, ``zh/…``); Jinja then writes it, escaped, into the
    compiled page as fixed text. Anything else — ``_(computed)``, a template without a
    language — is left to the ``_`` of the page's context. ``_`` is the translator in every
    template: a template that binds the name itself (``{% set _ = … %}``, a loop or macro
    variable) would still get catalog text for its literal calls, so none may
    (tests/web/test_i18n.py)."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        lang = _language_of(stream.name)
        if lang is None:
            yield from stream
            return
        translate = translator(lang)
        tokens = list(stream)
        at = 0
        while at < len(tokens):
            token = tokens[at]
            call = tokens[at : at + 4]
            if (
                token.type == TOKEN_NAME
                and token.value == "_"
                and [t.type for t in call] == [TOKEN_NAME, TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN]
                and (at == 0 or tokens[at - 1].type != TOKEN_DOT)  # not ``something._("…")``
            ):
                yield Token(token.lineno, TOKEN_STRING, translate(call[2].value))
                at += 4
            else:
                yield token
                at += 1
