"""The strategy rules in force: the operator's segmentation and treatment files (or the
shipped ones), cached until a file changes; the champion/challenger experiment in force and
each variant's treatment rules; a fingerprint of the rules' content; the stored reasons of a
decision in the words of the rules in force."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from debtflow.config import get_settings
from debtflow.core.errors import InvalidInput
from debtflow.core.strategy.experiment_file import (
    ExperimentFileError,
    ExperimentPlan,
    load_experiment,
)
from debtflow.core.strategy.segmentation import (
    Reason,
    RuleFileError,
    SegmentationRules,
    load_rules,
    shipped_rules,
)
from debtflow.core.strategy.treatment import (
    TreatmentRuleError,
    TreatmentRules,
    load_treatment_rules,
    shipped_treatment_rules,
)


class InvalidStrategyRules(InvalidInput):
    """An operator's segmentation or treatment rule file that cannot be used."""

    code = "invalid_strategy_rules"


def _invalid(setting: str, error: Exception) -> InvalidStrategyRules:
    """One line that names the setting, the file and what is wrong with it."""
    return InvalidStrategyRules(f"invalid setting {setting}: {error}")


def _parse_strategy_rules() -> tuple[SegmentationRules, TreatmentRules]:
    settings = get_settings()
    try:
        segmentation = (
            load_rules(settings.segmentation_rules)
            if settings.segmentation_rules
            else shipped_rules()
        )
    except RuleFileError as error:
        raise _invalid("DEBTFLOW_SEGMENTATION_RULES", error) from None
    try:
        treatment = (
            load_treatment_rules(settings.treatment_rules)
            if settings.treatment_rules
            else shipped_treatment_rules()
        )
    except TreatmentRuleError as error:
        raise _invalid("DEBTFLOW_TREATMENT_RULES", error) from None
    return segmentation, treatment


_RuleStamp = tuple[str, int, int] | None

#: the strategy rules in force, by the stamp of the operator's rule files (one entry)
_STRATEGY_RULES: dict[tuple[_RuleStamp, _RuleStamp], tuple[SegmentationRules, TreatmentRules]] = {}


def _stamp(path: Path | None) -> _RuleStamp:
    if path is None:
        return None
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size)


def strategy_rules() -> tuple[SegmentationRules, TreatmentRules]:
    """The rule files in force: the operator's (settings) or the shipped ones.

    Parsed once per process and again when an operator's rule file
    (``DEBTFLOW_SEGMENTATION_RULES`` / ``DEBTFLOW_TREATMENT_RULES``) changes path, size or
    modification time — so the case page, the portal and ``explain_case`` parse no TOML per
    call and an edited rule file is still picked up on the next call. A missing or broken
    file is never cached: it raises every time."""
    settings = get_settings()
    try:
        key = (_stamp(settings.segmentation_rules), _stamp(settings.treatment_rules))
    except OSError:
        return _parse_strategy_rules()  # raises the rule file error for the missing file
    rules = _STRATEGY_RULES.get(key)
    if rules is None:
        rules = _parse_strategy_rules()
        _STRATEGY_RULES.clear()
        _STRATEGY_RULES[key] = rules
    return rules


#: the experiment in force and the stamps of the files it was read from (one entry)
_EXPERIMENT: list[tuple[ExperimentPlan, tuple[_RuleStamp, ...]]] = []


def experiment_in_force() -> ExperimentPlan | None:
    """The experiment file named by ``DEBTFLOW_STRATEGY_EXPERIMENT``, checked (None when
    unset). Parsed again only when it or one of its treatment files changes path, size or
    modification time; a missing or broken file raises :class:`ExperimentFileError` every
    time."""
    path = get_settings().strategy_experiment
    if path is None:
        return None
    if _EXPERIMENT:
        plan, stamps = _EXPERIMENT[0]
        try:
            if plan.sources[:1] == (path,) and stamps == tuple(map(_stamp, plan.sources)):
                return plan
        except OSError:
            pass
    try:
        plan = load_experiment(path)
    except ExperimentFileError as error:
        raise _invalid("DEBTFLOW_STRATEGY_EXPERIMENT", error) from None
    _EXPERIMENT[:] = [(plan, tuple(map(_stamp, plan.sources)))]
    return plan


def variant_treatment_rules(
    experiment: ExperimentPlan | None, default: TreatmentRules
) -> list[TreatmentRules]:
    """Each variant's treatment rules in the experiment's order (the rules in force where a
    variant names none); ``[default]`` without an experiment."""
    if experiment is None:
        return [default]
    return [experiment.treatments[name] or default for name in experiment.variant_names]


def treatment_rules_for(experiment_key: str | None, variant: str | None) -> TreatmentRules:
    """The treatment rules a case is treated with: its variant's, when it is in the
    experiment in force, else the rules in force (the portal and explanations use this so
    they offer what the nightly run stored)."""
    _, treatment = strategy_rules()
    if experiment_key is None or variant is None:
        return treatment
    experiment = experiment_in_force()
    if experiment is None or experiment.key != experiment_key:
        return treatment
    return experiment.treatments.get(variant) or treatment


#: fields that only word a rule for people (a rule's Chinese name): editing them decides
#: nothing differently, so they stay out of the fingerprint and re-decide no case
WORDING_FIELDS = frozenset({"name_zh"})


def _canonical(value: Any) -> Any:
    """Plain JSON-able form of parsed rules, the same in every process (sets sorted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in WORDING_FIELDS
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(_canonical(k)): _canonical(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def rules_digest(segmentation: SegmentationRules, treatment: TreatmentRules) -> str:
    """A short fingerprint of what the rules say (their parsed content)."""
    content = json.dumps(_canonical((segmentation, treatment)), sort_keys=True, default=str)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def stored_reasons(
    codes: Sequence[str] | None, segmentation: SegmentationRules
) -> tuple[Reason, ...]:
    """The reason codes stored with a case's decision, in the words of the rules in force
    (a code they no longer know reads as itself): what was decided, not what the edited
    rule would say."""
    known = {reason.code: reason for r in segmentation.rules for reason in r.reasons}
    return tuple(known.get(c, Reason(code=c, en=c, zh=c)) for c in codes or ())
