"""The import page (admins): templates, upload, preview, commit; readers never reach it.

Streamlit 1.67's AppTest drives ``st.file_uploader`` for real (``set_value`` with a file
name, bytes and a MIME type), so these tests upload files exactly as the page receives them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from core.db import UnitOfWork
from core.models import AuditEntry, Client, Movement
from core.services import clients as client_service
from core.services.principal import SYSTEM
from dashboard.components.markdown import escape_markdown, escape_params
from dashboard.components.uploader_text import css_string
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    all_clients,
    assert_no_exception,
    button,
    create_client,
    landing_title,
    pt,
    sign_in,
    values,
)

Make = Callable[[], UnitOfWork]
PAGE = "app_pages/imports.py"
CLIENTS_CSV = (
    "Nome;E-mail;CPF/CNPJ;Telefone;Situação;Observações\r\n"
    "Maria Souza;maria@example.com;529.982.247-25;;Ativo;\r\n"
    "João Lima;joao@example.com;;;;\r\n"
).encode("cp1252")


def open_imports() -> AppTest:
    at = sign_in(ADMIN_EMAIL)
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    assert values(at.title) == [pt("import.title")]
    return at


def upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> None:
    at.file_uploader[0].set_value((name, data, mime)).run()
    assert_no_exception(at)


def count(make: Make, model: type) -> int:
    with make() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def commit_button(at: AppTest):  # type: ignore[no-untyped-def]
    return button(at, "import.commit")


def test_admin_gets_templates_uploads_previews_and_imports_clients(app_env: Make) -> None:
    at = open_imports()
    assert [b.label for b in at.download_button] == [
        pt("import.template_csv"),
        pt("import.template_xlsx"),
    ]
    assert at.file_uploader[0].label == pt("import.upload")
    # Streamlit's own "Upload" and "5MB per file" replaced by the catalogue's words.
    (style,) = [m for m in values(at.markdown) if m.startswith("<style>")]
    assert css_string(pt("import.upload_button")) in style
    assert css_string(pt("import.upload_instructions", mb=5)) in style
    assert at.file_uploader[0].allowed_type == [".csv", ".xlsx"]
    assert pt("import.limits", mb=5, rows="5.000") in values(at.caption)

    upload(at, "clientes.csv", CLIENTS_CSV)

    assert pt("import.read_as_csv", encoding="Windows-1252", delimiter=";") in values(at.caption)
    (summary,) = values(at.main.success)
    assert summary == (
        pt("import.summary", total=2, valid=2, invalid=0)
        + "  \n"
        + pt("import.plan", create=2, update=0, unchanged=0)
    )
    frame = at.dataframe[0].value
    assert list(frame[pt("import.col.row")]) == [2, 3]
    assert list(frame[pt("import.col.valid")]) == ["✓", "✓"]
    assert list(frame[pt("import.col.action")]) == [pt("import.action.create")] * 2
    assert list(frame[pt("field.document")]) == ["529.982.247-25", ""]
    assert list(frame[pt("field.status")]) == [pt("status.active"), ""]
    assert count(app_env, Client) == 0
    assert not commit_button(at).disabled

    commit_button(at).click().run()

    assert_no_exception(at)
    done = pt(
        "import.done", file=escape_markdown("clientes.csv"), created=2, updated=0, unchanged=0
    )
    assert done in values(at.success)
    assert [(c.name, c.document) for c in all_clients(app_env)] == [
        ("João Lima", None),
        ("Maria Souza", "52998224725"),
    ]
    with app_env() as uow:
        entities = list(uow.session.scalars(select(AuditEntry.entity).order_by(AuditEntry.id)))
    assert entities[-1:] == ["import"]
    assert entities.count("import") == 1
    # The uploader starts empty again, so the same click cannot import twice.
    assert not at.dataframe
    assert pt("import.commit") not in [b.label for b in at.button]


def test_a_file_with_bad_rows_shows_the_reasons_and_cannot_be_imported(app_env: Make) -> None:
    data = (
        "Nome;E-mail;CPF/CNPJ\n"
        "Maria;maria@example.com;529.982.247-25\n"
        "João;joao@;111.111.111-11\n"
        '=HYPERLINK("http://x");ana@example.com;\n'
        "Maria 2;MARIA@example.com;\n"
    ).encode()
    at = open_imports()

    upload(at, "clientes.csv", data)

    (warning,) = values(at.main.warning)
    assert warning == (
        pt("import.summary", total=4, valid=1, invalid=3) + "  \n" + pt("import.fix_rows")
    )
    frame = at.dataframe[0].value  # only the rows with errors, at first
    assert list(frame[pt("import.col.row")]) == [3, 4, 5]
    assert list(frame[pt("import.col.reasons")]) == [
        f"{pt('field.email')}: {pt('validation.email')}; "
        f"{pt('field.document')}: {pt('validation.document')}",
        f"{pt('field.name')}: {pt('validation.formula')}",
        f"{pt('field.email')}: {pt('import.row.duplicate', row=2)}",
    ]
    assert list(frame[pt("field.name")]) == ["João", '=HYPERLINK("http://x")', "Maria 2"]
    assert commit_button(at).disabled

    at.checkbox(key="import_only_invalid").uncheck().run()
    assert list(at.dataframe[0].value[pt("import.col.row")]) == [2, 3, 4, 5]
    assert count(app_env, Client) == 0


@pytest.mark.parametrize(
    ("name", "data", "key", "params"),
    [
        ("clientes.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "import.file.type", {}),
        ("clientes.csv", b"", "import.file.empty", {}),
        (
            "clientes.xlsx",
            b"Nome;E-mail\nMaria;m@example.com\n",
            "import.file.mismatch",
            {"ext": "xlsx"},
        ),
        (
            "clientes.csv",
            b"Nome;Idade\nMaria;40\n",
            "import.file.missing_columns",
            {"columns": "E-mail"},
        ),
    ],
    ids=["pdf", "empty", "renamed", "columns"],
)
def test_a_file_that_cannot_be_imported_says_why(
    app_env: Make, name: str, data: bytes, key: str, params: dict[str, str]
) -> None:
    at = open_imports()
    upload(at, name, data)
    (error,) = values(at.main.error)
    assert error.startswith(pt("import.file_refused"))
    assert pt(key, **escape_params(params)) in error  # the file's text, escaped
    assert not at.dataframe
    assert pt("import.commit") not in [b.label for b in at.button]


def lots_xlsx(*rows: list[object]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Cliente", "Ativo", "Quantidade", "Preço de compra", "Data de compra"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_allocations_from_excel_on_demo_data(demo_env: Make) -> None:
    maria = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = open_imports()
    at.radio(key="import_kind").set_value("allocations").run()
    assert pt("import.help.allocations") in values(at.caption)

    upload(
        at,
        "lotes.xlsx",
        lots_xlsx(
            ["maria@example.com", "PETR4.SA", 100, 30.5, datetime(2025, 3, 10)],
            ["maria@example.com", "NOPE3.SA", 10, "5,00", "10/03/2025"],
        ),
        XLSX_MIME,
    )

    assert pt("import.read_as_xlsx") in values(at.caption)
    frame = at.dataframe[0].value
    assert list(frame[pt("import.col.reasons")]) == [
        f"{pt('field.symbol')}: {pt('validation.symbol_unknown', symbol='NOPE3.SA')}"
    ]
    assert commit_button(at).disabled

    at.checkbox(key="import_only_invalid").uncheck().run()
    frame = at.dataframe[0].value
    # Read as numbers and dates ("5,00" typed in pt-BR is five), formatted by the columns.
    assert list(frame[pt("field.quantity")]) == [100, 10]
    assert list(frame[pt("field.buy_price")]) == [30.5, 5]
    assert list(frame[pt("field.buy_date")]) == [date(2025, 3, 10)] * 2

    upload(
        at,
        "lotes.xlsx",
        lots_xlsx(["maria@example.com", "PETR4.SA", 100, 30.5, datetime(2025, 3, 10)]),
        XLSX_MIME,
    )
    commit_button(at).click().run()

    assert_no_exception(at)
    done = pt("import.done", file=escape_markdown("lotes.xlsx"), created=1, updated=0, unchanged=0)
    assert done in values(at.success)
    assert count(demo_env, Movement) == 1
    with demo_env() as uow:
        ((lot, asset),) = uow.allocations.for_client(maria.id)
        assert (asset.symbol, lot.quantity, lot.price) == ("PETR4.SA", 100, Decimal("30.5"))


def test_a_change_between_preview_and_import_is_caught_and_nothing_is_stored(
    demo_env: Make,
) -> None:
    maria = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = open_imports()
    at.radio(key="import_kind").set_value("allocations").run()
    upload(
        at,
        "lotes.csv",
        b"Cliente;Ativo;Quantidade;Pre\xe7o de compra;Data de compra\n"
        b"maria@example.com;PETR4.SA;100;30,50;10/03/2025\n",
    )
    assert not commit_button(at).disabled

    client_service.delete_client(demo_env(), SYSTEM, maria.id)  # someone else, meanwhile
    commit_button(at).click().run()

    assert_no_exception(at)
    assert pt("import.rejected") in values(at.main.error)
    frame = at.dataframe[0].value
    assert list(frame[pt("import.col.reasons")]) == [
        f"{pt('import.col.client')}: {pt('import.row.client_not_found')}"
    ]
    assert commit_button(at).disabled
    assert count(demo_env, Movement) == 0


def test_reader_cannot_reach_the_import_page(app_env: Make) -> None:
    at = sign_in(READER_EMAIL)
    assert values(at.title) == [landing_title()]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)

    at._page_hash = calc_hash("import")  # what the browser asks for at /import
    at.run()

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    assert not at.file_uploader
    assert pt("nav.import") not in [link.label for link in at.get("page_link")]


MOVEMENTS_CSV = (
    "Cliente;Ativo;Tipo;Data;Quantidade;Preço;Taxas;Tipo de provento;Valor bruto;Imposto retido\r\n"
    "maria@example.com;PETR4.SA;Compra;10/03/2025;100;30,50;4,90;;;\r\n"
    "maria@example.com;PETR4.SA;Venda;02/06/2025;40;38,10;;;;\r\n"
    "maria@example.com;PETR4.SA;Venda;03/06/2025;70;38;;;;\r\n"
    "maria@example.com;PETR4.SA;Provento;20/08/2025;;;;Dividendo;45,60;\r\n"
).encode()


def test_movements_are_offered_previewed_and_an_oversold_row_blocks_the_import(
    demo_env: Make,
) -> None:
    create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = open_imports()
    assert pt("import.kind.movements") in at.radio(key="import_kind").options
    at.radio(key="import_kind").set_value("movements").run()
    assert pt("import.help.movements") in values(at.caption)
    labels = [b.label for b in at.download_button]
    assert pt("import.template_csv") in labels
    assert pt("import.template_xlsx") in labels

    upload(at, "movimentos.csv", MOVEMENTS_CSV)
    frame = at.dataframe[0].value
    oversold = pt("validation.oversold", quantity="70", held="60", date="03/06/2025")
    assert list(frame[pt("import.col.reasons")]) == [f"{pt('field.quantity')}: {oversold}"]
    assert commit_button(at).disabled

    fixed = MOVEMENTS_CSV.replace(b"03/06/2025;70", b"03/06/2025;60")
    upload(at, "movimentos.csv", fixed)
    frame = at.dataframe[0].value
    assert list(frame[pt("field.kind")]) == ["Compra", "Venda", "Venda", "Provento"]
    assert list(frame[pt("field.income_type")])[-1] == "Dividendo"
    commit_button(at).click().run()

    assert_no_exception(at)
    done = pt(
        "import.done", file=escape_markdown("movimentos.csv"), created=4, updated=0, unchanged=0
    )
    assert done in values(at.success)
    assert count(demo_env, Movement) == 4


def test_the_preview_of_an_update_names_the_stored_client_and_the_old_and_new_values(
    app_env: Make,
) -> None:
    create_client(app_env, name="Maria Souza", email="maria@example.com")
    at = open_imports()
    renamed = (
        "Nome;E-mail;CPF/CNPJ;Telefone;Situação;Observações\r\n"
        "Maria Souza Lima;maria@example.com;;;Inativo;\r\n"
    ).encode("cp1252")

    upload(at, "clientes.csv", renamed)

    frame = at.dataframe[0].value
    (row,) = frame.to_dict("records")
    assert row[pt("import.col.action")] == pt("import.action.update")
    assert row[pt("import.col.matched")] == "Maria Souza · maria@example.com"
    assert row[pt("import.col.changes")] == (
        f"{pt('field.name')}: Maria Souza → Maria Souza Lima, "
        f"{pt('field.status')}: {pt('status.active')} → {pt('status.inactive')}"
    )
