"""An advisor's day in a real browser, and what a read-only user can (not) do.

Anka runs as ``make demo`` runs it (see ``conftest.py``). The admin signs in, creates a
client, downloads the clients of a filter as CSV, finds an asset, adds it to the client's
portfolio, watches its live price move, downloads the portfolio as CSV and as an Excel
workbook, and signs out. The read-only user then finds no control that
writes on any page, and no admin page answers its URL. Every label comes from the i18n
catalogue, so the test follows the text the UI shows. Streamlit draws asynchronously: the
test waits through Playwright's auto-waiting locators and ``expect``, never with sleeps.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Cookie, Locator, Page, expect

from core.i18n import Translator
from dashboard.auth import COOKIE_NAME
from dashboard.components.markdown import escape_markdown
from tests.e2e.conftest import CHROMIUM, Anka

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (.ci/run installs Debian's `chromium` package)",
    ),
]

t = Translator("pt_BR")

CLIENT_NAME = "Lúcia Navegador Peçanha"
CLIENT_EMAIL = "lucia.navegador@example.com.br"
CLIENT_CPF = "529.982.247-25"
ASSET_QUERY = "IVVB"
SYMBOL = "IVVB11.SA"  # priced around R$ 330: its demo quote moves by cents every tick
QUANTITY = "10"
BUY_PRICE = "300,50"
PRICE_CHANGE_TIMEOUT_MS = 15_000
DOWNLOAD_TIMEOUT_MS = 30_000
# A table's amount in the grid's accessible copy of its cells: the number itself (the
# column configuration formats what the canvas paints; the currency is its own column).
NUMBER = re.compile(r"^\d+(\.\d+)?$")  # 330.12

# Every label of a control that writes, on the pages both roles see.
WRITE_LABELS = [
    t(key)
    for key in (
        "clients.new",
        "clients.create",
        "clients.edit",
        "clients.save",
        "clients.delete",
        "detail.add",
        "detail.edit",
        "detail.save",
        "detail.delete",
        "assets.add",
    )
]


# --- Streamlit in a browser -------------------------------------------------------------


def shown(stored: str) -> str:
    """How stored text inside a message reads on the page: escaped Markdown
    (:func:`~dashboard.components.markdown.escape_markdown`) once rendered, its backslashes
    gone and its invisible word joiners kept."""
    return escape_markdown(stored).replace("\\", "")


def heading(page: Page, text: str) -> Locator:
    return page.get_by_role("heading", name=text, exact=True)


def wait_idle(page: Page) -> None:
    """Until the script run that draws the page has finished (absent things stay absent)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def session_cookies(page: Page) -> list[Cookie]:
    """The browser's session cookies (HttpOnly: only the browser itself can list them)."""
    return [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]


def has_session_cookie(page: Page, present: bool) -> None:
    """Wait until the browser holds (or no longer holds) the session cookie."""
    for _ in range(100):
        if bool(session_cookies(page)) == present:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"session cookie present={not present} after 10 s")


def sign_in(page: Page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.get_by_label(t("login.username"), exact=True).fill(email)
    page.get_by_label(t("login.password"), exact=True).fill(password)
    page.get_by_role("button", name=t("login.submit"), exact=True).click()
    expect(page.get_by_role("button", name=t("app.logout"), exact=True)).to_be_visible()
    # The cookie route set the cookie and reloaded the page.
    has_session_cookie(page, present=True)
    wait_idle(page)


def sign_out(page: Page) -> None:
    """Sign out: the form is back, and the browser drops the session cookie (the sign-out
    route deletes it, a moment after the form shows)."""
    page.get_by_role("button", name=t("app.logout"), exact=True).click()
    expect(page.get_by_role("button", name=t("login.submit"), exact=True)).to_be_visible()
    has_session_cookie(page, present=False)


def sidebar_links(page: Page, section: str | None = None) -> dict[str, str]:
    """Title -> URL of the pages in the sidebar navigation, or in one of its sections."""
    scope = page.get_by_test_id("stSidebarNavItems")
    if section is not None:
        header = page.get_by_test_id("stNavSectionHeader").filter(has_text=section)
        scope = scope.locator(":scope > div").filter(has=header)
    links = scope.get_by_test_id("stSidebarNavLink")
    expect(links.first).to_be_visible()
    return {
        # The title without the icon's ligature text.
        (link.get_by_test_id("stMarkdownContainer").text_content() or "").strip(): (
            link.get_attribute("href") or ""
        )
        for link in links.all()
    }


def go_to(page: Page, title: str) -> None:
    """Follow the sidebar link to the page titled ``title``.

    A click that lands while a component's rerun is under way can be lost (Streamlit then
    reruns the page it was on), so the click is repeated once if the URL did not change.
    """
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True)
    target = re.compile(re.escape(link.get_attribute("href") or "") + r"(\?.*)?$")
    link.click()
    try:
        expect(page).to_have_url(target)
    except AssertionError:
        link.click()
        expect(page).to_have_url(target)


