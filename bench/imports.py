"""Imports at the row limit: a 5,000-row clients file and a 5,000-row allocations file.

Measured on a throwaway database with the demo market data: reading and validating the
file alone, the preview (plus the stored-data checks), the commit (one transaction), and
the same file again (everything unchanged). Targets: each commit of a full file within
``COMMIT_TARGET_S``, each preview within ``PREVIEW_TARGET_S`` (an admin waits for them).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

from bench.db import throwaway_database
from core.db import UnitOfWork, engine_for, uow_factory
from core.imports.reading import MAX_ROWS
from core.imports.validation import check_file
from core.market.catalogue import CATALOGUE
from core.market.demo import DemoMarketData
from core.models import Role
from core.services.imports import commit_import, preview_import
from core.services.principal import Principal

ADMIN = Principal(user_id=None, email="bench@example.com", role=Role.ADMIN)
COMMIT_TARGET_S = 5.0
PREVIEW_TARGET_S = 3.0
B3 = [listing.symbol for listing in CATALOGUE if listing.symbol.endswith(".SA")]


def _cpf(n: int) -> str:
    """The ``n``-th valid CPF (modulo-11 check digits over a 9-digit base)."""
    digits = [int(c) for c in f"{100_000_000 + n:09d}"]
    for weights in (range(10, 1, -1), range(11, 1, -1)):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def clients_csv(rows: int) -> bytes:
    """A pt-BR clients file; every other client has a CPF."""
    lines = ["Nome;E-mail;CPF/CNPJ;Telefone;Situação;Observações"]
    for i in range(rows):
        document = _cpf(i) if i % 2 == 0 else ""
        lines.append(
            f"Cliente {i};cliente{i}@example.com;{document};11 3333-{i % 10000:04d};Ativo;"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def allocations_csv(rows: int, clients: int) -> bytes:
    """A pt-BR allocations file over the demo B3 tickers (distinct lots)."""
    lines = ["Cliente;Ativo;Quantidade;Preço de compra;Data de compra"]
    for i in range(rows):
        client, symbol = f"cliente{i % clients}@example.com", B3[i % len(B3)]
        price, day = f"{10 + i % 90},{i % 100:02d}", f"{1 + i % 28:02d}/0{1 + i % 9}/2025"
        lines.append(f"{client};{symbol};{1 + i};{price};{day}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """Result and wall-clock seconds (no tracing: tracemalloc would slow it several times)."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def run() -> bool:
    """Print the figures; True when the targets are met."""
    ok = True
    with throwaway_database() as url:
        factory = uow_factory(engine_for(url))
        market = DemoMarketData()

        def uow() -> UnitOfWork:
            return UnitOfWork(factory)

        for kind, data in (
            ("clients", clients_csv(MAX_ROWS)),
            ("allocations", allocations_csv(MAX_ROWS, MAX_ROWS)),
        ):
            print(f"\n{kind}: {MAX_ROWS} rows, {len(data) / 1024:.0f} KiB")
            report, seconds = _timed(lambda d=data, k=kind: check_file(k, "f.csv", d, "pt_BR"))
            assert report.ok, report.file_errors or report.rows[0].reasons
            print(f"  read + validate (no database): {seconds:.2f} s")
            report, seconds = _timed(
                lambda d=data, k=kind: preview_import(uow(), market, ADMIN, k, "f.csv", d, "pt_BR")
            )
            assert report.ok
            print(f"  preview: {seconds:.2f} s")
            ok &= seconds <= PREVIEW_TARGET_S
            for label in ("commit", "commit again (all unchanged)"):
                outcome, seconds = _timed(
                    lambda d=data, k=kind: commit_import(
                        uow(), market, ADMIN, k, "f.csv", d, "pt_BR"
                    )
                )
                print(
                    f"  {label}: {seconds:.2f} s "
                    f"(created {outcome.created}, unchanged {outcome.unchanged})"
                )
                ok &= seconds <= COMMIT_TARGET_S
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the process: {peak:.0f} MiB")
    print(f"targets: preview <= {PREVIEW_TARGET_S} s, commit <= {COMMIT_TARGET_S} s")
    return ok


if __name__ == "__main__":
    import sys

    sys.exit(0 if run() else 1)
