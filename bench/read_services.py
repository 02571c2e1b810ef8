"""Latency of the customer-data read services on SQLite with a seeded demo utility: p50 and p99 per service
over many random lookups (the IVR's budget is 2 ms at p99).

    .venv/bin/python bench/read_services.py [--customers 100000] [--lookups 5000] [--database PATH]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm import db
from crm.customer_records import Refusal
from crm.models import Account, Customer, CustomerPhone
from crm.services import CustomerService
from demo import seed


def measure(name: str, call: Callable[[Any], object], inputs: list[Any]) -> dict[str, Any]:
    for value in inputs[:200]:  # warm the page cache and SQLAlchemy's statement cache
        call(value)
    timings = []
    refused = 0
    for value in inputs:
        started = time.perf_counter()
        answer = call(value)
        timings.append((time.perf_counter() - started) * 1000)
        refused += isinstance(answer, Refusal)
    timings.sort()
    return {
        "service": name,
        "lookups": len(timings),
        "p50_ms": statistics.median(timings),
        "p99_ms": timings[int(len(timings) * 0.99) - 1],
        "max_ms": timings[-1],
        "refused": refused,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--database", type=Path, help="an SQLite file to seed (if empty) and reuse")
    args = parser.parse_args(argv)
    path = args.database or Path(tempfile.mkdtemp(prefix="hotline-bench-")) / "bench.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    engine = db.make_engine(url)
    seeded = seed.seed_if_empty(engine, args.customers, progress=sys.stderr.isatty())
    print(seeded.lines()[0])
    rng = random.Random(1)
    with engine.connect() as connection:
        accounts = list(connection.scalars(select(Account.number)))
        phones = list(connection.scalars(select(CustomerPhone.number)))
        customers = list(connection.scalars(select(Customer.id)))
    service = CustomerService(db.session_factory(engine))
    n = args.lookups

    def pick(values: list[Any]) -> list[Any]:
        return [rng.choice(values) for _ in range(n)]

    mistyped = [a[:-2] + a[-1] + a[-2] for a in pick(accounts) if a[-1] != a[-2]]
    results = [
        measure("accounts_by_caller", service.accounts_by_caller, pick(phones)),
        measure("account_by_number", service.account_by_number, pick(accounts)),
        measure("account_by_number (mistyped)", service.account_by_number, mistyped),
        measure("bill_summary", service.bill_summary, pick(accounts)),
        measure("outages", service.outages, pick(accounts)),
        measure("customer_360", service.customer_360, pick(customers)),
    ]
    engine.dispose()
    print(f"{'service':<30} {'lookups':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'refused':>8}")
    for r in results:
        print(
            f"{r['service']:<30} {r['lookups']:>8} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} "
            f"{r['max_ms']:>8.3f} {r['refused']:>8}"
        )
    slow = [r["service"] for r in results if r["p99_ms"] >= 2.0]
    if slow:
        print("over the 2 ms p99 budget: " + ", ".join(slow))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
