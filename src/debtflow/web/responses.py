"""JSON responses built in the endpoint's own thread, for the busiest API routes.

A synchronous endpoint that returns a model has FastAPI validate it once more (the route's
``response_model``) in a *second* pool thread, then serialise it on the event loop — a
thread hand-off and a second validation per request, before the transaction commits. The
contact decision and contact log routes, which dialers call for every number, return
:func:`model_json` instead: the model is validated once from the service's object and
written as JSON where the endpoint runs. The route keeps its ``response_model`` for the
OpenAPI document, and the body is the same JSON.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def model_json(model: type[BaseModel], value: object, *, status_code: int = 200) -> Response:
    """``value`` (an ORM object or anything with the model's attributes) as ``model`` JSON."""
    body = model.model_validate(value, from_attributes=True).model_dump_json(by_alias=True)
    return Response(content=body, status_code=status_code, media_type="application/json")
