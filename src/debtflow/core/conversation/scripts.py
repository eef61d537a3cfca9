"""Next best action: a versioned zh-CN script library chosen by emotion × intent × segment.

The library is a TOML file operations managers edit without code (see
`script_library/library.toml` and docs/conversation.md).  It is validated when loaded: unknown
labels, unknown placeholders, duplicate ids, a library with no catch-all script, or one
that could tell a third party or a wrong number about the debt are reported with the
script id.  A script whose placeholders cannot be filled for this case
(e.g. it quotes a plan and the case has none) is skipped in favour of the next one.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from debtflow.core.conversation.labels import Emotion, Intent, OverdueCause, Segment
from debtflow.core.money import fen_to_yuan

PLACEHOLDERS: dict[str, str] = {
    "debtor_name": "the debtor's name as addressed (e.g. 张先生)",
    "creditor_name": "the creditor",
    "agent_name": "the collector's name",
    "outstanding": "amount overdue, yuan with two decimals",
    "instalment_count": "number of instalments in the plan offer",
    "instalment_amount": "one instalment, yuan with two decimals",
    "monthly_saving": "current monthly due minus the instalment, yuan",
    "monthly_saving_pct": "that saving as a whole percentage of the current monthly due",
    "extension_days": "days of extension in the plan offer",
    "agreed_instalment_count": "number of monthly instalments of the plan the debtor signed",
    "agreed_instalment_amount": "the signed plan's monthly instalment, yuan",
    "next_due_date": "due date of the signed plan's next payment (2026年12月29日)",
    "next_due_amount": "what is still owed on that payment, yuan",
}

PLAN_PLACEHOLDERS = frozenset(
    {"instalment_count", "instalment_amount", "monthly_saving", "monthly_saving_pct"}
)

# Someone other than the debtor is on the line: the script may say nothing about the debt.
NON_DEBTOR_INTENTS = frozenset({Intent.THIRD_PARTY, Intent.WRONG_NUMBER})

# Words that give away a debt; a script for a non-debtor may contain none of them.
DEBT_WORDS = (
    "欠",
    "逾期",
    "还款",
    "还钱",
    "账单",
    "账款",
    "债",
    "催收",
    "元",
    "分期",
    "借款",
    "贷",
    "利息",
    "罚息",
    "征信",
    "金额",
    "信用卡",
    "起诉",
)


class ScriptLibraryError(ValueError):
    """The script library is not valid; the message names the script and the problem."""


@dataclass(frozen=True)
class PlanOffer:
    """An instalment offer from the treatment plan, in integer fen."""

    instalment_count: int
    instalment_fen: int
    current_monthly_fen: int
    extension_days: int = 0

    def __post_init__(self) -> None:
        if self.instalment_count < 1:
            raise ValueError("instalment_count must be at least 1")
        if self.instalment_fen <= 0 or self.current_monthly_fen <= 0:
            raise ValueError("instalment_fen and current_monthly_fen must be positive")

    @property
    def monthly_saving_fen(self) -> int:
        return max(0, self.current_monthly_fen - self.instalment_fen)


@dataclass(frozen=True)
class AgreedPlan:
    """The repayment plan the debtor has signed and is paying, in integer fen: a script
    speaks of it (the next payment due) and never offers another plan beside it."""

    instalment_count: int
    instalment_fen: int
    #: the next payment not yet covered, and what is still owed on it (None: all paid)
    next_due: date | None = None
    next_due_fen: int = 0


@dataclass(frozen=True)
class CaseContext:
    """What a script may quote about the case.  Unknown values stay None.  ``plan`` is an
    offer to make; ``agreed`` the plan already signed (with one, no offer is made)."""

    debtor_name: str | None = None
    creditor_name: str | None = None
    agent_name: str | None = None
    outstanding_fen: int | None = None
    segment: Segment | None = None
    plan: PlanOffer | None = None
    agreed: AgreedPlan | None = None


@dataclass(frozen=True)
class Script:
    id: str
    text: str
    purpose: str
    priority: int
    intents: frozenset[Intent] = frozenset()
    emotions: frozenset[Emotion] = frozenset()
    segments: frozenset[Segment] = frozenset()
    causes: frozenset[OverdueCause] = frozenset()
    hesitant: bool | None = None
    max_willingness: float | None = None
    placeholders: frozenset[str] = field(default_factory=frozenset)
    #: the purpose in Chinese, for the agent's page in Chinese (``purpose_zh`` in the file;
    #: optional: without it a Chinese page names the script by its id alone)
    purpose_zh: str | None = None

    @property
    def only_intents(self) -> bool:
        """No condition beyond `intents`."""
        return (
            not self.emotions
            and not self.segments
            and not self.causes
            and self.hesitant is None
            and self.max_willingness is None
        )

    def disclosure(self) -> str | None:
        """What in the text would tell a non-debtor about the debt, or None."""
        if self.placeholders:
            return "placeholder {" + min(self.placeholders) + "}"
        words = [w for w in DEBT_WORDS if w in self.text]
        return f"debt word {words[0]!r}" if words else None

    @property
    def is_catch_all(self) -> bool:
        return (
            not self.intents
            and not self.emotions
            and not self.segments
            and not self.causes
            and self.hesitant is None
            and self.max_willingness is None
            and not self.placeholders
        )


@dataclass(frozen=True)
class ScriptLibrary:
    version: str
    locale: str
    scripts: tuple[Script, ...]


@dataclass(frozen=True)
class NextAction:
    script_id: str
    library_version: str
    purpose: str
    text: str
    purpose_zh: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "script_id": self.script_id,
            "library_version": self.library_version,
            "purpose": self.purpose,
            "purpose_zh": self.purpose_zh,
            "text": self.text,
        }


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals (no float arithmetic)."""
    return fen_to_yuan(fen)


