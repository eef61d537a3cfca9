"""Dispatch: nightly assignment, real-time placement, overrides, explanations, learning,
field routes and daily metrics (see docs/dispatch.md)."""
