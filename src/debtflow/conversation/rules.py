"""The script library and collector speech rules in force: an operations manager's files
(``DEBTFLOW_SCRIPT_LIBRARY`` / ``DEBTFLOW_SPEECH_RULES``) or the shipped ones.

Each file is parsed once per process and again when it changes path, size or modification
time or another file is moved in its place, so an edited file is used from the next request
on without a restart. A file that cannot be used (missing, unreadable, not UTF-8, not valid
TOML, or refused by the checks of ``core.conversation.scripts`` /
``core.conversation.speech``) raises :class:`InvalidConversationRules` naming the file and
the problem — every time: a broken file is never cached and never silently replaced by the
shipped one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from debtflow.config import get_settings
from debtflow.core.conversation.scripts import ScriptLibrary, ScriptLibraryError, load_library
from debtflow.core.conversation.speech import RuleFileError, SpeechRuleSet, load_rules
from debtflow.core.errors import InvalidInput

LIBRARY_SETTING = "DEBTFLOW_SCRIPT_LIBRARY"
SPEECH_RULES_SETTING = "DEBTFLOW_SPEECH_RULES"


class InvalidConversationRules(InvalidInput):
    """A script library or speech-rule file that cannot be used. 503: the operator's file is
    at fault, not the request — a telephony system posting a call's utterances must see a
    failure it retries, never a client error it drops."""

    code = "invalid_conversation_rules"
    status_code = 503


def _problem(kind: str, path: Path | None, setting: str | None, error: Exception) -> str:
    """One line: what file, named by which setting, and what is wrong with it."""
    message = str(error)
    if path is None:
        return f"the shipped {kind}: {message}"
    where = f"{kind} {path}" + (f" ({setting})" if setting else "")
    return f"{where}: {message.removeprefix(f'{path}: ')}"


def read_library(path: Path | None, *, setting: str | None = None) -> ScriptLibrary:
    """The script library in ``path`` (None: the shipped one), checked; ``setting`` names
    the environment variable the path came from, for the error message."""
    try:
        return load_library(path)
    except ScriptLibraryError as error:
        raise InvalidConversationRules(_problem("script library", path, setting, error)) from None


def read_speech_rules(path: Path | None, *, setting: str | None = None) -> SpeechRuleSet:
    """The speech-rule file in ``path`` (None: the shipped one), checked."""
    try:
        return load_rules(path)
    except RuleFileError as error:
        raise InvalidConversationRules(_problem("speech rules", path, setting, error)) from None


_Stamp = tuple[str, int, int, int] | None
T = TypeVar("T")

#: the parsed file in force, by the stamp of the file it was read from (one entry each)
_LIBRARY: dict[_Stamp, ScriptLibrary] = {}
_SPEECH_RULES: dict[_Stamp, SpeechRuleSet] = {}


def _stamp(path: Path | None) -> _Stamp:
    if path is None:
        return None
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _in_force(path: Path | None, cache: dict[_Stamp, T], read: Callable[[], T]) -> T:
    try:
        key = _stamp(path)
    except OSError:
        return read()  # raises the file's error (missing, unreadable)
    found = cache.get(key)
    if found is None:
        found = read()
        cache.clear()
        cache[key] = found
    return found


def script_library() -> ScriptLibrary:
    """The script library in force: ``DEBTFLOW_SCRIPT_LIBRARY``, else the shipped one."""
    path = get_settings().script_library
    return _in_force(path, _LIBRARY, lambda: read_library(path, setting=LIBRARY_SETTING))


def speech_rules() -> SpeechRuleSet:
    """The collector speech rules in force: ``DEBTFLOW_SPEECH_RULES``, else the shipped
    ones."""
    path = get_settings().speech_rules
    return _in_force(
        path, _SPEECH_RULES, lambda: read_speech_rules(path, setting=SPEECH_RULES_SETTING)
    )
