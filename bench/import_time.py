"""Benchmark: what importing a module costs in a fresh interpreter (default: the planner).

    .venv/bin/python bench/import_time.py
    .venv/bin/python bench/import_time.py --module ml_connector.cli --runs 5

Each run starts a new interpreter with `-X importtime`, imports the module and reports the
module's cumulative import time (the last `importtime` line) and how many modules were loaded,
and which top-level third-party packages among them. Progress goes to stderr; the last line of
stdout is one JSON object: `module`, `runs`, `median_ms`, `min_ms`, `modules`, `third_party`.
The median is the figure to quote: the machine is shared, so single runs wander.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = (
    "import json, sys; import {module}; "
    "roots = {{m.split('.')[0] for m in sys.modules}} - set(sys.stdlib_module_names); "
    "print(json.dumps([len(sys.modules), sorted(r for r in roots"
    " if not r.startswith('_') and r != 'ml_connector')]))"
)


def one_run(module: str) -> tuple[float, int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    own = [line for line in done.stderr.splitlines() if line.rstrip().endswith(f"| {module}")]
    cumulative_us = int(own[-1].split("|")[1])
    count, third_party = json.loads(done.stdout.splitlines()[-1])
    return cumulative_us / 1000, count, third_party


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--module", default="ml_connector.sync.plan")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    times: list[float] = []
    count, third_party = 0, []
    for run in range(args.runs):
        ms, count, third_party = one_run(args.module)
        times.append(ms)
        print(f"run {run + 1}/{args.runs}: {ms:.1f} ms, {count} modules", file=sys.stderr)
    print(
        json.dumps(
            {
                "module": args.module,
                "runs": args.runs,
                "median_ms": round(statistics.median(times), 1),
                "min_ms": round(min(times), 1),
                "modules": count,
                "third_party": third_party,
            }
        )
    )


if __name__ == "__main__":
    main()