def type_into(scope: Page | Locator, label: str, text: str) -> None:
    """Type into a text input and commit it (Enter), as a user does."""
    field = scope.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")


def open_portfolio(page: Page, client_name: str) -> None:
    """From the clients page: search for the client and open their portfolio."""
    go_to(page, t("nav.clients"))
    expect(heading(page, t("clients.title"))).to_be_visible()
    type_into(page, t("clients.search"), client_name)
    expect(page.get_by_text(t("clients.total", total=1, page=1, pages=1))).to_be_visible()
    page.get_by_role("link", name=t("detail.open"), exact=True).click()
    expect(heading(page, t("detail.title", name=client_name))).to_be_visible()


def live_table(page: Page) -> Locator:
    """The client's live allocations table (glide-data-grid keeps an accessible copy of
    the cells it paints on its canvas): the one with a buy price column (the positions
    table beside it has the current price too, and an average cost instead)."""
    return (
        page.get_by_test_id("stDataFrame")
        .filter(has=page.locator("th", has_text=t("col.short.buy_price")))
        .locator("table[role=grid]")
    )


def grid_cell(grid: Locator, row_key: str, column: str) -> Locator:
    """The cell of ``column`` in the row whose first cell is ``row_key``."""
    header = grid.locator(f"th:text-is('{column}')")
    expect(header).to_be_attached()
    index = header.get_attribute("aria-colindex")
    key = grid.page.locator(f"td[aria-colindex='1']:text-is('{row_key}')")
    row = grid.locator("tr").filter(has=key)
    return row.locator(f"td[aria-colindex='{index}']")


def assert_no_write_controls(page: Page) -> None:
    wait_idle(page)
    expect(page.get_by_test_id("stForm")).to_have_count(0)
    for label in WRITE_LABELS:
        expect(page.get_by_text(label, exact=True)).to_have_count(0)


def download(page: Page, label: str) -> tuple[str, bytes]:
    """Click the download button ``label``; the file's suggested name and its bytes."""
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as started:
        page.get_by_role("button", name=label, exact=True).click()
    done = started.value
    assert done.failure() is None, done.failure()
    return done.suggested_filename, Path(done.path()).read_bytes()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """A pt-BR export: UTF-8 with a BOM (so Excel reads the accents), ``;``-separated."""
    assert data.startswith(codecs.BOM_UTF8), data[:20]
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def sheet_rows(data: bytes, title: str) -> list[dict[str, object]]:
    """The rows of the workbook's sheet ``title``, keyed by its header row."""
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)[title]
    header, *rows = sheet.iter_rows(values_only=True)
    # Read-only mode ends a row at its last non-empty cell: pad it back to the header.
    return [dict(zip(header, (*row, *[None] * len(header)), strict=False)) for row in rows]


def pt_number(text: str) -> Decimal:
    """``3.005,00`` (or ``3005,00``) as a Decimal."""
    return Decimal(text.replace(".", "").replace(",", "."))


# --- the journeys -----------------------------------------------------------------------


