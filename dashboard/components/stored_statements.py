"""The Reports page's statements: the monthly statements the scheduler stored (a month's
list, one client's PDF by clicking its row, the whole month as one ZIP file), and a
client's statement for any period, drawn on demand.

PDFs and ZIP files are read or drawn only when their button is clicked (Streamlit calls
the data function then), never on a page run.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.errors import ValidationFailed
from core.formatting import format_number
from core.i18n import Translator
from core.market.port import MarketData
from core.repositories.statements import StoredStatement
from core.services import statement_store
from core.services.principal import Principal
from core.services.statement_batch import due_month
from core.services.statements import month_period
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.date_field import date_field
from dashboard.components.job_runs import triggered_label
from dashboard.components.markdown import escape_markdown
from dashboard.components.statement_download import PDF, statement_button

ZIP = "application/zip"
TABLE_KEY = "stored_statements_table"


def month_name(month: date, t: Translator) -> str:
    """``mar/2025``: a statement's month as the pages name it."""
    return f"{t(f'month.short.{month.month}')}/{month.year}"


def _frame(items: list[StoredStatement], t: Translator) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                t("statements.col.client"): item.client_name,
                t("statements.col.generated"): columns.local_time(item.generated_at),
                t("statements.col.by"): triggered_label(item.generated_by, t),
                t("statements.col.size"): round(item.size / 1024, 1),
            }
            for item in items
        ],
        columns=[t(f"statements.col.{k}") for k in ("client", "generated", "by", "size")],
    )


def _config(t: Translator) -> dict[str, object]:
    return {
        t("statements.col.client"): columns.text(width="large"),
        t("statements.col.generated"): columns.timestamp(t),
        t("statements.col.by"): columns.text(width=130),
        t("statements.col.size"): columns.quantity(places=1, width=90),
    }


def stored_list(actor: Principal, client_id: int | None, t: Translator) -> None:
    """A month's stored statements (``client_id``'s only when given): click a row to
    download its PDF, or download them all as one ZIP file (under the page's heading
    and client pick)."""
    months = statement_store.stored_months(runtime.uow(), actor)
    if not months:
        st.info(t("statements.none"))
        return
    month = st.selectbox(
        t("statement.month"), months, format_func=lambda m: month_name(m, t), key="stored_month"
    )
    items, total = statement_store.month_statements(runtime.uow(), actor, month, client_id)
    if not items:
        st.info(t("statements.none_for_client", month=month_name(month, t)))
        return
    event = columns.table(
        _frame(items, t),
        column_config=_config(t),
        on_select="rerun",
        selection_mode="single-row",
        key=f"{TABLE_KEY}_{month:%Y%m}_{client_id or 'all'}",  # a new list: no row picked
    )
    if total > len(items):
        st.caption(
            t(
                "statements.more",
                shown=format_number(len(items), t.locale, 0),
                total=format_number(total, t.locale, 0),
            )
        )
    rows = [r for r in event.selection.rows if r < len(items)]
    one_col, all_col = st.columns(2)
    if rows:
        item = items[rows[0]]
        one_col.download_button(
            t("statements.download_one", name=escape_markdown(item.client_name)),
            data=lambda: statement_store.statement_pdf(runtime.uow(), actor, item.id),
            file_name=statement_store.file_name(item),
            mime=PDF,
            on_click="ignore",
            icon=":material/picture_as_pdf:",
            key="stored_statement_pdf",
        )
    else:
        one_col.caption(t("statements.pick_row"))
    if total > statement_store.ZIP_LIMIT:
        all_col.caption(
            t("statements.zip_too_large", max=format_number(statement_store.ZIP_LIMIT, t.locale, 0))
        )
        return
    all_col.download_button(
        t("statements.download_zip", count=format_number(total, t.locale, 0)),
        data=lambda: statement_store.month_zip(runtime.uow(), actor, month, client_id),
        file_name=f"extratos-{month:%Y-%m}.zip",
        mime=ZIP,
        on_click="ignore",
        icon=":material/folder_zip:",
        key="stored_statements_zip",
    )


def on_demand(
    market: MarketData, actor: Principal, client_id: int | None, today: date, t: Translator
) -> None:
    """A client's statement for any period, drawn when its button is clicked (the last
    month due by default)."""
    st.subheader(t("statements.on_demand"))
    if client_id is None:
        st.caption(t("statements.pick_client"))
        return
    default = due_month(today)
    first, last = month_period(default.year, default.month)
    start_col, end_col = st.columns(2)
    with start_col:
        start = date_field(t("reports.start"), "start", t, value=first, key="statement_start")
    with end_col:
        end = date_field(t("reports.end"), "end", t, value=last, key="statement_end")
    if start.problem or end.problem:
        return  # each field says what is wrong under it
    if start.value is None or end.value is None or end.value < start.value:
        raise ValidationFailed.single("end", "validation.date_range")
    statement_button(
        client_id,
        start.value,
        end.value,
        market,
        actor,
        t,
        file_name=f"extrato-{client_id}-{start.value:%Y%m%d}-{end.value:%Y%m%d}.pdf",
        key="statement_on_demand",
    )
