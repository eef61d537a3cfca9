"""Page text in zh-CN (first) and English, from Babel (gettext) catalogs.

The catalogs are ``web/locale/<locale>/LC_MESSAGES/messages.po``: one per language, message
ids are stable keys (``accounts``, ``role.online_agent``) and each ``msgstr`` is the text.
Translators edit the ``.po`` files with any gettext tool (Poedit, ``pybabel``); a test
checks that both catalogs have the same keys, none empty, and that every literal key the
templates and pages use is in them. The language comes from the ``lang`` cookie set by
``/lang/{code}``; a missing key shows the key itself (without its group prefix), so gaps
are visible.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from fastapi import Request

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


def i18n_context(request: Request) -> dict[str, Any]:
    lang = language(request)
    return {"_": translator(lang), "lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en"}
