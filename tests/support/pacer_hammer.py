"""One worker process hammering Cin7 through the shared pacer (run by the multi-process tests).

    python tests/support/pacer_hammer.py --base URL --account ID --key KEY --database URL \\
        --limit 12 --window 3 --seconds 8 --tasks 4        # or --calls N

Prints one JSON line: the calls this process sent, the rate-limit answers it met and the
seconds the pacer told it to wait. The key is read from ``PACER_HAMMER_KEY`` when ``--key`` is
not given (tests pass it by environment, never on a command line other users can read).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from ml_connector.cin7.client import Cin7Client
from ml_connector.jobs.pacer import SharedPacer
from ml_connector.store.db import create_engine


async def main(args: argparse.Namespace) -> dict[str, float]:
    key = args.key or os.environ["PACER_HAMMER_KEY"]
    engine = create_engine(args.database)
    pacer = SharedPacer(engine, key, limit=args.limit, window=args.window)
    deadline = time.monotonic() + args.seconds
    budget = [args.calls]
    try:
        async with Cin7Client(args.account, key, base_url=args.base, pacer=pacer) as cin7:

            async def worker() -> None:
                while time.monotonic() < deadline:
                    if args.calls:
                        if budget[0] <= 0:
                            return
                        budget[0] -= 1
                    await cin7.ping()

            started = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(args.tasks)))
            return {
                "calls": cin7.calls,
                "rate_limited": cin7.rate_limited,
                "waited": round(pacer.waited, 3),
                "elapsed": round(time.monotonic() - started, 3),
            }
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--key", default="")
    parser.add_argument("--database", required=True)
    parser.add_argument("--limit", type=int, required=True)
    parser.add_argument("--window", type=float, required=True)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--calls", type=int, default=0)
    parser.add_argument("--tasks", type=int, default=1)
    print(json.dumps(asyncio.run(main(parser.parse_args()))), flush=True)
