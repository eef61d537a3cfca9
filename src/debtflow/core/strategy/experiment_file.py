"""Champion / challenger defined without code: an experiment file (TOML) and its checks.

```toml
key = "relief-2026-12"              # also the seed of the split: a new key reshuffles cases
starts_on = 2026-12-01              # the first nightly run that assigns and treats by variant
control = "control"
description = "does 80 % interest relief pay back more?"

[[variants]]
name = "control"                    # the control keeps the treatment rules in force
weight_bp = 5000

[[variants]]
name = "more-relief"
weight_bp = 5000
treatment = "treatment-more-relief.toml"   # relative to this file, or absolute
```

A variant's ``treatment`` names a treatment rule file (the format of
``rules/treatment-v1.toml``); a challenger without one is treated like the control (an A/A
check of the split). Everything is checked when the file is loaded: unknown keys, weights
that are not whole positive basis points summing to 10,000, a control that is not one of the
variants or names a treatment file, a treatment file that is missing or broken.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from debtflow.core.strategy.experiments import Experiment, ExperimentError, Variant
from debtflow.core.strategy.treatment import (
    TreatmentRuleError,
    TreatmentRules,
    load_treatment_rules,
    parse_treatment_rules,
)

KEY_MAX = 64
"""Keys and variant names are stored on the case (``VARCHAR(64)``)."""
_TOP_KEYS = {"key", "starts_on", "control", "description", "variants"}
_VARIANT_KEYS = {"name", "weight_bp", "treatment", "description"}


class ExperimentFileError(ExperimentError):
    """An experiment file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class ExperimentPlan:
    """An experiment and what each variant changes."""

    experiment: Experiment
    starts_on: date
    treatments: Mapping[str, TreatmentRules | None]
    """By variant name: the variant's treatment rules, None for the rules in force."""
    description: str = ""
    sources: tuple[Path, ...] = ()
    """The files it was read from (the experiment file, then its treatment files)."""

    @property
    def key(self) -> str:
        return self.experiment.key

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.experiment.variants)

    def running_on(self, day: date) -> bool:
        return day >= self.starts_on


def _name(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ExperimentFileError(f"{where}: {what} must be a non-empty string")
    if len(value) > KEY_MAX:
        raise ExperimentFileError(f"{where}: {what} {value!r} is longer than {KEY_MAX} characters")
    return value


def parse_experiment(
    document: Mapping[str, Any], *, source: str = "experiment", base: Path | None = None
) -> ExperimentPlan:
    """Check an experiment document; treatment files are read relative to ``base``."""
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise ExperimentFileError(f"{source}: unknown keys: {', '.join(sorted(unknown))}")
    key = _name(document.get("key"), "'key'", source)
    starts_on = document.get("starts_on")
    if isinstance(starts_on, str):
        try:
            starts_on = date.fromisoformat(starts_on)
        except ValueError:
            starts_on = None
    if not isinstance(starts_on, date):
        raise ExperimentFileError(f"{source}: 'starts_on' must be a day (starts_on = 2026-12-01)")
    control = _name(document.get("control"), "'control'", source)
    raw_variants = document.get("variants")
    if not isinstance(raw_variants, list) or len(raw_variants) < 2:
        raise ExperimentFileError(
            f"{source}: an experiment needs at least two [[variants]] (a control and a challenger)"
        )
    variants: list[Variant] = []
    treatments: dict[str, TreatmentRules | None] = {}
    sources: list[Path] = []
    for number, raw in enumerate(raw_variants, start=1):
        where = f"{source}: variant {number}"
        if not isinstance(raw, Mapping):
            raise ExperimentFileError(f"{where}: expected a table")
        name = _name(raw.get("name"), "'name'", where)
        where = f"{source}: variant {number} ({name})"
        unknown = set(raw) - _VARIANT_KEYS
        if unknown:
            raise ExperimentFileError(f"{where}: unknown keys: {', '.join(sorted(unknown))}")
        if name in treatments:
            raise ExperimentFileError(f"{where}: the name is used twice")
        weight = raw.get("weight_bp")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            raise ExperimentFileError(
                f"{where}: weight_bp must be a whole number of basis points > 0"
            )
        variants.append(Variant(name, weight))
        treatment = raw.get("treatment")
        if treatment is None:
            treatments[name] = None
            continue
        if name == control:
            raise ExperimentFileError(
                f"{where}: the control keeps the treatment rules in force; remove 'treatment'"
            )
        if not isinstance(treatment, str) or not treatment:
            raise ExperimentFileError(f"{where}: 'treatment' must name a treatment rule file")
        treatments[name] = _treatment(treatment, base, where)
        if base is not None:
            sources.append(base / treatment)
    total = sum(v.weight_bp for v in variants)
    if total != 10_000:
        raise ExperimentFileError(
            f"{source}: variant weights sum to {total} basis points; they must sum to 10000"
        )
    if control not in treatments:
        raise ExperimentFileError(
            f"{source}: control {control!r} is not one of the variants "
            f"({', '.join(v.name for v in variants)})"
        )
    try:
        experiment = Experiment(key, tuple(variants), control)
    except ExperimentError as error:  # pragma: no cover - every case is checked above
        raise ExperimentFileError(f"{source}: {error}") from None
    description = document.get("description", "")
    if not isinstance(description, str):
        raise ExperimentFileError(f"{source}: 'description' must be a string")
    return ExperimentPlan(experiment, starts_on, treatments, description, tuple(sources))


def _treatment(name: str, base: Path | None, where: str) -> TreatmentRules:
    path = Path(name)
    if not path.is_absolute() and base is not None:
        path = base / path
    try:
        if base is None and not path.is_absolute():
            text = resources.files("debtflow.core.strategy").joinpath("rules", name)
            return parse_treatment_rules(tomllib.loads(text.read_text("utf-8")), source=name)
        return load_treatment_rules(path)
    except FileNotFoundError:
        raise ExperimentFileError(f"{where}: treatment file not found: {name}") from None
    except TreatmentRuleError as error:
        raise ExperimentFileError(f"{where}: treatment file: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ExperimentFileError(
            f"{where}: treatment file {name}: not valid TOML ({error})"
        ) from None


def load_experiment(path: Path) -> ExperimentPlan:
    """Read and check an experiment file; its treatment files are found beside it.  A
    leading UTF-8 byte-order mark is dropped."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ExperimentFileError(f"experiment file not found: {path}") from None
    except OSError as error:  # a folder, no permission
        raise ExperimentFileError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ExperimentFileError(
            f"{path}: not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ExperimentFileError(f"{path}: not valid TOML ({error})") from None
    plan = parse_experiment(document, source=str(path), base=path.parent)
    return replace(plan, sources=(path, *plan.sources))


def shipped_experiment(name: str) -> ExperimentPlan:
    """An example experiment shipped in ``debtflow/core/strategy/rules/`` (its treatment
    files are shipped beside it)."""
    text = resources.files("debtflow.core.strategy").joinpath("rules", name).read_text("utf-8")
    return parse_experiment(tomllib.loads(text), source=name)