def _labels(script_id: str, key: str, value: object, enum: Any) -> frozenset[Any]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScriptLibraryError(f"script '{script_id}': '{key}' must be a list of strings")
    out = set()
    for item in value:
        try:
            out.add(enum(item))
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise ScriptLibraryError(
                f"script '{script_id}': {key} entry {item!r} is not one of {allowed}"
            ) from None
    return frozenset(out)


# Typos that would otherwise load and be read out literally: a name in full-width braces
# (either side), or a placeholder name in doubled braces (str.format's escape for "{").
_FULL_WIDTH = re.compile(r"(?:｛\s*([A-Za-z_]\w*)\s*[｝}])|(?:\{\s*([A-Za-z_]\w*)\s*｝)", re.ASCII)
_DOUBLED = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _placeholders(script_id: str, text: str) -> frozenset[str]:
    typo = _FULL_WIDTH.search(text)
    if typo is not None:
        raise ScriptLibraryError(
            f"script '{script_id}': {typo.group(0)} uses full-width braces; "
            f"write {{{typo.group(1) or typo.group(2)}}}"
        )
    for doubled in _DOUBLED.finditer(text):
        if doubled.group(1) in PLACEHOLDERS:
            raise ScriptLibraryError(
                f"script '{script_id}': {doubled.group(0)} has doubled braces and would be "
                f"read out as text; write {{{doubled.group(1)}}}"
            )
    names = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ScriptLibraryError(f"script '{script_id}': bad braces in text ({exc})") from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            allowed = ", ".join(sorted(PLACEHOLDERS))
            raise ScriptLibraryError(
                f"script '{script_id}': unknown placeholder {{{name}}}; allowed: {allowed}"
            )
        names.add(name)
    return frozenset(names)


_KEYS = {
    "id",
    "purpose",
    "purpose_zh",
    "text",
    "priority",
    "intents",
    "emotions",
    "segments",
    "causes",
    "hesitant",
    "max_willingness",
}


def parse_library(text: str, *, source: str = "library") -> ScriptLibrary:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptLibraryError(f"{source}: not valid TOML: {exc}") from exc
    version = document.get("version")
    if not isinstance(version, str) or not version:
        raise ScriptLibraryError(f"{source}: missing 'version' (a string)")
    locale = document.get("locale", "zh-CN")
    entries = document.get("scripts")
    if not isinstance(entries, list) or not entries:
        raise ScriptLibraryError(f"{source}: no [[scripts]] entries")
    scripts = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ScriptLibraryError(f"{source}: script #{index} is not a table")
        script_id = entry.get("id")
        if not isinstance(script_id, str) or not script_id:
            raise ScriptLibraryError(f"{source}: script #{index} has no 'id'")
        if script_id in seen:
            raise ScriptLibraryError(f"{source}: script id '{script_id}' is used twice")
        seen.add(script_id)
        unknown = set(entry) - _KEYS
        if unknown:
            raise ScriptLibraryError(f"script '{script_id}': unknown keys {sorted(unknown)}")
        body = entry.get("text")
        if not isinstance(body, str) or not body.strip():
            raise ScriptLibraryError(f"script '{script_id}': 'text' must be a non-empty string")
        purpose_zh = entry.get("purpose_zh")
        if purpose_zh is not None and (not isinstance(purpose_zh, str) or not purpose_zh.strip()):
            raise ScriptLibraryError(
                f"script '{script_id}': 'purpose_zh' must be a non-empty string when given"
            )
        priority = entry.get("priority", 0)
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise ScriptLibraryError(f"script '{script_id}': 'priority' must be an integer")
        hesitant = entry.get("hesitant")
        if hesitant is not None and not isinstance(hesitant, bool):
            raise ScriptLibraryError(f"script '{script_id}': 'hesitant' must be true or false")
        ceiling = entry.get("max_willingness")
        if ceiling is not None and (
            isinstance(ceiling, bool)
            or not isinstance(ceiling, int | float)
            or not 0 <= ceiling <= 1
        ):
            raise ScriptLibraryError(
                f"script '{script_id}': 'max_willingness' must be a number from 0 to 1"
            )
        scripts.append(
            Script(
                id=script_id,
                text=body.strip(),
                purpose=str(entry.get("purpose", "")),
                purpose_zh=None if purpose_zh is None else purpose_zh.strip(),
                priority=priority,
                intents=_labels(script_id, "intents", entry.get("intents"), Intent),
                emotions=_labels(script_id, "emotions", entry.get("emotions"), Emotion),
                segments=_labels(script_id, "segments", entry.get("segments"), Segment),
                causes=_labels(script_id, "causes", entry.get("causes"), OverdueCause),
                hesitant=hesitant,
                max_willingness=None if ceiling is None else float(ceiling),
                placeholders=_placeholders(script_id, body),
            )
        )
    if not any(s.is_catch_all for s in scripts):
        raise ScriptLibraryError(
            f"{source}: needs a catch-all script (no conditions, no placeholders) "
            "so every utterance gets a next action"
        )
    _check_non_debtor_scripts(scripts, source)
    ordered = sorted(scripts, key=lambda s: (-s.priority, s.id))
    return ScriptLibrary(version, str(locale), tuple(ordered))


