"""Evidence core throughput: leaf hashing, batched appends, proof latency at 10M leaves.

Run:  nice .venv/bin/python benchmarks/bench_evidence_core.py [--leaves 10000000]

Prints figures (CPU time of this process, so other load on a shared machine does not skew
them; the total wall time is printed at the end), each beside a baseline from the same run:
* canonical leaf encoding and RFC 9162 leaf hashing (leaves/s) vs bare SHA-256 of the
  same bytes;
* batched appends into the in-memory NodeStore (leaves/s, leaf hashing included) vs
  leaf hashing alone;
* inclusion / consistency proof latency (median, p99) from the store at the full size, vs
  the list-based reference proof at a 100,000-leaf tree (which is O(n)).
The in-memory store needs about 64 bytes per leaf; if the machine has too little free
memory for the requested size the benchmark uses the largest size that fits and says so.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import statistics
import time
from datetime import UTC, datetime, timedelta

from debtflow.core.evidence.leaf import EvidenceLeaf, LeafKind
from debtflow.core.evidence.merkle import (
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from debtflow.core.evidence.node_store import (
    InMemoryNodeStore,
    append_leaves,
    stored_consistency_proof,
    stored_inclusion_proof,
    stored_root_hash,
)

BYTES_PER_LEAF = 64  # two 32-byte nodes per leaf in the in-memory store

# CPU time of this process: on a shared machine wall-clock figures swing with other load.
_clock = time.process_time


def _available_bytes() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # pragma: no cover - non-POSIX
        return 1 << 62


def _sample_leaves(count: int) -> list[bytes]:
    start = datetime(2026, 11, 29, tzinfo=UTC)
    kinds = list(LeafKind)
    return [
        EvidenceLeaf(
            kind=kinds[i % len(kinds)],
            case_id=1 + i % 50_000,
            occurred_at=start + timedelta(seconds=i),
            payload={"amount_fen": 10_000 + i, "channel": "sms", "agent_id": i % 997},
        ).canonical_bytes()
        for i in range(count)
    ]


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--proofs", type=int, default=5_000)
    arguments = parser.parse_args()
    wall_began = time.perf_counter()

    # 1. leaf encoding and hashing
    sample = 100_000
    began = _clock()
    encoded = _sample_leaves(sample)
    encode_s = _clock() - began
    began = _clock()
    for raw in encoded:
        hashlib.sha256(raw).digest()
    bare_s = _clock() - began
    began = _clock()
    for raw in encoded:
        leaf_hash(raw)
    leaf_s = _clock() - began
    mean_size = sum(map(len, encoded)) / sample
    print(f"leaf size: {mean_size:.0f} bytes of canonical JSON (mean of {sample:,})")
    print(f"canonical encoding:    {_rate(sample, encode_s):>12,.0f} leaves/s")
    print(f"bare SHA-256:          {_rate(sample, bare_s):>12,.0f} leaves/s  (baseline)")
    print(
        f"RFC 9162 leaf hash:    {_rate(sample, leaf_s):>12,.0f} leaves/s  "
        f"({bare_s / leaf_s:.2f}x of baseline)"
    )

    # 2. size that fits in memory
    wanted = arguments.leaves
    fits = int(_available_bytes() * 0.5) // BYTES_PER_LEAF
    size = min(wanted, fits)
    if size < wanted:
        print(f"NOTE: only {size:,} leaves fit in half the free memory; requested {wanted:,}")

    # 3. batched appends
    store = InMemoryNodeStore()
    tree_size = 0
    hash_only_s = 0.0
    began = _clock()
    while tree_size < size:
        count = min(arguments.batch, size - tree_size)
        started = _clock()
        batch = [leaf_hash(i.to_bytes(8, "big")) for i in range(tree_size, tree_size + count)]
        hash_only_s += _clock() - started
        tree_size = append_leaves(store, tree_size, batch)
    append_s = _clock() - began
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"append {size:,} leaves in batches of {arguments.batch:,}: {append_s:.1f} s, "
        f"{_rate(size, append_s):,.0f} leaves/s (leaf hashing alone: "
        f"{_rate(size, hash_only_s):,.0f} leaves/s, ratio {hash_only_s / append_s:.2f}); "
        f"peak RSS {rss_mb:,.0f} MB"
    )

    # 4. proof latency at full size
    rng = random.Random(1)
    root = stored_root_hash(store, size)
    inclusion_us: list[float] = []
    consistency_us: list[float] = []
    for _ in range(arguments.proofs):
        index = rng.randrange(size)
        started = _clock()
        proof = stored_inclusion_proof(store, index, size)
        inclusion_us.append((_clock() - started) * 1e6)
        verify_inclusion(leaf_hash(index.to_bytes(8, "big")), index, size, proof, root)
    for _ in range(arguments.proofs // 5):
        old = rng.randint(1, size)
        started = _clock()
        proof = stored_consistency_proof(store, old, size)
        consistency_us.append((_clock() - started) * 1e6)
        verify_consistency(old, size, stored_root_hash(store, old), root, proof)
    started = _clock()
    for _ in range(1_000):
        stored_root_hash(store, rng.randint(1, size))
    root_us = (_clock() - started) * 1e3

    reference_leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(100_000)]
    reference_us: list[float] = []
    for _ in range(20):
        index = rng.randrange(len(reference_leaves))
        started = _clock()
        inclusion_proof(reference_leaves, index)
        reference_us.append((_clock() - started) * 1e6)
    median_inclusion = statistics.median(inclusion_us)
    print(
        f"inclusion proof at {size:,} leaves (store, {len(inclusion_us):,} random leaves): "
        f"median {median_inclusion:.0f} µs, p99 {_percentile(inclusion_us, 0.99):.0f} µs"
    )
    print(
        f"consistency proof at {size:,} leaves: median {statistics.median(consistency_us):.0f} µs,"
        f" p99 {_percentile(consistency_us, 0.99):.0f} µs; root of a random size: "
        f"{root_us:.0f} µs"
    )
    print(
        f"baseline: list-based inclusion proof at 100,000 leaves: median "
        f"{statistics.median(reference_us):,.0f} µs "
        f"({statistics.median(reference_us) / median_inclusion:,.0f}x the store's at {size:,})"
    )
    print(
        f"store reads per inclusion proof: 1 batched read of at most "
        f"{2 * (size - 1).bit_length() + 1} nodes"
    )
    print(
        "(all rates and latencies in CPU time; wall time of the run "
        f"{time.perf_counter() - wall_began:.0f} s)"
    )


if __name__ == "__main__":
    main()
