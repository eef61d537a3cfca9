"""Solomon VRPTW benchmark: distance, vehicles and gap to the best-known distance.

    python benchmarks/bench_routing.py data/vrptw/solomon_100 [--time-limit 60]
        [--best-known data/vrptw/solomon_bks.csv] [FILE_OR_DIR ...]

Runs the same core as `debtflow route solomon` on every instance given (files, or folders
of *.txt), verifies each solution independently, and prints one line per instance plus a
summary. The gap is measured against `dist_min_bks_distance` (arcs truncated to one
decimal in the literature; we use full precision, which can only make our distance
larger). As a baseline measured in the same run it also prints the distance reached
without the improvement phase (screened first solutions + plain descent to a local
optimum, no iterated local search), so the figures show what the metaheuristic adds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from debtflow.core.dispatch.solomon import (
    SolomonFormatError,
    read_best_known,
    read_solomon,
    route_distance,
    solve_solomon,
    to_problem,
    verify_routes,
)
from debtflow.core.dispatch.vrptw import solve_time_window_routes

DEFAULT_BKS = Path(__file__).resolve().parents[1] / "data" / "vrptw" / "solomon_bks.csv"


def instance_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.txt")))
        elif path.is_file():
            files.append(path)
        else:
            raise SystemExit(f"error: no such file or folder: {path}")
    if not files:
        raise SystemExit("error: no instance files given")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--best-known", type=Path, default=DEFAULT_BKS)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the screened-start baseline"
    )
    args = parser.parse_args(argv)
    best_known = read_best_known(args.best_known)

    print(
        f"{'instance':<9}{'veh':>4}{'distance':>11}{'bks':>9}{'gap %':>8}"
        f"{'start only':>11}{'gap %':>8}{'feasible':>9}{'seconds':>9}"
    )
    gaps: list[float] = []
    baseline_gaps: list[float] = []
    all_feasible = True
    for file in instance_files(args.paths):
        try:
            instance = read_solomon(file)
        except SolomonFormatError as exc:
            print(f"{file.name}: not a Solomon instance ({exc})", file=sys.stderr)
            return 2
        result = solve_solomon(instance, time_limit_s=args.time_limit)
        all_feasible &= result.feasible
        bks = best_known.get(instance.name.upper())
        gap = 100 * (result.distance / bks.distance - 1) if bks else float("nan")
        first = float("nan")
        first_gap = float("nan")
        if not args.no_baseline:
            start = solve_time_window_routes(
                to_problem(instance), time_limit_s=args.time_limit, guided_local_search=False
            )
            if start.found and not verify_routes(instance, start.routes):
                first = route_distance(instance, start.routes)
                first_gap = 100 * (first / bks.distance - 1) if bks else float("nan")
        if bks:
            gaps.append(gap)
            baseline_gaps.append(first_gap)
        print(
            f"{instance.name:<9}{result.vehicles:>4}{result.distance:>11.2f}"
            f"{bks.distance if bks else float('nan'):>9.1f}{gap:>8.2f}"
            f"{first:>11.2f}{first_gap:>8.2f}{str(result.feasible):>9}{result.seconds:>9.1f}",
            flush=True,
        )
    if gaps:
        print(
            f"mean gap {sum(gaps) / len(gaps):.2f} %, worst {max(gaps):.2f} % "
            f"({sum(g <= 5.0 for g in gaps)}/{len(gaps)} within 5 %); "
            f"screened start only: mean gap "
            f"{sum(baseline_gaps) / len(baseline_gaps):.2f} %; all feasible: {all_feasible}"
        )
    return 0 if all_feasible else 1


if __name__ == "__main__":
    raise SystemExit(main())
