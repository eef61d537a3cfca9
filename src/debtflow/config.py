"""Settings, read from the environment (prefix ``DEBTFLOW_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from debtflow.core.strategy.buckets import DEFAULT_EDGES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEBTFLOW_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./debtflow.db"
    # upper day limits of M1..M5; beyond the last edge is M6+
    bucket_edges: list[int] = Field(default_factory=lambda: list(DEFAULT_EDGES))
    default_timezone: str = "Asia/Shanghai"
    data_dir: Path = Path("var")
    # promises: days of grace after the due date, and an underpayment still counted as kept
    promise_grace_days: int = 3
    promise_tolerance_fen: int = 100
    sql_echo: bool = False

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        """``postgresql://`` and ``postgres://`` mean psycopg 3."""
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
