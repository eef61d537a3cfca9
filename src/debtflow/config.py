"""Settings, read from the environment (prefix ``DEBTFLOW_``) or a ``.env`` file."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from debtflow.core.compliance.crypto import (
    PersonalDataCipher,
    PersonalDataKeyError,
    decode_key,
    encode_key,
    new_key,
    parse_key_ring,
)
from debtflow.core.strategy.buckets import DEFAULT_EDGES, BucketScheme

ENV_PREFIX = "DEBTFLOW_"


class InvalidSettings(ValueError):
    """A setting that cannot be used; the message names its environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

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
    # conversation: the script library (next best action, the case page's opening script)
    # and the collector speech-compliance rules an operations manager may replace; unset,
    # the shipped files. Read again when a file changes (docs/conversation.md)
    script_library: Path | None = None
    speech_rules: Path | None = None
    treatment_rules: Path | None = None
    # champion / challenger: an experiment file (docs/strategy.md §4); unset, no experiment
    strategy_experiment: Path | None = None
    # evidence log: the Ed25519 tree-head signing key, either a 64-hex-digit private key seed
    # or a PKCS#8 PEM file (default <data_dir>/evidence/log-signing-key.pem, created with a
    # fresh key on first use), and where attached files are stored by SHA-256
    evidence_signing_key: SecretStr | None = None
    evidence_signing_key_file: Path | None = None
    evidence_file_dir: Path | None = None
    # the newest signed tree head, kept outside the database for the audit to measure the log
    # against (default <data_dir>/evidence/latest-tree-head.json; ship it off the machine)
    evidence_anchor_file: Path | None = None
    # web: threads per worker process that run request code, and so the most requests one
    # worker works on at once (debtflow.web.slots); more wait at the door, holding nothing.
    # Below the PostgreSQL pool's 15 connections per process (5 + 10 overflow), so an admitted
    # request never waits for a connection; more threads only contend for the GIL (2: see
    # docs/web.md; raise it for slow requests, e.g. a database far away)
    web_threads: int = Field(default=2, ge=1)
    # field app: a check-in farther than this from the debtor's address is flagged "far"
    field_far_metres: int = 500
    # payments: the provider (unset: paying is unavailable; "simulated" is a development
    # provider that books without any money moving, never for production), the webhook
    # signing secret (default: a random one kept in <data_dir>/payments/webhook-secret)
    # and the signature's tolerance
    payment_provider: str | None = None
    payment_webhook_secret: SecretStr | None = None
    payment_webhook_tolerance_s: int = 300
    # personal data (ID and phone numbers) encrypted at rest: the key ring
    # "k1:<base64 32 bytes>,k2:<base64>", which key seals new values, and the blind-index
    # HMAC key (base64, >= 32 bytes). Unset: a key file <data_dir>/compliance/pii-keys.json
    # (0600) is created on first use — for development; production sets all three.
    pii_keys: SecretStr | None = None
    pii_current_key: str | None = None
    pii_index_key: SecretStr | None = None
    pii_key_file: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        """``postgresql://`` and ``postgres://`` mean psycopg 3; the kind of database and
        its driver must be known, so a mistyped URL is refused before anything connects."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                value = "postgresql+psycopg://" + value[len(prefix) :]
                break
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "is not a database URL (sqlite:///PATH or postgresql://USER@HOST/NAME)"
            ) from None
        try:
            url.get_dialect().import_dbapi()
        except NoSuchModuleError:
            raise ValueError(
                f"names an unknown kind of database {url.drivername!r} (use sqlite:///PATH "
                "or postgresql://USER@HOST/NAME)"
            ) from None
        except ImportError as exc:
            raise ValueError(f"needs a driver that is not installed ({exc})") from None
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("bucket_edges")
    @classmethod
    def _edges(cls, value: list[int]) -> list[int]:
        BucketScheme.from_edges(value)  # ValueError says what is wrong
        return value

    @model_validator(mode="after")
    def _personal_data_keys(self) -> Settings:
        if self.pii_keys is not None or self.pii_index_key is not None:
            try:
                _cipher_from_environment(self)
            except PersonalDataKeyError as exc:
                raise ValueError(
                    f"{ENV_PREFIX}PII_KEYS / {ENV_PREFIX}PII_CURRENT_KEY / "
                    f"{ENV_PREFIX}PII_INDEX_KEY: {exc}"
                ) from None
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings, checked once: a value that cannot be used raises
    :class:`InvalidSettings` naming its environment variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidSettings("; ".join(_problem(e) for e in exc.errors())) from None
    except SettingsError as exc:  # a value pydantic-settings cannot even decode (JSON)
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"{ENV_PREFIX}{field.group(1).upper()}" if field else "a setting"
        raise InvalidSettings(f"invalid setting {name}: cannot be read ({exc})") from None


def _problem(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return f"invalid setting {message}"
    name = f"{ENV_PREFIX}{str(error['loc'][0]).upper()}"
    return f"invalid setting {name}: {message}"


def pii_key_file(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.pii_key_file or settings.data_dir / "compliance" / "pii-keys.json"


_CIPHER: list[tuple[Settings, PersonalDataCipher]] = []


def personal_data_cipher() -> PersonalDataCipher:
    """The personal-data cipher of the current settings (see docs/compliance-operations.md,
    "Personal-data keys"). Built once per settings object: every stored value read or
    written goes through here, so a hit costs one identity check."""
    settings = get_settings()
    if _CIPHER and _CIPHER[0][0] is settings:
        return _CIPHER[0][1]
    cipher = _build_cipher(settings)
    _CIPHER[:] = [(settings, cipher)]
    return cipher


def forget_personal_data_cipher() -> None:
    """Rebuild the cipher on next use (after the key file changed in this process)."""
    _CIPHER.clear()


def _cipher_from_environment(settings: Settings) -> PersonalDataCipher:
    """The cipher of the key ring set in the environment (production)."""
    if settings.pii_keys is None or settings.pii_index_key is None:
        raise PersonalDataKeyError(
            "set both DEBTFLOW_PII_KEYS and DEBTFLOW_PII_INDEX_KEY (or neither, for a "
            "development key file)"
        )
    ring = parse_key_ring(settings.pii_keys.get_secret_value())
    current = settings.pii_current_key
    if current is None:
        if len(ring) != 1:
            raise PersonalDataKeyError("DEBTFLOW_PII_CURRENT_KEY must name the current key")
        current = next(iter(ring))
    index = decode_key(settings.pii_index_key.get_secret_value(), name="index")
    return PersonalDataCipher(ring, current, index)


def _build_cipher(settings: Settings) -> PersonalDataCipher:
    if settings.pii_keys is not None or settings.pii_index_key is not None:
        return _cipher_from_environment(settings)
    path = pii_key_file(settings)
    if not path.exists():
        write_pii_key_file(path, current="k1", keys={"k1": new_key()}, index_key=new_key())
    ring, current, index_key = read_pii_key_file(path)
    return PersonalDataCipher(ring, current, index_key)


def read_pii_key_file(path: Path) -> tuple[dict[str, bytes], str, bytes]:
    """The development key file's key ring, current key id and index key; a file that
    cannot be read or is not such a file is a :class:`PersonalDataKeyError` naming it."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PersonalDataKeyError(f"key file {path} cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PersonalDataKeyError(f"key file {path} is not JSON ({exc})") from None
    keys = stored.get("keys") if isinstance(stored, dict) else None
    current = stored.get("current") if isinstance(stored, dict) else None
    index = stored.get("index_key") if isinstance(stored, dict) else None
    if (
        not isinstance(keys, dict)
        or not all(isinstance(text, str) for text in keys.values())
        or not isinstance(current, str)
        or not isinstance(index, str)
    ):
        raise PersonalDataKeyError(
            f"key file {path} is not a key file (an object with current, keys and index_key)"
        )
    ring = {str(key_id): decode_key(text, name=str(key_id)) for key_id, text in keys.items()}
    return ring, current, decode_key(index, name="index")


def write_pii_key_file(
    path: Path, *, current: str, keys: dict[str, bytes], index_key: bytes, replace: bool = False
) -> None:
    """Write the development key file with mode 0600. A new file is linked into place so
    that two processes starting at once keep the first one's keys."""
    document = {
        "current": current,
        "keys": {key_id: encode_key(key) for key_id, key in keys.items()},
        "index_key": encode_key(index_key),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".pii-")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            json.dump(document, sink, indent=2)
            sink.flush()
            os.fsync(sink.fileno())
        if replace:
            os.replace(temporary, path)
            forget_personal_data_cipher()
        else:
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
