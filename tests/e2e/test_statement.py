"""A reader opens a demo client's page in a real browser, reads its returns beside the
benchmarks, and downloads the month's statement as a PDF (read back with pdftotext)."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from core.db import build_engine
from core.i18n import Translator
from core.models import JobStatus
from core.services.principal import SYSTEM
from core.services.statement_batch import due_month, generate_statements
from core.trade_schemas import today_in_brazil
from tests.e2e.conftest import CHROMIUM, Anka
from tests.e2e.test_journey import DOWNLOAD_TIMEOUT_MS, sign_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (.ci/run installs Debian's `chromium` package)",
    ),
]

t = Translator("pt_BR")
FIGURES_TIMEOUT_MS = 120_000  # the scheduler's first backfill of the demo book


def test_reader_reads_the_returns_and_downloads_the_statement(
    page: Page, anka: Anka, tmp_path: Path
) -> None:
    sign_in(page, anka.url, anka.reader_email, anka.reader_password)
    page.goto(f"{anka.url}/client?client=1")
    returns = page.get_by_role("heading", name=t("returns.title"), exact=True)
    # The demo's scheduler backfills on start: reload until the figures are stored.
    for _ in range(8):
        try:
            expect(returns).to_be_visible(timeout=15_000)
            break
        except AssertionError:
            page.reload()
    expect(returns).to_be_visible(timeout=FIGURES_TIMEOUT_MS)
    # the periods grid (glide-data-grid keeps an accessible, hidden copy of its cells)
    expect(page.locator("th", has_text=t("returns.col.percent_cdi")).first).to_be_attached()
    title = page.get_by_role("heading", level=1).first.text_content() or ""
    # The chart tabs are lazy: the TWR chart is drawn once its tab is opened
    twr = page.locator('[data-testid="stPlotlyChart"]').filter(has_text=t("chart.twr"))
    expect(twr).to_have_count(0)
    page.get_by_role("tab", name=t("chart.tab.twr")).click()
    expect(twr.first).to_be_visible(timeout=30_000)

    button = page.get_by_role("button", name=t("statement.download"))
    expect(button).to_be_visible(timeout=60_000)  # the last section of a long page
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as started:
        button.click()
    download = started.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()

    assert path.suffix == ".pdf"
    assert data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
        assert t("statement.title") in text
        assert t("statement.demo") in " ".join(text.split())
        name = title.strip().removeprefix(t("detail.title", name="")).strip()
        assert name
        assert name in text  # the client the page was about


def _stored_statements(anka: Anka) -> int:
    """Run the statements job on the demo's database until its month is stored (the demo's
    own scheduler may be running it: a run that meets its lock taken is retried); how many
    were stored."""
    engine = build_engine(anka.database_url, pool_size=1)
    try:
        deadline = time.monotonic() + FIGURES_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                figures = conn.execute(text("SELECT count(*) FROM daily_returns")).scalar_one()
            if figures:
                report = generate_statements(
                    engine, "demo", today_in_brazil(), actor=SYSTEM, firm="Anka", workers=1
                )
                assert report.status != JobStatus.FAILED, report
                with engine.connect() as conn:
                    stored = conn.execute(text("SELECT count(*) FROM statements")).scalar_one()
                if stored and report.status != JobStatus.SKIPPED:
                    return int(stored)
            time.sleep(2)
        raise AssertionError("no statement stored in time")
    finally:
        engine.dispose()


def test_reader_downloads_the_months_stored_statements_from_reports(
    page: Page, anka: Anka, tmp_path: Path
) -> None:
    stored = _stored_statements(anka)
    month = due_month(today_in_brazil())
    sign_in(page, anka.url, anka.reader_email, anka.reader_password)
    page.goto(f"{anka.url}/reports")
    expect(page.get_by_role("heading", name=t("statements.title"))).to_be_visible()

    label = t("statements.download_zip", count=stored)
    button = page.get_by_role("button", name=label)
    expect(button).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as started:
        button.click()
    download = started.value

    assert download.suggested_filename == f"extratos-{month:%Y-%m}.zip"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        names = archive.namelist()
        assert len(names) == stored
        first = archive.read(names[0])
    assert first.startswith(b"%PDF")
    assert names[0].endswith(f"-{month:%Y-%m}.pdf")
