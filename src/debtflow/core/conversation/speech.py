"""Speech-compliance flags on what collectors say: rules (TOML) plus an optional model.

Every flag carries the violation, the rule that fired, the severity and the character span
(`start`, `end`, Python string indices into the utterance as given).  A per-call compliance
score starts at 100 and loses each flag's severity penalty, floored at 0.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from debtflow.core.conversation.labels import SEVERITY_PENALTY, Severity, Violation
from debtflow.core.conversation.simplified import to_simplified
from debtflow.core.conversation.textmodel import TextClassifier

MODEL_SEVERITY: dict[Violation, Severity] = {
    Violation.THREAT: Severity.CRITICAL,
    Violation.IMPERSONATION: Severity.CRITICAL,
    Violation.FALSE_LEGAL: Severity.HIGH,
    Violation.THIRD_PARTY_DISCLOSURE: Severity.HIGH,
    Violation.HARASSMENT: Severity.HIGH,
    Violation.INSULT: Severity.MEDIUM,
    Violation.BORROW_ELSEWHERE: Severity.MEDIUM,
}


class RuleFileError(ValueError):
    """The speech-rule file is not valid; the message names the rule and the problem."""


@dataclass(frozen=True)
class SpeechRule:
    id: str
    violation: Violation
    severity: Severity
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None
    note: str = ""


@dataclass(frozen=True)
class SpeechRuleSet:
    version: str
    rules: tuple[SpeechRule, ...]


@dataclass(frozen=True)
class SpeechFlag:
    violation: Violation
    rule: str
    severity: Severity
    start: int
    end: int
    excerpt: str

    def as_json(self) -> dict[str, Any]:
        return {
            "violation": self.violation.value,
            "rule": self.rule,
            "severity": self.severity.value,
            "start": self.start,
            "end": self.end,
            "excerpt": self.excerpt,
        }


# A doubled backslash before a class letter matches a backslash and the letter, never a
# digit or a space: in a single-quoted TOML string '\\d' is not '\d'.  Speech never contains
# a backslash, so such a pattern is a mistake (it silently stopped every digit rule once).
_DOUBLED_CLASS_ESCAPE = re.compile(r"\\\\[dDsSwWbB]")


def _compile(rule_id: str, field: str, value: object) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise RuleFileError(f"rule '{rule_id}': '{field}' must be a non-empty string")
    doubled = _DOUBLED_CLASS_ESCAPE.search(value)
    if doubled is not None:
        single = doubled.group(0)[1:]
        raise RuleFileError(
            f"rule '{rule_id}': '{field}' has {doubled.group(0)!s}, which matches a backslash "
            f"and a letter; in a single-quoted TOML string write {single} (one backslash)"
        )
    try:
        # the text is read as simplified before matching (``simplified``), so the pattern is
        # too: a rule an operator writes in traditional characters matches either script.
        # Only letters, digits and ideographs change, never the regex syntax.
        return re.compile(to_simplified(value), re.IGNORECASE)
    except re.error as exc:
        raise RuleFileError(
            f"rule '{rule_id}': bad regular expression in '{field}': {exc}"
        ) from exc


def parse_rules(text: str, *, source: str = "rules") -> SpeechRuleSet:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(f"{source}: not valid TOML: {exc}") from exc
    version = document.get("version")
    if not isinstance(version, str) or not version:
        raise RuleFileError(f"{source}: missing 'version' (a string)")
    if len(version) > 64:  # stored with every call alert it raises
        raise RuleFileError(f"{source}: 'version' is longer than 64 characters")
    entries = document.get("rules")
    if not isinstance(entries, list) or not entries:
        raise RuleFileError(f"{source}: no [[rules]] entries")
    seen: set[str] = set()
    rules = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise RuleFileError(f"{source}: rule #{index} is not a table")
        rule_id = entry.get("id")
        if not isinstance(rule_id, str) or not rule_id:
            raise RuleFileError(f"{source}: rule #{index} has no 'id'")
        if rule_id in seen:
            raise RuleFileError(f"{source}: rule id '{rule_id}' is used twice")
        seen.add(rule_id)
        unknown = set(entry) - {"id", "violation", "severity", "pattern", "unless", "note"}
        if unknown:
            raise RuleFileError(f"rule '{rule_id}': unknown keys {sorted(unknown)}")
        try:
            violation = Violation(str(entry.get("violation")))
        except ValueError:
            allowed = ", ".join(v.value for v in Violation)
            raise RuleFileError(
                f"rule '{rule_id}': violation {entry.get('violation')!r} is not one of {allowed}"
            ) from None
        try:
            severity = Severity(str(entry.get("severity")))
        except ValueError:
            allowed = ", ".join(s.value for s in Severity)
            raise RuleFileError(
                f"rule '{rule_id}': severity {entry.get('severity')!r} is not one of {allowed}"
            ) from None
        pattern = _compile(rule_id, "pattern", entry.get("pattern"))
        unless = _compile(rule_id, "unless", entry["unless"]) if "unless" in entry else None
        rules.append(
            SpeechRule(rule_id, violation, severity, pattern, unless, str(entry.get("note", "")))
        )
    return SpeechRuleSet(version, tuple(rules))


def load_rules(path: Path | None = None) -> SpeechRuleSet:
    """Load a rule file; by default the one shipped with debtflow.  A leading UTF-8
    byte-order mark (as Notepad writes) is dropped."""
    if path is None:
        resource = resources.files("debtflow.core.conversation").joinpath(
            "rules/collector_speech.toml"
        )
        return parse_rules(resource.read_text(encoding="utf-8"), source="collector_speech.toml")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RuleFileError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise RuleFileError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    return parse_rules(text, source=str(path))


def _exception_spans(unless: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Every match of an `unless` exception, one per start position (overlaps included)."""
    spans = []
    pos = 0
    while (found := unless.search(text, pos)) is not None:
        spans.append((found.start(), found.end()))
        pos = found.start() + 1
    return spans


