"""Gate decisions per second on PostgreSQL with 1,000,000 contact-history rows, beside the
pure-core decision rate measured in the same run on the same intents and histories.

A fresh database (``debtflow_bench_…`` on the test server, or ``--database-url``) is
migrated and filled through COPY: debtors, their cases, and ``--rows`` contact attempts
(each with its gate decision, so the NOT NULL decision and the permission trigger are
live) spread over the last 90 days, by seven parties, on every channel. Then:

* core: ``evaluate()`` on each intent with its debtor's history slice already in memory;
* db, 1 worker: ``request_contact`` end to end — per-debtor lock, history and restrictions
  (one query), the decision stored, one COMMIT per decision (what the API does);
* db, N workers: the same from N processes, each with its own connection;
* db, batches: ``request_contacts`` with ``--batch`` asks per transaction (a dialer asking
  for its next numbers), from 1 and from N processes.

The target (≥ 2,000 decisions/s) is for the database path; the ratio column is against the
core rate of this run.

    nice .venv/bin/python benchmarks/bench_gate_db.py [--rows 1000000] [--decisions 2000]
        [--workers 4] [--batch 250] [--database-url postgresql+psycopg://…] [--keep]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from debtflow.compliance import repository
from debtflow.compliance.service import ContactAsk
from debtflow.config import personal_data_cipher
from debtflow.contact import service
from debtflow.core.compliance.contact import Channel, ContactIntent, ContactRecord, Target
from debtflow.core.compliance.gate import evaluate, history_days_needed
from debtflow.core.compliance.rule_pack import load_pack
from debtflow.db import make_engine
from debtflow.migrate import upgrade

ADMIN_URL = os.environ.get(
    "DEBTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=SHANGHAI)
ROWS_PER_DEBTOR = 50
PARTIES = ["in-house", "ai-voice", "agency-a", "agency-b", "field", "part-timer", "law-firm"]
CHANNELS = ["call"] * 11 + ["ai_voice"] * 4 + ["sms"] * 4 + ["email", "visit"]


def _create_database() -> tuple[str, str]:
    name = f"debtflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fill(engine: Engine, *, rows: int, seed: int) -> int:
    """COPY debtors, cases, decisions and attempts; returns the number of debtors."""
    rng = random.Random(seed)
    debtors = max(1, rows // ROWS_PER_DEBTOR)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "INSERT INTO creditor (id, code, name, compliance_pack, max_relief_bp, "
            "max_term_months, min_first_payment_bp, created_at) "
            "VALUES (1, 'BENCH', 'bench bank', 'cn-2025', 3000, 36, 500, now())"
        )
        cipher = personal_data_cipher()  # ID numbers are stored encrypted (migration 0009)
        with cursor.copy(
            "COPY debtor (id, debtor_type, name, id_number_encrypted, id_number_index, "
            "timezone, main_customers, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(1, debtors + 1):
                number = f"B{i:017d}"
                copy.write_row(
                    (i, "person", f"d{i}", cipher.encrypt(number), cipher.blind_index(number),
                     "Asia/Shanghai", "[]", NOW, NOW)
                )  # fmt: skip
        with cursor.copy(
            'COPY "case" (id, creditor_id, debtor_id, status, bucket, days_past_due, '
            "outstanding_fen, channel, overdue_cause, opened_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(1, debtors + 1):
                copy.write_row(
                    (i, 1, i, "active", "M2", 45, 500_000, "online", "unknown", NOW, NOW)
                )
        attempts = []
        for i in range(1, rows + 1):
            debtor = (i - 1) % debtors + 1
            at = NOW - timedelta(seconds=rng.randrange(90 * 86400))
            channel = rng.choice(CHANNELS)
            connected = channel in ("call", "ai_voice") and rng.random() < 0.3
            attempts.append((i, debtor, at, channel, connected, rng.choice(PARTIES)))
        with cursor.copy(
            "COPY contact_decision (id, debtor_id, case_id, collecting_party, requested_by, "
            "channel, target, purpose, debtor_unreachable, planned_at, allowed, reasons, "
            "pack_version, expires_at, decided_at) FROM STDIN"
        ) as copy:
            for i, debtor, at, channel, _connected, party in attempts:
                copy.write_row(
                    (i, debtor, debtor, party, f"{party}-agent", channel, "debtor",
                     "collection", False, at, True, "[]", "cn-2025.1",
                     at + timedelta(minutes=30), at)
                )  # fmt: skip
        with cursor.copy(
            "COPY contact_attempt (id, case_id, debtor_id, channel, direction, party, "
            "attempted_at, connected, conversation, recorded_at, decision_id, collecting_party) "
            "FROM STDIN"
        ) as copy:
            for i, debtor, at, channel, connected, party in attempts:
                copy.write_row(
                    (i, debtor, debtor, channel, "outbound", "debtor", at, connected, False, at,
                     i, party)
                )  # fmt: skip
        for table in ("creditor", "debtor", "case", "contact_decision", "contact_attempt"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return debtors


def _intents(debtors: int, count: int, seed: int) -> list[tuple[int, datetime, str]]:
    rng = random.Random(seed + 1)
    return [
        (
            rng.randrange(1, debtors + 1),
            NOW + timedelta(seconds=rng.randrange(16 * 3600)),
            rng.choice(["call", "call", "ai_voice", "sms"]),
        )
        for _ in range(count)
    ]


def _core_rate(engine: Engine, intents: list[tuple[int, datetime, str]]) -> tuple[float, float]:
    """Histories loaded first (not timed), then only evaluate() is timed."""
    pack = load_pack("cn-2025")
    back = timedelta(days=history_days_needed(pack) + 1)
    prepared = []
    with Session(engine) as session:
        for debtor, planned, channel in intents:
            history = [
                ContactRecord(
                    at=at,
                    channel=Channel(channel_name),
                    connected=connected,
                    conversation=conversation,
                    party=party,
                    target=Target(target),
                )
                for _debtor, at, channel_name, connected, conversation, party, _debt, target in (
                    repository.gate_facts(
                        session,
                        debtor_ids=[debtor],
                        since=planned - back,
                        now=NOW,
                        skip_decision=None,
                    ).history
                )
            ]
            intent = ContactIntent(at=planned, debtor_tz=SHANGHAI, channel=Channel(channel))
            prepared.append((intent, history))
    started = time.perf_counter()
    denied = sum(not evaluate(intent, history, pack).allowed for intent, history in prepared)
    return len(prepared) / (time.perf_counter() - started), denied / len(prepared)


def _decide(url: str, intents: list[tuple[int, datetime, str]]) -> int:
    engine = make_engine(url)
    denied = 0
    try:
        for debtor, planned, channel in intents:
            with Session(engine) as session:
                decision = service.request_contact(
                    session,
                    case_id=debtor,
                    channel=channel,
                    planned_at=planned,
                    collecting_party="bench",
                    requested_by="bench-agent",
                    now=NOW,
                )
                denied += not decision.allowed
                session.commit()
    finally:
        engine.dispose()
    return denied


def _decide_batches(url: str, intents: list[tuple[int, datetime, str]], batch: int) -> int:
    """A dialer's way: ``request_contacts`` for ``batch`` numbers, one COMMIT per batch."""
    engine = make_engine(url)
    denied = 0
    try:
        for start in range(0, len(intents), batch):
            asks = [
                ContactAsk(
                    case_id=debtor,
                    channel=channel,
                    planned_at=planned,
                    collecting_party="bench",
                    requested_by="bench-dialer",
                )
                for debtor, planned, channel in intents[start : start + batch]
            ]
            with Session(engine) as session:
                decisions = service.request_contacts(session, asks=asks, now=NOW)
                denied += sum(not d.allowed for d in decisions)
                session.commit()
    finally:
        engine.dispose()
    return denied


