"""Settings, read from the environment (prefix ``DEBTFLOW_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
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
    # strategy: the propensity model (trained from training_data when the file is missing)
    # and the rule files an operations manager may replace
    propensity_model: Path | None = None
    training_data: Path = (
        Path(__file__).resolve().parents[2] / "data" / "credit" / ("uci_credit_card_train.csv")
    )
    segmentation_rules: Path | None = None
    # the data shipped with the project (corpora, labelled sets); models trained from it
    shipped_data: Path = Path(__file__).resolve().parents[2] / "data"
    conversation_models: Path | None = None
    treatment_rules: Path | None = None
    # evidence log: the Ed25519 tree-head signing key, either a 64-hex-digit private key seed
    # or a PKCS#8 PEM file (default <data_dir>/evidence/log-signing-key.pem, created with a
    # fresh key on first use), and where attached files are stored by SHA-256
    evidence_signing_key: SecretStr | None = None
    evidence_signing_key_file: Path | None = None
    evidence_file_dir: Path | None = None

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