def test_admin_creates_a_client_adds_an_allocation_and_watches_its_price(
    anka: Anka, page: Page
) -> None:
    sign_in(page, anka.url, anka.admin_email, anka.admin_password)
    expect(heading(page, t("overview.title"))).to_be_visible()

    # Create a client.
    go_to(page, t("nav.clients"))
    expect(heading(page, t("clients.title"))).to_be_visible()
    page.get_by_text(t("clients.new"), exact=True).click()
    form = page.get_by_test_id("stForm").filter(
        has=page.get_by_role("button", name=t("clients.create"), exact=True)
    )
    form.get_by_label(t("field.name"), exact=True).fill(CLIENT_NAME)
    form.get_by_label(t("field.email"), exact=True).fill(CLIENT_EMAIL)
    form.get_by_label(t("field.document"), exact=True).fill(CLIENT_CPF)
    form.get_by_label(t("field.phone"), exact=True).fill("(11) 98765-4321")
    form.get_by_role("button", name=t("clients.create"), exact=True).click()
    expect(page.get_by_text(t("clients.created", name=CLIENT_NAME))).to_be_visible()

    # Download the clients of a filter as CSV: the new client is in it.
    type_into(page, t("clients.search"), CLIENT_NAME)
    expect(page.get_by_text(t("clients.total", total=1, page=1, pages=1))).to_be_visible()
    name, data = download(page, t("export.csv"))
    assert name.endswith(".csv"), name
    [row] = csv_rows(data)
    assert (row[t("field.name")], row[t("field.email")]) == (CLIENT_NAME, CLIENT_EMAIL)

    # Find an asset and add it to the new client's portfolio.
    go_to(page, t("nav.assets"))
    expect(heading(page, t("assets.title"))).to_be_visible()
    type_into(page, t("assets.search"), ASSET_QUERY)
    expect(page.get_by_text(t("assets.add"), exact=True)).to_be_visible()
    picked = page.get_by_role("combobox", name=t("assets.pick"), exact=True)
    expect(picked).to_have_value(re.compile(re.escape(SYMBOL)))
    type_into(page, t("assets.client_search"), CLIENT_NAME)
    form = page.get_by_test_id("stForm")
    client = form.get_by_role("combobox", name=t("assets.client"), exact=True)
    expect(client).to_have_value(re.compile(re.escape(CLIENT_NAME)))
    form.get_by_label(t("field.quantity"), exact=True).fill(QUANTITY)
    form.get_by_label(t("field.buy_price"), exact=True).fill(BUY_PRICE)
    buy_date = form.get_by_label(t("field.buy_date"), exact=True)
    today = buy_date.input_value()
    # A future date and an impossible one are refused in Portuguese, and nothing is saved.
    added = t("assets.added", quantity=QUANTITY, symbol=shown(SYMBOL), client=shown(CLIENT_NAME))
    for typed, message in (
        ("15/06/2099", "validation.future_date"),
        ("31/02/2025", "validation.no_such_date"),
    ):
        buy_date.fill(typed)
        form.get_by_role("button", name=t("detail.save"), exact=True).click()
        expect(page.get_by_text(t(message), exact=True)).to_be_visible()
        expect(page.get_by_text(added)).to_have_count(0)
        expect(buy_date).to_have_value(typed)
    buy_date.fill(today)
    form.get_by_role("button", name=t("detail.save"), exact=True).click()
    expect(page.get_by_text(added)).to_be_visible()
    expect(page.get_by_text(t("validation.no_such_date"), exact=True)).to_have_count(0)

    # The portfolio shows the lot, and its live price moves within a few seconds.
    open_portfolio(page, CLIENT_NAME)
    grid = live_table(page)
    expect(grid_cell(grid, SYMBOL, t("col.currency"))).to_have_text("R$")
    expect(grid_cell(grid, SYMBOL, t("col.invested"))).to_have_text(re.compile(r"^3005(\.0+)?$"))
    price = grid_cell(grid, SYMBOL, t("col.price"))
    expect(price).to_have_text(NUMBER)
    first = (price.text_content() or "").strip()
    expect(price).not_to_have_text(first, timeout=PRICE_CHANGE_TIMEOUT_MS)
    # Download the allocations as CSV, and allocations and daily returns as one workbook.
    name, data = download(page, t("export.allocations_csv"))
    assert name.endswith(".csv"), name
    [lot] = csv_rows(data)
    assert lot[t("export.col.client")] == CLIENT_NAME
    assert lot[t("col.ticker")] == SYMBOL
    assert pt_number(lot[t("col.quantity")]) == Decimal(QUANTITY)
    assert pt_number(lot[t("col.buy_price")]) == pt_number(BUY_PRICE)
    assert pt_number(lot[t("col.invested")]) == Decimal("3005.00")
    assert pt_number(lot[t("col.price")]) > 0
    name, data = download(page, t("export.xlsx"))
    assert name.endswith(".xlsx"), name
    [cells] = sheet_rows(data, t("export.dataset.allocations"))
    assert (cells[t("export.col.client")], cells[t("col.ticker")]) == (CLIENT_NAME, SYMBOL)
    assert Decimal(str(cells[t("col.quantity")])) == Decimal(QUANTITY)
    assert Decimal(str(cells[t("col.buy_price")])) == pt_number(BUY_PRICE)
    assert Decimal(str(cells[t("col.invested")])) == Decimal("3005.00")

    # Admins get the lot editors here (the read-only test checks they are absent).
    expect(page.get_by_text(t("detail.add"), exact=True)).to_be_visible()
    expect(page.get_by_text(t("detail.edit"), exact=True)).to_be_visible()

    # Sign out; then a page URL (a new page load) shows only the sign-in form.
    sign_out(page)
    page.goto(f"{anka.url}/clients")
    expect(page.get_by_role("button", name=t("login.submit"), exact=True)).to_be_visible()
    expect(heading(page, t("clients.title"))).to_have_count(0)


