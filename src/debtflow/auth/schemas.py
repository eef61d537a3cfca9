"""Auth shapes of the JSON API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from debtflow.models import Role


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    collector_id: int | None
    debtor_id: int | None


class CodeRequest(BaseModel):
    phone: str = Field(min_length=5, max_length=32)
