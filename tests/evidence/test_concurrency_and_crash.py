"""Concurrent appends from two connections, and a process killed in the middle of one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import select

from debtflow import evidence
from debtflow.core.evidence.leaf import parse_leaf
from debtflow.db import get_engine, session_factory, unit_of_work
from debtflow.evidence.audit import audit
from debtflow.evidence.store import committed_tree_size
from debtflow.migrate import upgrade
from debtflow.models import EvidenceLogLeaf

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def test_two_threads_on_two_connections_build_one_consistent_tree(database_url):
    upgrade(get_engine())
    rounds, batch = 15, 4
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(worker: int) -> None:
        make_session = session_factory(get_engine())
        try:
            start.wait()
            for round_number in range(rounds):
                with make_session() as session, session.begin():
                    evidence.append_many(
                        session,
                        [
                            evidence.EvidenceAct(
                                "contact_attempt",
                                worker + 1,
                                T0,
                                {"round": round_number, "slot": slot, "worker": worker},
                            )
                            for slot in range(batch)
                        ],
                    )
                    time.sleep(0.002)  # hold the lock a little: the other writer must wait
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with unit_of_work() as session:
        assert committed_tree_size(session) == 2 * rounds * batch
        report = audit(session)
        assert report.clean, report.problems
        leaves = [
            parse_leaf(raw)
            for raw in session.execute(
                select(EvidenceLogLeaf.canonical_bytes).order_by(EvidenceLogLeaf.idx)
            ).scalars()
        ]
    seen = sorted((p["worker"], p["round"], p["slot"]) for p in (leaf.payload for leaf in leaves))
    expected = [(w, r, s) for w in (0, 1) for r in range(rounds) for s in range(batch)]
    assert seen == expected
    # each transaction's batch is contiguous in the log
    for first in range(0, len(leaves), batch):
        group = {
            (leaf.payload["worker"], leaf.payload["round"])
            for leaf in leaves[first : first + batch]
        }
        assert len(group) == 1


WRITER = """
import sys, time
from datetime import UTC, datetime
from debtflow import evidence
from debtflow.db import unit_of_work
acts = lambda tag: [evidence.EvidenceAct("message", 3, datetime.now(UTC), {"tag": tag, "i": i})
                    for i in range(50)]
with unit_of_work() as session:
    evidence.append_many(session, acts("committed"))
if sys.argv[1] == "stop-mid-append":
    with unit_of_work() as session:
        evidence.append_many(session, acts("never committed"))
        session.flush()
        print("MID-APPEND", flush=True)
        time.sleep(60)
else:
    print("LOOPING", flush=True)
    while True:
        with unit_of_work() as session:
            evidence.append_many(session, acts("loop"))
"""


def _run_and_kill(mode: str, database_url: str, tmp_path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, DEBTFLOW_DATABASE_URL=database_url, DEBTFLOW_DATA_DIR=str(tmp_path))
    child = subprocess.Popen(
        [sys.executable, str(script), mode], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line.strip() in ("MID-APPEND", "LOOPING")
        if mode == "loop":
            time.sleep(1.0)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_process_killed_mid_append_leaves_the_committed_log(database_url, tmp_path):
    upgrade(get_engine())
    _run_and_kill("stop-mid-append", database_url, tmp_path)
    with unit_of_work() as session:
        assert committed_tree_size(session) == 50
        assert audit(session).clean
        evidence.append(session, kind="message", case_id=3, occurred_at=T0, payload={})
    with unit_of_work() as session:
        assert committed_tree_size(session) == 51
        assert audit(session).clean


def test_a_process_killed_at_a_random_moment_leaves_a_log_that_audits_clean(database_url, tmp_path):
    upgrade(get_engine())
    _run_and_kill("loop", database_url, tmp_path)
    with unit_of_work() as session:
        size = committed_tree_size(session)
        assert size >= 50 and size % 50 == 0
        report = audit(session)
        assert report.clean, report.problems
