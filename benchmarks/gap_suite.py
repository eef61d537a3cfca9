"""Run the GAP solver over OR-Library / Yagiura files and print the gap to the best known.

    .venv/bin/python benchmarks/gap_suite.py /path/to/gap [--time-limit 30] [--only d,e]
    .venv/bin/python benchmarks/gap_suite.py --generate d:10x100,e:20x200 [--seed 1]

The folder must hold ``gap_bounds.csv`` (columns ``instance, file, index_in_file,
max_optimum_orlib, min_best_known``) and the files it names. gap1..gap12 are
maximisation problems (``max_optimum_orlib``); the others are minimisation.
Prints one line per instance and a summary per type (first letter of the name; gap1-12
are reported as type "orlib"), with wall and CPU seconds (CPU counts every solver thread).

``--generate`` instead builds seeded type-D (Chu & Beasley) / type-E (Laguna et al.)
problems of the given sizes (no best-known values exist for them) and reports the gap to
the solver's own lower bound (LP or Lagrangian), which is at least the gap to the optimum.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

from debtflow.core.dispatch.gap import is_feasible, solve_gap
from debtflow.core.dispatch.gap_generators import type_d_instance, type_e_instance
from debtflow.core.dispatch.orlib import GapInstance, read_gap_file


def _instance_type(name: str) -> str:
    return "orlib" if name.startswith("gap") else name[0]


def _generated(arguments: argparse.Namespace) -> int:
    makers = {"d": type_d_instance, "e": type_e_instance}
    gaps: dict[str, list[float]] = defaultdict(list)
    infeasible = 0
    print(
        f"{'instance':<12} {'objective':>9} {'bound':>10} {'gap %':>7} {'s':>6} {'cpu s':>6} status"
    )
    for spec in arguments.generate.split(","):
        kind, _, size = spec.strip().partition(":")
        agents, _, jobs = size.partition("x")
        if kind not in makers or not agents.isdigit() or not jobs.isdigit():
            print(f"bad --generate entry {spec!r}: expected d:AxJ or e:AxJ", file=sys.stderr)
            return 2
        instance = makers[kind](int(agents), int(jobs), seed=arguments.seed)
        name = f"{kind}{agents}x{jobs}"
        cpu_start = time.process_time()
        solution = solve_gap(instance, time_limit_s=arguments.time_limit, workers=arguments.workers)
        cpu = time.process_time() - cpu_start
        if not solution.feasible or not is_feasible(instance, solution.agent_of_job):
            infeasible += 1
            print(f"{name:<12} {'-':>9} {'-':>10} {'-':>7} {solution.seconds:6.1f} {cpu:6.1f}")
            continue
        assert solution.objective is not None and solution.bound is not None
        gap = 100.0 * (solution.objective - solution.bound) / solution.bound
        gaps[kind].append(gap)
        print(
            f"{name:<12} {solution.objective:>9} {solution.bound:>10.1f} {gap:7.3f} "
            f"{solution.seconds:6.1f} {cpu:6.1f} {solution.status}",
            flush=True,
        )
    print()
    print(f"{'type':<6} {'count':>5} {'mean gap to bound %':>19} {'max':>7}")
    for kind, values in sorted(gaps.items()):
        print(f"{kind:<6} {len(values):>5} {sum(values) / len(values):19.3f} {max(values):7.3f}")
    print(f"infeasible or unsolved: {infeasible}")
    return 1 if infeasible else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?")
    parser.add_argument("--generate", default="", help="e.g. d:10x100,e:20x200 (seeded)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--only", default="", help="comma-separated types, e.g. c,d")
    parser.add_argument("--workers", type=int, default=None)
    arguments = parser.parse_args()
    if arguments.generate:
        return _generated(arguments)
    if arguments.folder is None:
        parser.error("give the folder with gap_bounds.csv, or --generate")
    wanted = {t.strip() for t in arguments.only.split(",") if t.strip()}
    bounds_path = arguments.folder / "gap_bounds.csv"
    with bounds_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    cache: dict[str, list[GapInstance]] = {}
    gaps: dict[str, list[float]] = defaultdict(list)
    infeasible = 0
    print(
        f"{'instance':<10} {'type':<5} {'objective':>9} {'best':>9} {'gap %':>7} {'s':>6} "
        f"{'cpu s':>6} status"
    )
    for row in rows:
        name = row["instance"]
        kind = _instance_type(name)
        if wanted and kind not in wanted:
            continue
        if row["file"] not in cache:
            cache[row["file"]] = read_gap_file(arguments.folder / row["file"])
        instance = cache[row["file"]][int(row["index_in_file"])]
        maximize = bool(row["max_optimum_orlib"])
        best = float(row["max_optimum_orlib"] if maximize else row["min_best_known"])
        cpu_start = time.process_time()
        solution = solve_gap(
            instance,
            maximize=maximize,
            time_limit_s=arguments.time_limit,
            workers=arguments.workers,
        )
        cpu = time.process_time() - cpu_start
        if not solution.feasible or not is_feasible(instance, solution.agent_of_job):
            infeasible += 1
            print(
                f"{name:<10} {kind:<5} {'-':>9} {best:>9.0f} {'-':>7} "
                f"{solution.seconds:6.1f} {cpu:6.1f} {solution.status}"
            )
            continue
        assert solution.objective is not None
        gap = (best - solution.objective if maximize else solution.objective - best) / best
        gaps[kind].append(100.0 * gap)
        print(
            f"{name:<10} {kind:<5} {solution.objective:>9} {best:>9.0f} {100 * gap:7.3f} "
            f"{solution.seconds:6.1f} {cpu:6.1f} {solution.status}",
            flush=True,
        )
    print()
    print(f"{'type':<6} {'count':>5} {'mean gap %':>10} {'max gap %':>9}")
    for kind, values in sorted(gaps.items()):
        print(f"{kind:<6} {len(values):>5} {sum(values) / len(values):10.3f} {max(values):9.3f}")
    print(f"infeasible or unsolved: {infeasible}")
    return 1 if infeasible else 0


if __name__ == "__main__":
    sys.exit(main())
