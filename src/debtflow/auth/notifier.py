"""How one-time codes reach a debtor. Production plugs in an SMS gateway; development
writes the code to the console and to ``<data_dir>/notifications/one-time-codes.log``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Protocol

from debtflow.config import get_settings


class Notifier(Protocol):
    def send_code(self, *, phone: str, code: str, expires_at: datetime) -> None: ...


class DevelopmentNotifier:
    """Never sends anything: prints the code and appends it to a file a tester can read."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path(get_settings().data_dir) / "notifications" / "one-time-codes.log"

    def send_code(self, *, phone: str, code: str, expires_at: datetime) -> None:
        line = f"{datetime.now().astimezone().isoformat()} to {phone}: code {code} valid until "
        line += expires_at.isoformat()
        sys.stderr.write(f"[debtflow dev notifier] {line}\n")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def default_notifier() -> Notifier:
    return DevelopmentNotifier()