def test_admin_pages_open_by_url_for_admins_only_and_readers_cannot_write(
    anka: Anka, page: Page
) -> None:
    # The admin's sidebar names the administration pages; each answers its URL (a new page
    # load, signed in again from the cookie).
    sign_in(page, anka.url, anka.admin_email, anka.admin_password)
    admin_pages = {
        href.removeprefix(f"{anka.url}/")
        for href in sidebar_links(page, t("nav.section.admin")).values()
    }
    assert admin_pages >= {"users", "audit", "jobs"}, admin_pages
    for path in sorted(admin_pages):
        page.goto(f"{anka.url}/{path}")
        # Each page's title is "<url path>.title" in the catalogue (users, audit, jobs, ...).
        expect(heading(page, t(f"{path}.title")), f"an admin opening /{path}").to_be_visible()
        expect(page).to_have_url(f"{anka.url}/{path}")
    sign_out(page)

    # The read-only user: no administration section, and no control that writes on any
    # page of the sidebar, ...
    sign_in(page, anka.url, anka.reader_email, anka.reader_password)
    expect(heading(page, t("overview.title"))).to_be_visible()
    expect(page.get_by_test_id("stNavSectionHeader")).not_to_contain_text([t("nav.section.admin")])
    reader_pages = sidebar_links(page)
    assert not {h.removeprefix(f"{anka.url}/") for h in reader_pages.values()} & admin_pages
    for title in reader_pages:
        go_to(page, title)
        # (.first: while Streamlit swaps pages, the old title can linger for a moment)
        expect(page.get_by_role("heading", level=1).first, title).to_be_visible()
        assert_no_write_controls(page)

    # ... nor on a client's portfolio, nor next to asset search results (where admins add
    # lots).
    go_to(page, t("nav.clients"))
    page.get_by_role("link", name=t("detail.open"), exact=True).click()  # a seeded client
    expect(page.get_by_role("heading", name=t("detail.title", name=""))).to_be_visible()
    expect(live_table(page)).to_contain_text(t("col.price"))
    assert_no_write_controls(page)
    go_to(page, t("nav.assets"))
    type_into(page, t("assets.search"), ASSET_QUERY)
    # The search results (the first table; the asset classes' table follows it)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(SYMBOL)
    assert_no_write_controls(page)

    # Administration pages are not registered for this role: their URLs open the overview.
    for path in sorted(admin_pages):
        page.goto(f"{anka.url}/{path}")
        expect(heading(page, t("overview.title")), f"a reader opening /{path}").to_be_visible()
        expect(page).to_have_url(f"{anka.url}/")
        expect(heading(page, t(f"{path}.title"))).to_have_count(0)
        assert_no_write_controls(page)
