"""The scheduler's reads of the ledger: what is held, and the whole book in one snapshot.

Like :mod:`core.repositories.figures`, everything runs straight on the psycopg connection
under the caller's session, with binary arrays (no ORM rows): the daily close of a large
book reads 100,000 movements in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
from psycopg import sql
from sqlalchemy.orm import Session

from core.analytics.returns import Columns
from core.repositories.figures import LAST_DAYS, LEDGER_VERSION, StoredDays
from core.repositories.pg import driver, epoch_days, fetch_one


@dataclass(frozen=True, slots=True)
class HeldAsset:
    """An asset somebody's ledger holds, and the earliest date it appears in one."""

    asset_id: int
    symbol: str
    first_buy: date
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """What a recomputation reads about the book, all from one statement (one snapshot).

    ``movements`` has the columns id, client_id, asset_id, kind, date (datetime64[D]),
    quantity, price, fees and net (income's amount minus tax), floats for the math;
    ``events`` the held assets' events that are not dismissed: asset_id, kind, ex_date,
    ratio, value; ``version`` fingerprints movements and events at that snapshot (it
    differs as soon as one is added, edited or deleted); ``currencies`` maps each held asset
    to its currency (None where the source did not say); ``last`` is each client's last
    stored daily return.
    """

    movements: Columns
    events: Columns
    version: tuple[object, ...]
    currencies: dict[int, str | None]
    last: StoredDays


_SNAPSHOT = sql.SQL(
    # The aggregates of one level read the rows in the same order, so the arrays line up;
    # they are put in id order afterwards (nine sorts here cost twice the whole read).
    "SELECT * FROM (SELECT array_agg(id), array_agg(client_id), array_agg(asset_id), "
    "array_agg(kind), array_agg(date - DATE '1970-01-01'), array_agg(quantity::float8), "
    "array_agg(price::float8), array_agg(fees::float8), array_agg((amount - tax)::float8) "
    "FROM movements {where}) AS ledger, "
    "(SELECT array_agg(asset_id), array_agg(kind), array_agg(ex_date - DATE '1970-01-01'), "
    "array_agg(ratio::float8), array_agg(value::float8) FROM asset_events "
    "WHERE NOT dismissed AND asset_id IN (SELECT asset_id FROM movements {where})) AS events, "
    "({version}) AS version, "
    "(SELECT array_agg(id), array_agg(currency) FROM assets "
    "WHERE id IN (SELECT asset_id FROM movements {where})) AS held, "
    "({last}) AS last"
)


class LedgerRepository:
    """The scheduler's and the recompute's reads of the whole ledger, and the events
    market data brings, in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def held_assets(self) -> list[HeldAsset]:
        """Every asset in some client's ledger, with the first date it appears."""
        with driver(self.session).cursor(binary=True) as cursor:
            rows = cursor.execute(
                "SELECT a.id, a.symbol, min(m.date), a.currency FROM movements m "
                "JOIN assets a ON a.id = m.asset_id GROUP BY a.id ORDER BY a.symbol"
            ).fetchall()
        return [HeldAsset(int(r[0]), str(r[1]), r[2], r[3]) for r in rows]

    def unpriced_assets(self) -> list[HeldAsset]:
        """The held assets without any stored close since the first day they were held
        (a new ticker whose history is not fetched yet), by symbol."""
        with driver(self.session).cursor(binary=True) as cursor:
            rows = cursor.execute(
                "SELECT a.id, a.symbol, h.first, a.currency FROM "
                "(SELECT asset_id, min(date) AS first FROM movements GROUP BY asset_id) AS h "
                "JOIN assets a ON a.id = h.asset_id WHERE NOT EXISTS "
                "(SELECT 1 FROM prices p WHERE p.asset_id = h.asset_id AND p.date >= h.first) "
                "ORDER BY a.symbol"
            ).fetchall()
        return [HeldAsset(int(r[0]), str(r[1]), r[2], r[3]) for r in rows]

    def book_snapshot(self, client_ids: Sequence[int] | None = None) -> BookSnapshot:
        """Every movement and event, their version, the held assets' currencies and each
        client's last stored day, in one round trip and one snapshot (a change in between
        cannot pair an old ledger with new figures). With ``client_ids``, only those clients'
        movements (and the events and currencies of their assets)."""
        where = sql.SQL("WHERE client_id = ANY(%(ids)s) " if client_ids is not None else "")
        statement = _SNAPSHOT.format(
            where=where,
            version=LEDGER_VERSION,
            last=sql.SQL(LAST_DAYS).format(
                before=sql.SQL(""),
                clients=sql.SQL("AND c.id = ANY(%(ids)s) " if client_ids is not None else ""),
            ),
        )
        row = fetch_one(self.session, statement, {"ids": list(client_ids or [])})
        ids, clients, assets, kinds, days, quantities, prices, fees, nets = (
            value or [] for value in row[:9]
        )
        order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")
        movements = {
            "id": np.asarray(ids, dtype=np.int64),
            "client_id": np.asarray(clients, dtype=np.int64),
            "asset_id": np.asarray(assets, dtype=np.int64),
            "kind": np.asarray(kinds, dtype=object),
            "date": epoch_days(days),
            "quantity": np.asarray(quantities, dtype=float),
            "price": np.asarray(prices, dtype=float),
            "fees": np.asarray(fees, dtype=float),
            "net": np.asarray(nets, dtype=float),
        }
        movements = {name: column[order] for name, column in movements.items()}
        event_assets, event_kinds, ex_days, ratios, values = (value or [] for value in row[9:14])
        events = {
            "asset_id": np.asarray(event_assets, dtype=np.int64),
            "kind": np.asarray(event_kinds, dtype=object),
            "ex_date": epoch_days(ex_days),
            "ratio": np.asarray(ratios, dtype=float),
            "value": np.asarray(values, dtype=float),
        }
        version = tuple(row[14:20])
        currencies = dict(zip(row[20] or [], row[21] or [], strict=True))
        return BookSnapshot(
            movements, events, version, currencies, StoredDays.from_arrays(*row[22:26])
        )

    def store_events(
        self, rows: list[tuple[int, str, date, Decimal, Decimal, str]]
    ) -> list[tuple[str, date]]:
        """Insert or refresh assets' events from market data, (asset_id, kind, ex_date, ratio,
        value, source) each, in one statement; an event an admin corrected keeps the admin's
        values (and a dismissed one stays dismissed). Returns the (kind, ex_date) of the events
        that are new or changed: an unchanged repeat is not written."""
        if not rows:
            return []
        asset_ids, kinds, days, ratios, values, sources = zip(*rows, strict=True)
        changed = driver(self.session).execute(
            "INSERT INTO asset_events (asset_id, kind, ex_date, ratio, value, source) "
            "SELECT * FROM unnest(%s::int[], %s::text[], %s::date[], %s::numeric[], "
            "%s::numeric[], %s::text[]) "
            "ON CONFLICT (asset_id, kind, ex_date) DO UPDATE SET ratio = EXCLUDED.ratio, "
            "value = EXCLUDED.value, source = EXCLUDED.source, updated_at = now() "
            "WHERE NOT asset_events.corrected AND (asset_events.ratio, asset_events.value) "
            "IS DISTINCT FROM (EXCLUDED.ratio, EXCLUDED.value) RETURNING kind, ex_date",
            (list(asset_ids), list(kinds), list(days), list(ratios), list(values), list(sources)),
        )
        return [(str(kind), day) for kind, day in changed.fetchall()]
