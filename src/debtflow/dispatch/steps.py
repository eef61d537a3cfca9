"""The nightly steps of dispatch, registered on import (listed in ``STEP_MODULES``):
``dispatch`` (60), ``route`` (70) and ``dispatch_metrics`` (75)."""

from __future__ import annotations

from debtflow.dispatch import field_routes, metrics, service

__all__ = ["field_routes", "metrics", "service"]
