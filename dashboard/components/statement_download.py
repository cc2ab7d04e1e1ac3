"""The client statement's download: pick a month the client has figures in, get its PDF.

The PDF is drawn only when the button is clicked (Streamlit calls the data function then),
never on a page run or a live refresh.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from core.i18n import Translator
from core.market.port import MarketData
from core.services import statement_store
from core.services.principal import Principal
from core.services.statements import month_period, statement_months
from dashboard import runtime

PDF = "application/pdf"


def statement_download(client_id: int, market: MarketData, actor: Principal, t: Translator) -> None:
    """A month select and the download button of that month's statement (nothing before
    the client's first stored figures)."""
    months = statement_months(runtime.uow(), client_id)
    if not months:
        return
    st.subheader(t("statement.title"))
    chosen = st.selectbox(
        t("statement.month"),
        months,
        format_func=lambda ym: f"{t(f'month.short.{ym[1]}')}/{ym[0]}",
        key=f"statement_month_{client_id}",
    )
    start, end = month_period(*chosen)
    statement_button(
        client_id,
        start,
        end,
        market,
        actor,
        t,
        file_name=f"extrato-{client_id}-{chosen[0]}-{chosen[1]:02d}.pdf",
        key=f"statement_pdf_{client_id}",
    )


def statement_button(
    client_id: int,
    start: date,
    end: date,
    market: MarketData,
    actor: Principal,
    t: Translator,
    *,
    file_name: str,
    key: str,
) -> None:
    """The download button of the client's statement for [start, end], drawn as a PDF
    only when it is clicked (and recorded in the audit log then)."""
    firm = runtime.settings().firm_name

    def pdf() -> bytes:
        return statement_store.on_demand_pdf(
            runtime.uow, market.name, actor, client_id, start, end, firm=firm, t=t
        )

    st.download_button(
        t("statement.download"),
        data=pdf,
        file_name=file_name,
        mime=PDF,
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        key=key,
    )
