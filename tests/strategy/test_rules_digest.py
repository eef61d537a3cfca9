"""The rules' fingerprint (stored with every decision, a change re-decides the cases) covers
what the rules decide, not how a rule is worded for people."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from debtflow.core.strategy import segmentation
from debtflow.core.strategy.segmentation import parse_rules
from debtflow.strategy.rules import rules_digest, strategy_rules

SHIPPED = Path(segmentation.__file__).parent / "rules" / "segmentation-v1.toml"


def test_a_rules_chinese_name_does_not_change_the_fingerprint_but_its_name_does() -> None:
    shipped, treatment = strategy_rules()
    rules = parse_rules(tomllib.loads(SHIPPED.read_text(encoding="utf-8")))
    renamed = dataclasses.replace(
        rules,
        rules=tuple(
            dataclasses.replace(r, name_zh=f"{r.name_zh or r.name}（改）") for r in rules.rules
        ),
    )
    assert rules_digest(renamed, treatment) == rules_digest(rules, treatment)
    first = rules.rules[0]
    retuned = dataclasses.replace(
        rules, rules=(dataclasses.replace(first, name="x"), *rules.rules[1:])
    )
    assert rules_digest(retuned, treatment) != rules_digest(rules, treatment)
    assert shipped.version == rules.version
