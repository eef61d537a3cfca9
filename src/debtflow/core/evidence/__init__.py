"""Evidence chain: RFC 9162 Merkle log, canonical leaves, signed tree heads, packages.

Imports nothing on purpose: ``debtflow-verify`` loads only the modules it needs.
See docs/evidence.md.
"""
