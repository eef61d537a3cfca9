"""Domain errors. Each carries the HTTP status and a message a user can act on.

They live in the pure core so that core rules (an illegal case transition, an offer
outside the mandate) can raise them; the web layer renders every one the same way.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a user is meant to read.

    ``message`` is the service's own words (English, with the details); ``params`` are the
    details as values, for a page that words them in the visitor's language (the catalogs'
    ``error.<code>.detail`` text, whose ``{name}`` fields they fill)."""

    status_code: int = 400
    code: str = "domain_error"

    def __init__(self, message: str, *, params: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.params: Mapping[str, object] = dict(params or {})


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
