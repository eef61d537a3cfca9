"""Run every benchmark script in this folder, one after another (`make bench`).

Each script prints its own figures, as ratios against a baseline measured in the same run.
Pass a script name (without .py) to run only that one.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
# scripts that need arguments to run on the shipped data
ARGUMENTS = {"bench_routing": [str(ROOT / "data" / "vrptw" / "solomon_100")]}


def main() -> int:
    only = set(sys.argv[1:])
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *ARGUMENTS.get(script.stem, [])])
        print(f"--- {script.stem}: exit {code}, {time.perf_counter() - start:.0f} s", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
