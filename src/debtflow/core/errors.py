"""Domain errors. Each carries the HTTP status and a message a user can act on.

They live in the pure core so that core rules (an illegal case transition, an offer
outside the mandate) can raise them; the web layer renders every one the same way.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user is meant to read."""

    status_code: int = 400
    code: str = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
