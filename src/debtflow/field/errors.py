"""What the field app refuses, each with the HTTP status it answers with.

Visit requests that are empty, too long or duplicate an open one; acts on a closed case; a
user who is not a field collector; a route that does not exist for the asker; a check-in at no
real position, an outcome without a check-in or recorded twice, a new check-in while the last
visit is still open; files sent before a check-in, empty, too large or not a photo or
recording. The domain errors of ``debtflow.core.errors`` carry the status code and the
machine-readable ``code``.
"""

from __future__ import annotations

from debtflow.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


class InvalidVisitRequest(InvalidInput):
    code = "invalid_visit_request"


class DuplicateVisitRequest(Conflict):
    code = "duplicate_visit_request"


class CaseClosed(Conflict):
    code = "case_closed"


class NotAFieldCollector(Forbidden):
    code = "not_field_collector"


class RouteNotFound(NotFound):
    code = "route_not_found"


class InvalidCheckin(InvalidInput):
    code = "invalid_checkin"


class CheckinRequired(Conflict):
    code = "checkin_required"


class UploadNeedsCheckin(CheckinRequired):
    """A photo or recording sent before today's check-in at the stop (the same 409 as an
    outcome, in words about uploading)."""

    code = "checkin_required_for_upload"


class VisitStillOpen(Conflict):
    code = "visit_still_open"


class OutcomeAlreadyRecorded(Conflict):
    code = "outcome_already_recorded"


class InvalidOutcome(InvalidInput):
    code = "invalid_outcome"


class FileTooLarge(DomainError):
    status_code = 413
    code = "file_too_large"


class EmptyFile(InvalidInput):
    code = "empty_file"


class UnsupportedMedia(DomainError):
    status_code = 415
    code = "unsupported_media_type"
