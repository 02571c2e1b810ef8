"""How long `app.py seed` takes: the demo utility seeded into a fresh database, timed end to end (migrations
excluded). The issue's budget is well under a minute for 100,000 customers on SQLite on two cores.

    .venv/bin/python bench/seed_demo.py [--customers 100000] [--database-url URL]

Without --database-url it seeds a new SQLite file in a temporary directory. A PostgreSQL URL must name an empty
database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from crm import db
from demo import seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time the demo seed")
    parser.add_argument("--customers", type=int, default=seed.DEFAULT_CUSTOMERS)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='hotline-seed-')) / 'seed.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        started = time.perf_counter()
        summary = seed.seed_if_empty(engine, args.customers, progress=sys.stderr.isatty())
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    if not summary.created:
        print("the database was seeded already; give an empty one", file=sys.stderr)
        return 1
    backend = url.split(":", 1)[0]
    size = ""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        size = f", {os.path.getsize(path) / 2**20:.0f} MiB"
    print(
        f"{backend}: {summary.customers} customers, {summary.accounts} accounts, {summary.bills} bills "
        f"seeded in {seconds:.1f} s ({summary.customers / seconds:,.0f} customers/s{size})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
