"""Marks: what a cache keeps a result against, as a hash PostgreSQL computes over the rows
the result was derived from, without sending them.

Each ``*_HASH`` is the sum of ``hashtextextended`` over one table's rows (the columns a
derived result reads, joined by ``|``; ``{p}`` is the table's alias with its dot, or empty):
a sum does not depend on row order, is exact in ``numeric``, and changes when any row is
added, edited or deleted. Used by the statements' fingerprints
(:mod:`core.repositories.statements`) and a client's ledger mark (:data:`LEDGER_MARK`,
read through :meth:`core.repositories.movements.MovementRepository.ledger_mark`).
"""

from __future__ import annotations

from sqlalchemy import text

MOVEMENT_ROW = (
    "hashtextextended(concat_ws('|', {p}id, {p}asset_id, {p}kind, {p}quantity, {p}price, "
    "{p}fees, {p}date, {p}income_type, {p}amount, {p}tax), 0)"
)
EVENT_ROW = (
    "hashtextextended(concat_ws('|', {p}id, {p}asset_id, {p}kind, {p}ex_date, {p}ratio, "
    "{p}value, {p}source, {p}dismissed, {p}corrected), 0)"
)
ASSET_ROW = (
    "hashtextextended(concat_ws('|', {p}id, {p}symbol, {p}name, {p}currency, "
    "{p}asset_type, {p}asset_class), 0)"
)

# A client's ledger as positions and lots read it: the client's row (its name, status...),
# its movements, the events and the rows of the assets they are in. NULL: no such client.
LEDGER_MARK = text(
    "SELECT concat_ws(':', c.updated_at, "  # noqa: S608 - this module's constants only
    f"(SELECT count(*) || '/' || coalesce(sum({MOVEMENT_ROW.format(p='m.')}), 0) "
    "FROM movements m WHERE m.client_id = c.id), "
    f"(SELECT count(*) || '/' || coalesce(sum({EVENT_ROW.format(p='e.')}), 0) "
    "FROM asset_events e WHERE e.asset_id IN "
    "(SELECT asset_id FROM movements WHERE client_id = c.id)), "
    f"(SELECT coalesce(sum({ASSET_ROW.format(p='a.')}), 0) "
    "FROM assets a WHERE a.id IN (SELECT asset_id FROM movements WHERE client_id = c.id))) "
    "FROM clients c WHERE c.id = :client"
)