def _check_non_debtor_scripts(scripts: list[Script], source: str) -> None:
    """A third party or a wrong number must always get a script that reveals no debt.

    Every script naming such an intent must be free of placeholders and debt words, and each
    intent needs one with no condition beyond the intent, so one always matches.  Scripts
    that do not name the intent (the catch-all included) are never chosen for it.
    """
    for script in scripts:
        named = sorted(script.intents & NON_DEBTOR_INTENTS)
        problem = script.disclosure()
        if named and problem:
            raise ScriptLibraryError(
                f"script '{script.id}': is for {', '.join(named)} (someone other than the "
                f"debtor) but its text discloses the debt ({problem})"
            )
    for intent in sorted(NON_DEBTOR_INTENTS):
        if not any(intent in s.intents and s.only_intents for s in scripts):
            raise ScriptLibraryError(
                f"{source}: no script for {intent} that reveals nothing about the debt — "
                f'add one with intents = ["{intent}"], no other condition, no placeholders '
                "and no debt words"
            )


def load_library(path: Path | None = None) -> ScriptLibrary:
    """Load a script library; by default the one shipped with debtflow.  A leading UTF-8
    byte-order mark (as Notepad writes) is dropped."""
    if path is None:
        resource = resources.files("debtflow.core.conversation").joinpath(
            "script_library/library.toml"
        )
        return parse_library(resource.read_text(encoding="utf-8"), source="library.toml")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScriptLibraryError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ScriptLibraryError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    return parse_library(text, source=str(path))


def _values(case: CaseContext) -> dict[str, str]:
    values: dict[str, str] = {}
    if case.debtor_name:
        values["debtor_name"] = case.debtor_name
    if case.creditor_name:
        values["creditor_name"] = case.creditor_name
    if case.agent_name:
        values["agent_name"] = case.agent_name
    if case.outstanding_fen is not None:
        values["outstanding"] = yuan(case.outstanding_fen)
    agreed = case.agreed
    if agreed is not None:
        if agreed.instalment_count > 0 and agreed.instalment_fen > 0:
            values["agreed_instalment_count"] = str(agreed.instalment_count)
            values["agreed_instalment_amount"] = yuan(agreed.instalment_fen)
        if agreed.next_due is not None and agreed.next_due_fen > 0:
            day = agreed.next_due
            values["next_due_date"] = f"{day.year}年{day.month}月{day.day}日"
            values["next_due_amount"] = yuan(agreed.next_due_fen)
    plan = None if agreed is not None else case.plan  # a signed plan is never re-offered
    if plan is not None:
        values["instalment_count"] = str(plan.instalment_count)
        values["instalment_amount"] = yuan(plan.instalment_fen)
        if plan.monthly_saving_fen > 0:
            values["monthly_saving"] = yuan(plan.monthly_saving_fen)
            pct = (plan.monthly_saving_fen * 100 + plan.current_monthly_fen // 2) // (
                plan.current_monthly_fen
            )
            values["monthly_saving_pct"] = str(pct)
        if plan.extension_days > 0:
            values["extension_days"] = str(plan.extension_days)
    return values


def choose_script(
    library: ScriptLibrary,
    *,
    emotion: Emotion,
    intent: Intent,
    case: CaseContext,
    cause: OverdueCause | None = None,
    hesitant: bool = False,
    willingness: float = 0.5,
) -> NextAction:
    """The highest-priority script whose conditions hold and whose placeholders can be filled."""
    values = _values(case)
    for script in library.scripts:
        if script.intents and intent not in script.intents:
            continue
        if intent in NON_DEBTOR_INTENTS and intent not in script.intents:
            continue  # only scripts checked as safe for a non-debtor (never the catch-all)
        if script.emotions and emotion not in script.emotions:
            continue
        if script.segments and (case.segment is None or case.segment not in script.segments):
            continue
        if script.causes and (cause is None or cause not in script.causes):
            continue
        if script.hesitant is not None and script.hesitant != hesitant:
            continue
        if script.max_willingness is not None and willingness > script.max_willingness:
            continue
        if not script.placeholders <= values.keys():
            continue
        return NextAction(
            script.id,
            library.version,
            script.purpose,
            script.text.format(**values),
            script.purpose_zh,
        )
    raise ScriptLibraryError("no script matched and the library has no usable catch-all")
