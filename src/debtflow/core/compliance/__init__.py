"""Compliance gate core: rule packs, the contact-policy evaluator, overrides, PIPL helpers,
QA sampling and retention. See docs/compliance.md."""
