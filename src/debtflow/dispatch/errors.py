"""What dispatch refuses, each with its HTTP status (see ``debtflow.core.errors``)."""

from __future__ import annotations

from debtflow.core.errors import Conflict, NotFound


class CaseNotFound(NotFound):
    code = "case_not_found"


class CollectorNotFound(NotFound):
    code = "collector_not_found"


class CaseNotOpen(Conflict):
    code = "case_not_open"


class AlreadyAssigned(Conflict):
    code = "already_assigned"


class NoCollectorFree(Conflict):
    code = "no_collector_free"


class NotYetDispatched(Conflict):
    code = "not_yet_dispatched"


class PromisePending(Conflict):
    code = "promise_pending"


class CollectorFull(Conflict):
    code = "collector_full"