def _db_rate(
    url: str, intents: list[tuple[int, datetime, str]], workers: int, batch: int
) -> tuple[float, float]:
    shares = [intents[i::workers] for i in range(workers)]
    started = time.perf_counter()
    if workers == 1:
        denied = _decide(url, intents) if batch == 1 else _decide_batches(url, intents, batch)
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            if batch == 1:
                denied = sum(pool.starmap(_decide, [(url, share) for share in shares]))
            else:
                jobs = [(url, share, batch) for share in shares]
                denied = sum(pool.starmap(_decide_batches, jobs))
    return len(intents) / (time.perf_counter() - started), denied / len(intents)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="contact-history rows")
    parser.add_argument("--decisions", type=int, default=2_000, help="decisions per measurement")
    parser.add_argument("--workers", type=int, default=4, help="processes for the parallel run")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to fill")
    parser.add_argument("--batch", type=int, default=250, help="asks per request_contacts")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    created = None
    url = args.database_url
    if url is None:
        created, url = _create_database()
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        debtors = _fill(engine, rows=args.rows, seed=args.seed)
        fill_s = time.perf_counter() - started
        print(
            f"history: {args.rows:,} contact attempts (+ their decisions) for {debtors:,} "
            f"debtors, loaded by COPY in {fill_s:.1f} s"
        )
        core, core_denied = _core_rate(engine, _intents(debtors, args.decisions, args.seed))
        print(f"{'path':44} {'decisions/s':>12} {'vs core':>8} {'denied':>7}")
        print(f"{'pure core evaluate()':44} {core:>12,.0f} {1.0:>7.2f}x {core_denied:>7.0%}")
        best = 0.0
        runs = [(1, 1), (args.workers, 1), (1, args.batch), (args.workers, args.batch)]
        for offset, (workers, batch) in enumerate(runs, start=2):
            intents = _intents(debtors, args.decisions, args.seed + offset)
            rate, denied = _db_rate(url, intents, workers, batch)
            best = max(best, rate)
            how = "request_contact" if batch == 1 else f"request_contacts x{batch}"
            label = f"PostgreSQL {how}, {workers} proc"
            print(f"{label:44} {rate:>12,.0f} {rate / core:>7.2f}x {denied:>7.0%}")
        print(f"target >= 2,000 decisions/s: {'met' if best >= 2000 else 'NOT met'} "
              f"(CPU cores on this machine: {os.cpu_count()})")  # fmt: skip
    finally:
        engine.dispose()
        if created and not args.keep:
            _drop_database(created)


if __name__ == "__main__":
    main()
