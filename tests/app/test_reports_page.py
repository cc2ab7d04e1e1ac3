"""Download buttons on the Reports, Clients and client pages: labels, and the files they
produce when clicked (the deferred download run as Streamlit runs it), for both roles."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select, text
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest, app_test
from streamlit.testing.v1.element_tree import DownloadButton
from streamlit.util import calc_hash

from core.config import get_settings
from core.db import UnitOfWork
from core.errors import ValidationFailed
from core.i18n import translate
from core.market.demo import DemoMarketData
from core.models import AuditEntry, DailyReturn
from core.schemas import ClientOut
from core.services import closing, statement_store
from core.services import exports as export_service
from core.services.principal import SYSTEM
from core.services.statement_batch import generate_statements
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    create_client,
    hold,
    pt,
    selectbox,
    sign_in,
    sign_in_to_clients,
    text_input,
    values,
)

Make = Callable[[], UnitOfWork]
REPORTS_PAGE = "app_pages/reports.py"
DETAIL_PAGE = "app_pages/client_detail.py"


@dataclass(frozen=True)
class Download:
    """A file as the browser would receive it."""

    name: str
    mime: str
    content: bytes

    def csv_rows(self, delimiter: str = ";") -> list[list[str]]:
        assert self.content.startswith(b"\xef\xbb\xbf")
        text = self.content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


Fetch = Callable[[DownloadButton], Download]


@pytest.fixture
def fetch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fetch]:
    """Click a download button the way the browser does: run its deferred callable through
    the media file manager of the app run that drew it, and read the stored file."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)

    def run(button: DownloadButton) -> Download:
        file_id = button.proto.deferred_file_id
        assert file_id, "generated on click, not while the page is drawn"
        manager = next(m for m in reversed(managers) if file_id in m._deferred_callables)
        url = manager.execute_deferred(file_id)
        stored = manager.read_file(url.rsplit("/", 1)[1])
        assert stored is not None
        return Download(stored.filename or "", stored.mimetype, stored.content)

    return run


def download(at: AppTest, label_key: str, locale: str = "pt_BR") -> DownloadButton:
    label = translate(label_key, locale)
    found = [b for b in at.download_button if b.label == label]
    assert len(found) == 1, f"{[b.label for b in at.download_button]}"
    return found[0]


def exports_audited(make: Make) -> list[tuple[str, str, dict]]:
    with make() as uow:
        entries = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)
        )
        return [(e.actor_email, e.entity_id, e.after or {}) for e in entries]


def open_reports(email: str) -> AppTest:
    at = sign_in(email)
    at.switch_page(REPORTS_PAGE).run()
    assert_no_exception(at)
    return at


@pytest.fixture
def people(demo_env: Make) -> dict[str, ClientOut]:
    ana = create_client(
        demo_env, name="Ana Lima", email="ana@example.com", phone="+55 11 98888-7777"
    )
    bia = create_client(demo_env, name="Beatriz Reis", email="bia@example.com", status="inactive")
    hold(demo_env, ana.id, "PETR4.SA", "100", "30", date(2025, 3, 10))
    hold(demo_env, bia.id, "VALE3.SA", "10", "60", date(2025, 3, 10))
    return {"ana": ana, "bia": bia}


# -- the reports page -----------------------------------------------------------------------


def test_reader_exports_clients_as_csv(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch
) -> None:
    at = open_reports(READER_EMAIL)

    assert values(at.title) == [pt("reports.title")]
    assert [b.label for b in at.download_button] == [pt("export.csv"), pt("export.xlsx")]
    file = fetch(download(at, "export.csv"))

    assert file.name.startswith("anka-clients-")
    assert file.name.endswith(".csv")
    assert file.mime == "text/csv"
    header, *rows = file.csv_rows()
    assert header[1] == pt("field.name")
    assert [r[1] for r in rows] == ["Ana Lima", "Beatriz Reis"]
    assert rows[0][4] == "'+55 11 98888-7777"
    assert exports_audited(demo_env) == [
        (
            READER_EMAIL,
            "clients",
            {"format": "csv", "datasets": [{"dataset": "clients", "filters": {}, "rows": 2}]},
        )
    ]


def test_nothing_is_generated_or_audited_until_a_click(
    demo_env: Make, people: dict[str, ClientOut]
) -> None:
    at = open_reports(ADMIN_EMAIL)
    at.run()
    assert len(at.download_button) == 2
    assert exports_audited(demo_env) == []