def _excused(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    """The hit [start, end) overlaps or touches (no character between) an exception span."""
    return any(u_start <= end and start <= u_end for u_start, u_end in spans)


def _rule_hits(text: str, rules: SpeechRuleSet) -> list[tuple[SpeechFlag, bool]]:
    """Every rule match in `text`, with whether an exception of its rule lifts it."""
    hits = []
    for rule in rules.rules:
        spans: list[tuple[int, int]] | None = None
        for match in rule.pattern.finditer(text):
            if match.end() <= match.start():
                continue
            if spans is None:
                spans = _exception_spans(rule.unless, text) if rule.unless is not None else []
            flag = SpeechFlag(
                rule.violation,
                rule.id,
                rule.severity,
                match.start(),
                match.end(),
                match.group(0),
            )
            hits.append((flag, _excused(match.start(), match.end(), spans)))
    return hits


def rule_flags(text: str, rules: SpeechRuleSet) -> list[SpeechFlag]:
    """Every rule match, except those an exception of the same rule overlaps or touches,
    and one flag per violation for the same words.

    An exception (`unless`) lifts only the matches it overlaps or is adjacent to: with the
    exception's span [u0, u1) and the match's [m0, m1), when u0 <= m1 and m0 <= u1.  Other
    matches in the line stand ("我不是律师，我是法院的法官" is still impersonation).

    When two rules of one violation match overlapping words ("去你单位找你" is both
    threat-whereabouts and threat-come-after), the flag of the more severe rule is kept (the
    earlier rule in the file on a tie): a supervisor gets one alert for one threat, not two.
    Hits on other words of the line stay separate flags.
    """
    standing = [flag for flag, excused in _rule_hits(text, rules) if not excused]
    order = sorted(
        range(len(standing)),
        key=lambda i: (-SEVERITY_PENALTY[standing[i].severity], i),
    )
    kept: list[int] = []
    for i in order:
        flag = standing[i]
        if not any(
            standing[k].violation is flag.violation
            and standing[k].start < flag.end
            and flag.start < standing[k].end
            for k in kept
        ):
            kept.append(i)
    return [standing[i] for i in sorted(kept)]


@dataclass
class SpeechModel:
    """One binary classifier per violation; a flag when the score reaches `threshold`.

    In an utterance where a rule already caught some violation, a model flag for another
    violation needs `second_threshold`: the n-gram scores rise together on any hostile line,
    so a second, different violation needs stronger evidence.
    """

    classifiers: dict[Violation, TextClassifier]
    threshold: float = 0.9
    second_threshold: float = 0.9

    def scores(self, texts: Sequence[str]) -> dict[Violation, Any]:
        """The positive-class score per violation, one value per text."""
        features: dict[int, Any] = {}  # one transform per distinct vectorizer
        out: dict[Violation, Any] = {}
        for violation, classifier in self.classifiers.items():
            key = id(classifier.vectorizer)
            if key not in features:
                features[key] = classifier.features(texts)
            positive = classifier.classes.index("1")
            out[violation] = classifier.scores(texts, features[key])[:, positive]
        return out

    def flags(
        self, texts: Sequence[str], covered: Sequence[set[Violation]] | None = None
    ) -> list[list[SpeechFlag]]:
        """Model flags per text; `covered[i]` are the violations rules found in text i."""
        out: list[list[SpeechFlag]] = [[] for _ in texts]
        if not texts:
            return out
        for violation, scores in self.scores(texts).items():
            for i, score in enumerate(scores):
                seen = covered[i] if covered is not None else set()
                if violation in seen:
                    continue
                needed = self.threshold if not seen else max(self.threshold, self.second_threshold)
                if score >= needed:
                    out[i].append(
                        SpeechFlag(
                            violation,
                            f"model:{violation.value}",
                            MODEL_SEVERITY[violation],
                            0,
                            len(texts[i]),
                            texts[i],
                        )
                    )
        return out


def excused_violations(text: str, rules: SpeechRuleSet) -> set[Violation]:
    """Violations the model may not flag in `text` because an exception speaks for them.

    A violation is excused when the `unless` exception of one of its rules matches in `text`
    and every rule hit of that violation in `text` is lifted by an exception ("我们不是警察" is
    the exception of the impersonation rules: the compliance officer has said how such a line
    reads).  One hit that stands keeps the violation unexcused.
    """
    standing = set()
    for flag, excused in _rule_hits(text, rules):
        if not excused:
            standing.add(flag.violation)
    spoken = {
        rule.violation
        for rule in rules.rules
        if rule.unless is not None and rule.unless.search(text)
    }
    return spoken - standing


def check_utterances(
    texts: Sequence[str], rules: SpeechRuleSet, model: SpeechModel | None = None
) -> list[list[SpeechFlag]]:
    """Flags per utterance: every rule hit, plus model flags for violations no rule caught.
    Traditional characters are read as simplified (spans and excerpts are of the text as
    given).

    A model flag is also dropped when an `unless` exception of a rule of the same violation
    matches and no rule hit of that violation stands (see `excused_violations`), and needs
    the model's `second_threshold` when rules already caught another violation in the
    utterance.
    """
    plain = [to_simplified(text) for text in texts]  # traditional read as simplified
    out = [rule_flags(text, rules) for text in plain]
    if model is not None and plain:
        found = [{f.violation for f in flags} for flags in out]
        extra = model.flags(plain, found)
        for text, flags, seen, more in zip(plain, out, found, extra, strict=True):
            if more:
                excused = excused_violations(text, rules)
                flags.extend(f for f in more if f.violation not in seen | excused)
    # the same positions, the words as they were said
    return [
        [replace(flag, excerpt=text[flag.start : flag.end]) for flag in flags]
        for text, flags in zip(texts, out, strict=True)
    ]


def compliance_score(flags: Iterable[SpeechFlag]) -> int:
    """100 minus, for each violation found in the utterance, its worst severity penalty."""
    worst: dict[Violation, int] = {}
    for flag in flags:
        penalty = SEVERITY_PENALTY[flag.severity]
        worst[flag.violation] = max(worst.get(flag.violation, 0), penalty)
    return max(0, 100 - sum(worst.values()))
