"""Evidence log on SQL: append rate on SQLite and PostgreSQL, and inclusion-proof latency at
ten million leaves.

Run:  nice .venv/bin/python benchmarks/bench_evidence_db.py [--leaves 10000000]
                 [--append-leaves 100000] [--batch 1000] [--backends sqlite,postgresql]

Figures, each beside a baseline measured in the same run on the same database:

* append rate (leaves/s, wall time): ``append_many`` in batches of ``--batch`` acts, one
  transaction each (canonical JSON, leaf hashing, the log lock, leaf rows, Merkle nodes,
  new size) vs the raw rate of encoding, hashing and inserting the same leaf rows into a
  plain table of the same columns through the same driver path (COPY on PostgreSQL,
  executemany on SQLite), one transaction per batch (no tree, no lock). Rates are given
  per CPU-second (this process plus, on PostgreSQL, the server backend, read from /proc)
  and per wall-second (which swings with other load on a shared machine);
* inclusion-proof latency (wall median and p99, mean CPU) from :class:`SqlNodeStore` in a log of
  ``--leaves`` leaves, vs a single-row primary-key SELECT of a leaf hash. The big log is
  loaded quickly: leaf bytes from a template (checked canonical), hashes and nodes computed
  in memory (core ``append_leaves``), rows streamed with COPY (PostgreSQL) or executemany
  in one transaction (SQLite). Every proof fetched is verified against the root.

PostgreSQL: ``DEBTFLOW_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/
postgres``) must allow CREATE DATABASE; the benchmark databases are dropped at the end. The
10M-leaf logs take about 3 GB of disk per backend while they exist.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    text,
)
from sqlalchemy.orm import Session

from debtflow.core.evidence.leaf import EvidenceLeaf, LeafKind, parse_leaf
from debtflow.core.evidence.merkle import leaf_hash, verify_inclusion
from debtflow.core.evidence.node_store import (
    InMemoryNodeStore,
    append_leaves,
    nodes_written_by_append,
    stored_inclusion_proof,
    stored_root_hash,
)
from debtflow.db import make_engine
from debtflow.evidence.log import EvidenceAct, append_many
from debtflow.evidence.store import SqlNodeStore, driver_timestamp, insert_rows
from debtflow.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "DEBTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
T0 = datetime(2026, 11, 29, tzinfo=UTC)
LOAD_CHUNK = 100_000
RAW_COLUMNS = ("idx", "leaf_hash", "canonical_bytes", "kind", "case_id", "occurred_at")


@contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    name = f"debtflow_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class CpuMeter:
    """CPU seconds of this process plus, on PostgreSQL, of the server backend serving
    ``connection`` (read from /proc: the server runs on this machine). On a shared machine
    wall time swings with other load; CPU time shows what the work itself costs."""

    def __init__(self, connection: Connection) -> None:
        self._stat: Path | None = None
        if connection.dialect.name == "postgresql":
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            connection.commit()  # sessions bound to this connection then own their transactions
            stat = Path(f"/proc/{pid}/stat")
            self._stat = stat if stat.exists() else None
        self._tick = os.sysconf("SC_CLK_TCK")

    @property
    def sees_server(self) -> bool:
        return self._stat is not None

    def read(self) -> float:
        server = 0.0
        if self._stat is not None:
            fields = self._stat.read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / self._tick
        return time.process_time() + server


def sample_acts(count: int) -> list[EvidenceAct]:
    kinds = list(LeafKind)
    return [
        EvidenceAct(
            kinds[i % len(kinds)],
            1 + i % 5_000,
            T0 + timedelta(seconds=i),
            {"amount_fen": 10_000 + i, "channel": "phone", "collector_id": i % 300, "seq": i},
        )
        for i in range(count)
    ]


def bench_append(engine: Engine, acts: list[EvidenceAct], batch: int) -> dict[str, float]:
    """Append and raw rates (leaves/s, wall and CPU) on this database, one connection."""
    raw_table = Table(
        "bench_raw_leaf",
        MetaData(),
        Column("idx", BigInteger, primary_key=True, autoincrement=False),
        Column("leaf_hash", LargeBinary(32), nullable=False),
        Column("canonical_bytes", LargeBinary, nullable=False),
        Column("kind", String(30), nullable=False),
        Column("case_id", BigInteger, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
    )
    raw_table.create(engine)
    figures: dict[str, float] = {}
    dialect = engine.dialect.name
    with engine.connect() as connection:
        meter = CpuMeter(connection)
        started, cpu = time.perf_counter(), meter.read()
        for first in range(0, len(acts), batch):
            rows = []
            for offset, act in enumerate(acts[first : first + batch]):
                leaf = EvidenceLeaf(LeafKind(act.kind), act.case_id, act.occurred_at, act.payload)
                raw = leaf.canonical_bytes()
                rows.append(
                    (
                        first + offset,
                        leaf_hash(raw),
                        raw,
                        leaf.kind.value,
                        leaf.case_id,
                        driver_timestamp(dialect, leaf.occurred_at),
                    )
                )
            with Session(bind=connection) as session, session.begin():
                insert_rows(session, "bench_raw_leaf", RAW_COLUMNS, rows)
        figures["raw_wall"] = len(acts) / (time.perf_counter() - started)
        figures["raw_cpu"] = len(acts) / (meter.read() - cpu)
        started, cpu = time.perf_counter(), meter.read()
        for first in range(0, len(acts), batch):
            with Session(bind=connection) as session, session.begin():
                append_many(session, acts[first : first + batch])
        figures["append_wall"] = len(acts) / (time.perf_counter() - started)
        figures["append_cpu"] = len(acts) / (meter.read() - cpu)
        figures["server_cpu_counted"] = float(meter.sees_server)
    with Session(engine) as session:
        size = session.execute(text("SELECT tree_size FROM evidence_log_state")).scalar()
        assert size == len(acts), size
        store = SqlNodeStore(session)
        root = stored_root_hash(store, len(acts))
        index = len(acts) // 3
        hashed = session.execute(
            text("SELECT leaf_hash FROM evidence_leaf WHERE idx = :i"), {"i": index}
        ).scalar_one()
        verify_inclusion(
            bytes(hashed), index, len(acts), stored_inclusion_proof(store, index, len(acts)), root
        )
    return figures


LEAF_TEMPLATE = (
    '{{"case_id":{case},"file_sha256":[],"kind":"contact_attempt",'
    '"occurred_at":"2026-11-29T00:00:00.000000Z","payload":{{"channel":"phone",'
    '"outcome":"no_answer","seq":{seq}}},"v":1}}'
)


def template_leaf(index: int) -> bytes:
    return LEAF_TEMPLATE.format(case=1 + index % 100_000, seq=index).encode()


def load_big_log(engine: Engine, leaves: int, progress: Callable[[str], None]) -> bytes:
    """Fill the log with ``leaves`` leaves as fast as the driver allows; return the root."""
    for probe in (0, 12_345, leaves - 1):
        assert parse_leaf(template_leaf(probe)).canonical_bytes() == template_leaf(probe)
    tree = InMemoryNodeStore()
    backend = engine.dialect.name
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        cursor = connection.cursor()
        if backend == "sqlite":
            cursor.execute("BEGIN")
        occurred = T0 if backend == "postgresql" else "2026-11-29 00:00:00.000000"
        size = 0
        started = time.perf_counter()
        while size < leaves:
            count = min(LOAD_CHUNK, leaves - size)
            leaf_rows = []
            hashes = []
            for index in range(size, size + count):
                raw_leaf = template_leaf(index)
                hashed = leaf_hash(raw_leaf)
                hashes.append(hashed)
                leaf_rows.append(
                    (index, hashed, raw_leaf, "contact_attempt", 1 + index % 100_000, occurred)
                )
            append_leaves(tree, size, hashes)
            node_keys = [key for key in nodes_written_by_append(size, count) if key[0] > 0]
            found = tree.get_nodes(node_keys)
            node_rows = [(level, index, found[(level, index)]) for level, index in node_keys]
            _write_rows(cursor, backend, leaf_rows, node_rows)
            size += count
            if size % 1_000_000 == 0 or size == leaves:
                elapsed = time.perf_counter() - started
                progress(f"  loaded {size:,} leaves ({size / elapsed:,.0f} leaves/s)")
        cursor.execute(f"UPDATE evidence_log_state SET tree_size = {int(leaves)} WHERE id = 1")
        if backend == "postgresql":
            connection.commit()
        else:
            cursor.execute("COMMIT")
        if backend == "postgresql":
            connection.autocommit = True
            cursor.execute("VACUUM ANALYZE evidence_leaf")
            cursor.execute("VACUUM ANALYZE evidence_node")
        else:
            cursor.execute("ANALYZE")
    finally:
        raw.close()
    return stored_root_hash(tree, leaves)


def _write_rows(cursor, backend: str, leaf_rows: list, node_rows: list) -> None:  # type: ignore[no-untyped-def]
    if backend == "postgresql":
        with cursor.copy(
            "COPY evidence_leaf (idx, leaf_hash, canonical_bytes, kind, case_id, occurred_at) "
            "FROM STDIN"
        ) as copy:
            for row in leaf_rows:
                copy.write_row(row)
        with cursor.copy("COPY evidence_node (level, idx, hash) FROM STDIN") as copy:
            for row in node_rows:
                copy.write_row(row)
        return
    cursor.executemany(
        "INSERT INTO evidence_leaf (idx, leaf_hash, canonical_bytes, kind, case_id, occurred_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        leaf_rows,
    )
    cursor.executemany("INSERT INTO evidence_node (level, idx, hash) VALUES (?, ?, ?)", node_rows)


def bench_proofs(engine: Engine, leaves: int, root: bytes, samples: int) -> dict[str, float]:
    rng = random.Random(9162)
    indices = [rng.randrange(leaves) for _ in range(samples)]
    proof_times: list[float] = []
    lookup_times: list[float] = []
    with engine.connect() as connection, Session(bind=connection) as session:
        meter = CpuMeter(connection)
        store = SqlNodeStore(session)
        assert stored_root_hash(store, leaves) == root
        lookup = "SELECT leaf_hash FROM evidence_leaf WHERE idx = {}"
        for index in indices[:50]:  # warm the connection
            stored_inclusion_proof(store, index, leaves)
        reads_before = store.reads
        proofs: list[list[bytes]] = []
        cpu = meter.read()
        for index in indices:
            started = time.perf_counter()
            proofs.append(stored_inclusion_proof(store, index, leaves))
            proof_times.append(time.perf_counter() - started)
        proof_cpu = (meter.read() - cpu) / samples
        reads = store.reads - reads_before
        cpu = meter.read()
        hashes = []
        for index in indices:
            started = time.perf_counter()
            hashes.append(connection.exec_driver_sql(lookup.format(int(index))).scalar_one())
            lookup_times.append(time.perf_counter() - started)
        lookup_cpu = (meter.read() - cpu) / samples
        for index, hashed, proof in zip(indices, hashes, proofs, strict=True):
            verify_inclusion(bytes(hashed), index, leaves, proof, root)
    proof_times.sort()
    lookup_times.sort()
    return {
        "proof_median_ms": statistics.median(proof_times) * 1e3,
        "proof_p99_ms": proof_times[int(0.99 * (len(proof_times) - 1))] * 1e3,
        "proof_cpu_ms": proof_cpu * 1e3,
        "lookup_median_ms": statistics.median(lookup_times) * 1e3,
        "lookup_cpu_ms": lookup_cpu * 1e3,
        "reads_per_proof": reads / samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leaves", type=int, default=10_000_000, help="log size for proofs")
    parser.add_argument("--append-leaves", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=2_000, help="proofs to time")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workdir", type=Path, default=None, help="where SQLite files go")
    args = parser.parse_args(argv)
    if args.leaves < 1 or args.append_leaves < 1 or args.batch < 1 or args.samples < 1:
        parser.error("sizes must be positive")
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    if not set(backends) <= {"sqlite", "postgresql"}:
        parser.error("--backends: sqlite and/or postgresql")
    run_started = time.perf_counter()

    def say(line: str) -> None:
        print(line, flush=True)

    acts = sample_acts(args.append_leaves)
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
        for backend in backends:
            say(f"== {backend}")
            with fresh_database(backend, Path(scratch)) as engine:
                rates = bench_append(engine, acts, args.batch)
            who = "client+server" if rates["server_cpu_counted"] else "client"
            say(
                f"append {args.append_leaves:,} leaves in batches of {args.batch:,}: "
                f"{rates['append_cpu']:,.0f} leaves/s per CPU-second ({who}), "
                f"{rates['append_wall']:,.0f} leaves/s wall; raw encode+hash+insert of the same "
                f"rows {rates['raw_cpu']:,.0f} per CPU-second, {rates['raw_wall']:,.0f} wall "
                f"(append/raw {rates['append_cpu'] / rates['raw_cpu']:.2f}x CPU, "
                f"{rates['append_wall'] / rates['raw_wall']:.2f}x wall)"
            )
            with fresh_database(backend, Path(scratch)) as engine:
                load_started = time.perf_counter()
                root = load_big_log(engine, args.leaves, say)
                say(
                    f"loaded a {args.leaves:,}-leaf log in "
                    f"{time.perf_counter() - load_started:,.0f} s wall"
                )
                proof = bench_proofs(engine, args.leaves, root, args.samples)
            say(
                f"inclusion proof at {args.leaves:,} leaves ({args.samples:,} random leaves, all "
                f"verified, {proof['reads_per_proof']:.0f} SQL read each): wall median "
                f"{proof['proof_median_ms']:.2f} ms, p99 {proof['proof_p99_ms']:.2f} ms; "
                f"CPU {proof['proof_cpu_ms']:.2f} ms ({who}) | single-row PK lookup: wall "
                f"median {proof['lookup_median_ms']:.2f} ms, CPU {proof['lookup_cpu_ms']:.2f} ms "
                f"(proof/lookup {proof['proof_median_ms'] / proof['lookup_median_ms']:.1f}x wall)"
            )
        say(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    say(f"total wall time {time.perf_counter() - run_started:,.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