def test_status_filter_reaches_the_workbook(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch
) -> None:
    at = open_reports(ADMIN_EMAIL)
    at.selectbox(key="reports_status").select("inactive").run()
    file = fetch(download(at, "export.xlsx"))

    assert file.name.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(file.content))
    assert workbook.sheetnames == [pt("export.summary.sheet"), pt("export.dataset.clients")]
    sheet = workbook[pt("export.dataset.clients")]
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == ["Beatriz Reis"]
    summary = {
        r[0].value: r[1].value for r in workbook[pt("export.summary.sheet")].iter_rows(min_row=2)
    }
    assert summary[pt("export.summary.exported_by")] == ADMIN_EMAIL
    title = pt("export.dataset.clients")
    assert summary[pt("export.summary.filters", dataset=title)] == (
        f"{pt('field.status')}: {pt('status.inactive')}"
    )


def test_allocations_of_one_client_with_the_demo_label(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch
) -> None:
    at = open_reports(ADMIN_EMAIL)
    at.selectbox(key="reports_dataset").select("allocations").run()
    assert pt("market.source.demo") in values(at.warning)
    picker = selectbox(at, "reports.client")
    picker.select(people["ana"].id).run()
    assert_no_exception(at)
    file = fetch(download(at, "export.csv"))

    assert file.name.startswith(f"anka-allocations-client-{people['ana'].id}-demo-")
    header, row = file.csv_rows()
    assert header[2] == pt("col.ticker")
    assert row[:8] == [
        "Ana Lima",
        "ana@example.com",
        "PETR4.SA",
        row[3],
        "BRL",
        "100",
        "30,00",
        "10/03/2025",
    ]
    assert row[9] != "", "priced from the live (demo) quotes"


def test_a_reversed_date_range_is_refused_without_buttons(demo_env: Make, people: dict) -> None:
    at = open_reports(ADMIN_EMAIL)
    at.selectbox(key="reports_dataset").select("daily_returns").run()
    at.text_input(key="reports_start").input("01/02/2026").run()
    at.text_input(key="reports_end").input("01/01/2026").run()

    assert_no_exception(at)
    assert pt("validation.date_range") in " ".join(values(at.error))
    assert len(at.download_button) == 0


