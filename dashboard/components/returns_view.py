"""The returns an advisor reads, as tables of numbers: the periods beside CDI, Ibovespa and
IPCA with "% do CDI", and the monthly grid (a year's portfolio row and its % do CDI row).

Cells hold numbers (ratios), formatted by Streamlit's column configuration as percentages,
so columns sort as numbers. A benchmark whose period is incomplete shows an empty cell,
never a figure computed over invented days, and a note says which days are missing.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.analytics.benchmarks import BenchmarkReturn
from core.formatting import format_date
from core.i18n import Translator
from core.services.office_returns import OfficeReturns
from core.services.period_returns import ClientReturns, Compared
from dashboard.components import columns

BENCHMARK_ORDER = ("CDI", "IBOV", "IPCA")


def _complete(found: BenchmarkReturn) -> float | None:
    return columns.number(found.cumulative) if found.complete else None


def _period_label(row: Compared, t: Translator) -> str:
    label = t(f"returns.period.{row.period.key}")
    if row.period.partial:
        since = format_date(row.period.first, t.locale)
        return t("returns.period.partial", label=label, since=since)
    return label


def periods_frame(found: ClientReturns, t: Translator) -> pd.DataFrame:
    """One row per period: the portfolio, CDI, % do CDI, Ibovespa, IPCA (ratios)."""
    rows = [
        {
            t("returns.col.period"): _period_label(row, t),
            t("returns.col.portfolio"): columns.number(row.twr),
            t("returns.col.cdi"): _complete(row.benchmarks["CDI"]),
            t("returns.col.percent_cdi"): columns.number(row.percent_of_cdi),
            t("returns.col.ibov"): _complete(row.benchmarks["IBOV"]),
            t("returns.col.ipca"): _complete(row.benchmarks["IPCA"]),
        }
        for row in found.periods
    ]
    return columns.numbers_from(pd.DataFrame(rows), 1)


def grid_frame(found: ClientReturns, t: Translator) -> pd.DataFrame:
    """Years as rows (the portfolio's return, then its % do CDI), months as columns, the
    year's total at the end."""
    months = [t(f"month.short.{m}") for m in range(1, 13)]
    rows = []
    for year in reversed(found.grid):  # the latest year first, as statements show it
        for kind in ("portfolio", "percent_cdi"):
            row: dict[str, object] = {
                t("returns.col.year"): str(year.year),
                t("returns.col.line"): t(f"returns.line.{kind}"),
            }
            for number, name in enumerate(months, 1):
                cell = year.months.get(number)
                value = (
                    None
                    if cell is None
                    else (cell.twr if kind == "portfolio" else cell.percent_of_cdi)
                )
                row[name] = columns.number(value)
            total = year.total.twr if kind == "portfolio" else year.total.percent_of_cdi
            row[t("returns.col.total")] = columns.number(total)
            rows.append(row)
    return columns.numbers_from(pd.DataFrame(rows), 2)


def _day_or_month(series: str, day: date, t: Translator) -> str:
    """A missing session as a date; a missing IPCA month as month/year."""
    if series == "IPCA":
        return f"{t(f'month.short.{day.month}')}/{day.year}"
    return format_date(day, t.locale)


def _gaps(found: ClientReturns, t: Translator) -> list[str]:
    """One note per benchmark whose figures above are incomplete, naming what is missing."""
    missing: dict[str, set[date]] = {}
    for row in found.periods:
        for name, value in row.benchmarks.items():
            missing.setdefault(name, set()).update(value.missing)
    notes = []
    for name in BENCHMARK_ORDER:
        days = sorted(missing.get(name, ()))
        if not days:
            continue
        shown = ", ".join(_day_or_month(name, day, t) for day in days[:5])
        more = t("returns.more", count=len(days) - 5) if len(days) > 5 else ""
        notes.append(t(f"returns.missing.{name}", days=shown + more))
    return notes


def show_returns(found: ClientReturns, t: Translator) -> None:
    """The periods table, the monthly grid and the notes on missing benchmark values."""
    if found.as_of is None:
        return
    st.subheader(t("returns.title"))
    st.caption(t("returns.as_of", date=format_date(found.as_of, t.locale)))
    periods = periods_frame(found, t)
    config = {column: columns.percent() for column in periods.columns[1:]}
    columns.table(periods, hide_index=True, column_config=config, width="stretch")
    grid = grid_frame(found, t)
    if not grid.empty:
        st.markdown(f"**{t('returns.grid')}**")
        grid_config = {column: columns.percent() for column in grid.columns[2:]}
        columns.table(grid, hide_index=True, column_config=grid_config, width="stretch")
    for note in _gaps(found, t):
        st.caption(note)


def office_frame(found: OfficeReturns, t: Translator) -> pd.DataFrame:
    """One row per period: the benchmarks, the median client, how many beat the CDI."""
    rows = [
        {
            t("returns.col.period"): t(f"returns.period.{row.period.key}"),
            t("returns.col.cdi"): _complete(row.benchmarks["CDI"]),
            t("returns.col.ibov"): _complete(row.benchmarks["IBOV"]),
            t("returns.col.ipca"): _complete(row.benchmarks["IPCA"]),
            t("returns.col.median"): columns.number(row.median_twr),
            t("returns.col.beat_cdi"): row.beat_cdi,
            t("returns.col.clients"): row.clients,
        }
        for row in found.periods
    ]
    return columns.numbers_from(pd.DataFrame(rows), 1)


def show_office_returns(found: OfficeReturns, t: Translator) -> None:
    """The overview's table of the benchmarks and the clients beside them."""
    if found.as_of is None:
        return
    st.subheader(t("returns.office_title"))
    frame = office_frame(found, t)
    config: dict[str, object] = {column: columns.percent() for column in frame.columns[1:5]}
    for column in frame.columns[5:]:
        config[column] = columns.quantity()
    columns.table(frame, hide_index=True, column_config=config, width="stretch")
    notes = [t("returns.office_as_of", date=format_date(found.as_of, t.locale))]
    if any(row.younger for row in found.periods):
        notes.append(t("returns.office_younger"))
    st.caption(" ".join(notes))
