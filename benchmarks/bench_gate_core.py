"""Decisions per second of the pure compliance gate (no database).

Realistic slices: each debtor has the last 8 local days of contacts from several parties
(in-house agents, AI voice, agencies, field agents, part-timers, law firms), mostly
unanswered calls plus SMS and some connected calls and conversations. Intents are spread
over the whole day, so a share are denied and need a ``next_allowed_at`` search.

The baseline, measured in the same run, is the gate with an empty history; figures are
printed as decisions per wall-clock second, per CPU second of this process (steadier on a
shared machine), and as a ratio of the CPU figure to that baseline. One process, one core.

    nice .venv/bin/python benchmarks/bench_gate_core.py [--decisions 5000]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from debtflow.core.compliance.contact import Channel, ContactIntent, ContactRecord
from debtflow.core.compliance.gate import evaluate
from debtflow.core.compliance.rule_pack import RulePack, load_pack

PARTIES = ["in-house", "ai-voice", "agency-a", "agency-b", "field", "part-timer", "law-firm"]
CHANNEL_WEIGHTS = {
    Channel.CALL: 0.55,
    Channel.AI_VOICE: 0.2,
    Channel.SMS: 0.18,
    Channel.EMAIL: 0.04,
    Channel.VISIT: 0.03,
}


def _history(rng: random.Random, now: datetime, size: int) -> list[ContactRecord]:
    channels = list(CHANNEL_WEIGHTS)
    weights = list(CHANNEL_WEIGHTS.values())
    records = []
    for _ in range(size):
        channel = rng.choices(channels, weights)[0]
        connected = rng.random() < 0.3
        records.append(
            ContactRecord(
                at=now - timedelta(seconds=rng.randrange(8 * 86400)),
                channel=channel,
                connected=connected,
                conversation=connected and rng.random() < 0.15,
                party=rng.choice(PARTIES),
                debt_id=rng.choice(["D1", "D2"]),
            )
        )
    return records


def _cases(
    rng: random.Random, size: int, count: int, zone: ZoneInfo
) -> list[tuple[ContactIntent, list[ContactRecord]]]:
    start = datetime(2025, 6, 2, tzinfo=UTC)
    cases = []
    for _ in range(count):
        now = start + timedelta(seconds=rng.randrange(60 * 86400))
        intent = ContactIntent(
            at=now,
            debtor_tz=zone,
            channel=rng.choice([Channel.CALL, Channel.AI_VOICE]),
            debt_id="D1",
            party=rng.choice(PARTIES),
        )
        cases.append((intent, _history(rng, now, size)))
    return cases


def _rate(
    cases: Sequence[tuple[ContactIntent, list[ContactRecord]]], pack: RulePack
) -> tuple[float, float, float]:
    denied = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for intent, history in cases:
        denied += not evaluate(intent, history, pack).allowed
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(cases) / wall, len(cases) / cpu, denied / len(cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"compliance gate core, {args.decisions} decisions per row")
    print(
        f"{'pack':8} {'history':>8} {'per wall s':>11} {'per CPU s':>10} {'vs empty':>9} "
        f"{'denied':>7}"
    )
    for pack_name, zone in (("cn-2025", "Asia/Shanghai"), ("us-regf", "America/New_York")):
        pack = load_pack(pack_name)
        baseline = None
        for size in (0, 10, 30, 100, 300):
            cases = _cases(rng, size, args.decisions, ZoneInfo(zone))
            wall_rate, cpu_rate, denied = _rate(cases, pack)
            baseline = baseline or cpu_rate
            print(
                f"{pack_name:8} {size:>8} {wall_rate:>11,.0f} {cpu_rate:>10,.0f} "
                f"{cpu_rate / baseline:>8.2f}x {denied:>7.0%}"
            )


if __name__ == "__main__":
    main()