def test_too_many_daily_rows_for_a_browser_download(
    demo_env: Make, people: dict[str, ClientOut], monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_env() as uow:
        for client in people.values():
            uow.session.add(
                DailyReturn(
                    client_id=client.id,
                    date=date(2026, 1, 5),
                    market_value=Decimal(1),
                    flow_in=Decimal(1),
                    daily_return=Decimal(0),
                    cumulative_twr=Decimal(0),
                )
            )
        uow.commit()
    monkeypatch.setattr(export_service, "DASHBOARD_MAX_ROWS", 1)
    at = open_reports(ADMIN_EMAIL)
    at.selectbox(key="reports_dataset").select("daily_returns").run()

    assert values(at.warning) == [pt("export.too_large", rows="2", max="1")]
    assert len(at.download_button) == 0
    selectbox(at, "reports.client").select(people["ana"].id).run()  # one client: allowed
    assert len(at.download_button) == 2


def test_daily_returns_for_a_client_found_by_search(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch
) -> None:
    at = open_reports(ADMIN_EMAIL)
    at.selectbox(key="reports_dataset").select("daily_returns").run()
    text_input(at, "reports.client_search").input("beatriz").run()
    picker = selectbox(at, "reports.client")
    assert picker.options == [pt("reports.all_clients"), "Beatriz Reis · bia@example.com"]
    picker.select(people["bia"].id).run()
    at.text_input(key="reports_start").input("01/01/2026").run()
    file = fetch(download(at, "export.csv"))

    header, *rows = file.csv_rows()  # the scheduler has not run: the header only
    assert header[2] == pt("export.col.date")
    assert rows == []
    [(_, _, after)] = exports_audited(demo_env)
    assert after["datasets"][0]["filters"] == {"client_id": people["bia"].id, "start": "2026-01-01"}


def test_reports_in_english(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANKA_LOCALE", "en")
    get_settings.cache_clear()
    at = open_reports(ADMIN_EMAIL)
    at.selectbox(key="reports_dataset").select("portfolio_summary").run()

    assert [b.label for b in at.download_button] == ["Download CSV", "Download Excel"]
    file = fetch(download(at, "export.csv", "en"))
    header, *rows = file.csv_rows(",")
    assert header[:3] == ["Client", "Client e-mail", "Status"]
    assert [r[0] for r in rows] == ["Ana Lima", "Beatriz Reis"]


@pytest.mark.parametrize("email", [ADMIN_EMAIL, READER_EMAIL])
def test_every_role_reaches_reports_by_its_url(demo_env: Make, email: str) -> None:
    at = sign_in(email)
    at._page_hash = calc_hash("reports")  # what the browser asks for at /reports
    at.run()

    assert_no_exception(at)
    assert values(at.title) == [pt("reports.title")]


# -- the clients and client pages -----------------------------------------------------------


def test_clients_page_exports_the_current_filter(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch
) -> None:
    at = sign_in_to_clients(READER_EMAIL, query_params={"q": "ana"})
    assert_no_exception(at)

    assert [b.label for b in at.download_button] == [pt("export.csv"), pt("export.xlsx")]
    assert pt("export.filtered", total=1) in values(at.caption)
    rows = fetch(download(at, "export.csv")).csv_rows()[1:]
    assert [r[1] for r in rows] == ["Ana Lima"]
    [(email, entity_id, after)] = exports_audited(demo_env)
    assert (email, entity_id) == (READER_EMAIL, "clients")
    assert after["datasets"][0]["filters"] == {"search": "ana"}


def test_client_page_exports_that_client(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch
) -> None:
    ana = people["ana"].id
    at = sign_in(READER_EMAIL)
    at.query_params["client"] = str(ana)
    at.switch_page(DETAIL_PAGE).run()
    assert_no_exception(at)

    assert [b.label for b in at.download_button] == [
        pt("export.allocations_csv"),
        pt("export.daily_csv"),
        pt("export.xlsx"),
    ]
    lots = fetch(download(at, "export.allocations_csv")).csv_rows()[1:]
    assert [(r[0], r[2]) for r in lots] == [("Ana Lima", "PETR4.SA")]
    daily = fetch(download(at, "export.daily_csv"))
    assert daily.name.startswith(f"anka-daily-returns-client-{ana}-")
    book = fetch(download(at, "export.xlsx"))
    assert book.name.startswith(f"anka-allocations-daily-returns-client-{ana}-demo-")
    workbook = load_workbook(io.BytesIO(book.content))
    assert workbook.sheetnames == [
        pt("export.summary.sheet"),
        pt("export.dataset.allocations"),
        pt("export.dataset.daily_returns"),
    ]
    assert [entity for _, entity, _ in exports_audited(demo_env)] == [
        "allocations",
        "daily_returns",
        "allocations+daily_returns",
    ]


def test_the_ledger_and_positions_of_one_client(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch
) -> None:
    at = open_reports(ADMIN_EMAIL)
    offered = at.selectbox(key="reports_dataset").options
    assert pt("export.dataset.ledger") in offered
    assert pt("export.dataset.positions") in offered

    at.selectbox(key="reports_dataset").select("ledger").run()
    assert pt("reports.hint.ledger") in values(at.caption)
    selectbox(at, "reports.client").select(people["ana"].id).run()
    assert_no_exception(at)
    file = fetch(download(at, "export.csv"))
    assert file.name.startswith(f"anka-ledger-client-{people['ana'].id}-")
    header, row = file.csv_rows()
    assert header[3] == pt("field.kind")
    assert row[:8] == [
        "Ana Lima",
        "ana@example.com",
        "10/03/2025",
        "Compra",
        "PETR4.SA",
        "BRL",
        "100",
        "30,00",
    ]

    at.selectbox(key="reports_dataset").select("positions").run()
    assert pt("market.source.demo") in values(at.warning)
    assert_no_exception(at)
    file = fetch(download(at, "export.xlsx"))
    assert file.name.startswith(f"anka-positions-client-{people['ana'].id}-demo-")
    sheet = load_workbook(io.BytesIO(file.content))[pt("export.dataset.positions")]
    (petr,) = (list(r) for r in sheet.iter_rows(min_row=2))
    assert [c.value for c in petr[:3]] == ["Ana Lima", "ana@example.com", "PETR4.SA"]
    assert petr[5].value == 100
    assert petr[6].value == 30  # preço médio
    assert isinstance(petr[7].value, int | float), "priced from the live (demo) quotes"


# -- the statements on the reports page ------------------------------------------------------
MARCH = date(2025, 3, 1)


@pytest.fixture
def stored_march(people: dict[str, ClientOut], committed_engine: Engine) -> None:
    """The statements job's March run: Ana's (active) statement is stored, Beatriz's not."""
    market = DemoMarketData()
    closed = closing.backfill(
        committed_engine, market, date(2025, 3, 10), date(2025, 3, 31), actor=SYSTEM
    )
    assert closed.status == "success", closed
    report = generate_statements(
        committed_engine, "demo", date(2025, 4, 1), actor=SYSTEM, firm="Anka", workers=1
    )
    assert (report.status, report.rows_written) == ("success", 1), report


def test_without_stored_statements_the_page_says_when_they_come(demo_env: Make) -> None:
    at = open_reports(READER_EMAIL)

    assert pt("statements.none") in values(at.info)
    assert pt("statements.pick_client") in values(at.caption)
    assert [b.label for b in at.download_button] == [pt("export.csv"), pt("export.xlsx")]


def test_a_stored_statement_is_listed_and_downloaded_by_its_row_and_in_the_months_zip(
    demo_env: Make,
    people: dict[str, ClientOut],
    stored_march: None,
    fetch: Fetch,
    committed_engine: Engine,
) -> None:
    at = open_reports(READER_EMAIL)

    assert at.selectbox(key="stored_month").value == MARCH
    table = at.dataframe[0].value
    assert list(table[pt("statements.col.client")]) == ["Ana Lima"]
    zip_label = pt("statements.download_zip", count=1)
    [zip_button] = [b for b in at.download_button if b.label == zip_label]
    archive = fetch(zip_button)
    assert archive.name == "extratos-2025-03.zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        name = f"extrato-{people['ana'].id}-2025-03.pdf"
        assert opened.namelist() == [name]
        stored = opened.read(name)
    assert stored.startswith(b"%PDF")
    # What the browser sends when a row is clicked: the table's selection
    table_key = "stored_statements_table_202503_all"  # the month's list, every client
    at.session_state[table_key] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    label = pt("statements.download_one", name="Ana Lima")
    [one] = [b for b in at.download_button if b.label == label]
    pdf = fetch(one)
    assert (pdf.name, pdf.mime, pdf.content) == (name, "application/pdf", stored)
    # Each file handed out is an export in the audit log, with what it held
    assert [
        (email, after["format"], after["datasets"]) for email, _, after in exports_audited(demo_env)
    ] == [
        (
            READER_EMAIL,
            "zip",
            [{"dataset": "statement", "filters": {"month": "2025-03"}, "rows": 1}],
        ),
        (
            READER_EMAIL,
            "pdf",
            [
                {
                    "dataset": "statement",
                    "filters": {"client_id": people["ana"].id, "month": "2025-03"},
                    "rows": 1,
                }
            ],
        ),
    ]


def test_a_long_month_says_how_many_are_not_listed_and_names_are_text(
    demo_env: Make,
    people: dict[str, ClientOut],
    stored_march: None,
    committed_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with committed_engine.begin() as conn:  # Ana's name, as someone could have typed it
        conn.execute(
            text("UPDATE clients SET name = '![x](https://evil.example/x.png)' WHERE id = :c"),
            {"c": people["ana"].id},
        )
    bia = people["bia"].id
    with committed_engine.begin() as conn:  # Beatriz's March too (a copy of Ana's PDF)
        conn.execute(
            text(
                "INSERT INTO statements (client_id, period_start, period_end, fingerprint,"
                " pdf, size, generated_by) SELECT :c, period_start, period_end, fingerprint,"
                " pdf, size, generated_by FROM statements"
            ),
            {"c": bia},
        )
    monkeypatch.setattr(statement_store, "LIST_LIMIT", 1)
    monkeypatch.setattr(statement_store, "ZIP_LIMIT", 1)

    at = open_reports(READER_EMAIL)

    assert pt("statements.more", shown="1", total="2") in values(at.caption)
    assert pt("statements.zip_too_large", max="1") in values(at.caption)
    assert not [b for b in at.download_button if b.proto.label.endswith("(ZIP)")]
    with pytest.raises(ValidationFailed):  # the service refuses it too
        statement_store.month_zip(demo_env(), SYSTEM, MARCH)
    key = "stored_statements_table_202503_all"
    at.session_state[key] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    [one] = [b for b in at.download_button if b.proto.label.endswith("(PDF)")]
    assert one.proto.label == pt(  # escaped: shown as text, never loaded as an image
        "statements.download_one", name=escape_markdown("![x](https://evil.example/x.png)")
    )


def test_a_statement_for_any_period_on_demand(
    demo_env: Make, people: dict[str, ClientOut], fetch: Fetch
) -> None:
    at = open_reports(READER_EMAIL)
    text_input(at, "statements.client_search").input("ana").run()
    selectbox(at, "statements.client").select(people["ana"].id).run()
    at.text_input(key="statement_start").input("10/03/2025").run()
    at.text_input(key="statement_end").input("20/03/2025").run()

    pdf = fetch(download(at, "statement.download"))

    assert pdf.name == f"extrato-{people['ana'].id}-20250310-20250320.pdf"
    assert pdf.content.startswith(b"%PDF")
    [(_, _, after)] = exports_audited(demo_env)
    assert after["datasets"][0]["filters"] == {
        "client_id": people["ana"].id,
        "start": "2025-03-10",
        "end": "2025-03-20",
    }
    # A reversed period: its message, no button
    at.text_input(key="statement_start").input("21/03/2025").run()
    assert_no_exception(at)
    assert pt("validation.date_range") in " ".join(values(at.error) + values(at.caption))
    assert not [b for b in at.download_button if b.label == pt("statement.download")]
