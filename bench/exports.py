"""Exports at scale: 1,000,000 daily-return rows streamed to CSV and to Excel.

Target (issue 5): an export of 1,000,000 rows never holds them in memory — peak resident
memory <= 500 MB for each format. The book is 800 clients x 1,250 days of stored daily
returns, COPied into a throwaway database; each export runs through the service (server-side
cursor, CSV writer / openpyxl write-only workbook) into a temporary file, in a child process
so its peak resident memory (``ru_maxrss``) is the export's own.

tracemalloc slows Python about sevenfold, so the Python heap peak is measured on a smaller
export (the first 62 days of every client, about 50,000 rows) in another child: with
streaming it stays flat whatever the number of rows.
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.db import throwaway_database
from core.db import UnitOfWork, engine_for, uow_factory
from core.models import Role
from core.services.exports import export
from core.services.principal import Principal

CLIENTS, DAYS = 800, 1_250
ROWS = CLIENTS * DAYS
FIRST_DAY = date(2021, 11, 29)
SMALL_END = FIRST_DAY + timedelta(days=61)  # 62 days x 800 clients = 49,600 rows
TARGET_PEAK_MB = 500.0
ACTOR = Principal(user_id=None, email="bench@example.com", role=Role.READ_ONLY)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def seed(url: str) -> None:
    """COPY the clients and their 1,000,000 daily returns (a plausible, growing series)."""
    days = [(FIRST_DAY + timedelta(days=i)).isoformat() for i in range(DAYS)]
    with psycopg.connect(_libpq(url)) as conn:
        with conn.cursor().copy("COPY clients (name, email) FROM STDIN") as copy:
            for i in range(CLIENTS):
                copy.write_row((f"Cliente {i:04d}", f"cliente{i}@bench.example"))
        ids = [r[0] for r in conn.execute("SELECT id FROM clients ORDER BY id")]
        statement = (
            "COPY daily_returns (client_id, date, market_value, flow_in, daily_return, "
            "cumulative_twr) FROM STDIN WITH (FORMAT csv)"
        )
        with conn.cursor().copy(statement) as copy:
            for client_id in ids:
                buffer = io.StringIO()
                value, growth = 10_000.0 + client_id, 1.0
                for i, day in enumerate(days):
                    change = ((client_id * 7 + i * 13) % 41 - 20) / 1000  # -2% .. +2%
                    flow = 1_000.0 if i % 250 == 0 else 0.0
                    value = value * (1 + change) + flow
                    growth *= 1 + change
                    buffer.write(
                        f"{client_id},{day},{value:.8f},{flow:.8f},{change:.12f},"
                        f"{growth - 1:.12f}\n"
                    )
                copy.write(buffer.getvalue())
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def child(url: str, fmt: str, small: bool) -> None:
    """Run in a child process: one export into a temporary file; prints JSON figures."""
    factory = uow_factory(engine_for(url))
    query = {"dataset": "daily_returns", **({"end": SMALL_END} if small else {})}
    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if small:
        tracemalloc.start()
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        result = export(UnitOfWork(factory), None, ACTOR, [query], fmt, out, "pt_BR")
        seconds = time.perf_counter() - started
        size = out.tell()
    heap_peak = tracemalloc.get_traced_memory()[1] if small else None
    print(
        json.dumps(
            {
                "rows": result.rows["daily_returns"],
                "seconds": seconds,
                "bytes": size,
                "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "baseline_kib": baseline_kib,
                "heap_peak": heap_peak,
            }
        )
    )


def _run_child(url: str, fmt: str, small: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.exports", url, fmt, "small" if small else "full"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run() -> bool:
    """Print the export figures; return whether every target was met."""
    print(f"\n== Exports: {ROWS:,} daily-return rows ({CLIENTS} clients x {DAYS} days) ==")
    ok = True
    with throwaway_database() as url:
        started = time.perf_counter()
        seed(url)
        print(f"seeded with COPY in {time.perf_counter() - started:.1f} s")
        for fmt in ("csv", "xlsx"):
            full = _run_child(url, fmt, small=False)
            peak_mb, start_mb = full["peak_kib"] / 1024, full["baseline_kib"] / 1024
            rate = full["rows"] / full["seconds"]
            print(
                f"{fmt}: {full['rows']:,.0f} rows in {full['seconds']:.1f} s ({rate:,.0f} rows/s),"
                f" {full['bytes'] / 2**20:.0f} MiB file, peak RSS {peak_mb:.0f} MB (process at "
                f"start {start_mb:.0f} MB; target <= {TARGET_PEAK_MB:.0f} MB)"
            )
            ok &= full["rows"] == ROWS and peak_mb <= TARGET_PEAK_MB
            small = _run_child(url, fmt, small=True)
            print(
                f"{fmt}: Python heap peak (tracemalloc) {small['heap_peak'] / 2**20:.1f} MiB "
                f"over {small['rows']:,.0f} rows"
            )
    return ok


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2], sys.argv[3] == "small")
