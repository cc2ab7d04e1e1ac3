"""Client use cases against the real PostgreSQL (each test rolls back)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core.db import UnitOfWork
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import Asset, AuditEntry, Client, Movement
from core.schemas import ClientCreate, ClientOut, ClientPage, parse
from core.services.clients import (
    create_client,
    delete_client,
    get_client,
    list_clients,
    patch_client,
    update_client,
)
from core.services.principal import Principal

MakeUow = Callable[[], UnitOfWork]


def new_client(
    make_uow: MakeUow, actor: Principal, name: str, email: str, **fields: Any
) -> ClientOut:
    """Create a client through the service and return it."""
    return create_client(make_uow(), actor, {"name": name, "email": email, **fields})


@dataclass(frozen=True)
class AuditRow:
    """The columns of one audit entry, read while its session was open."""

    action: str
    entity: str
    entity_id: str
    actor_id: int | None
    actor_email: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def audit_entries(make_uow: MakeUow, client_id: int | None = None) -> list[AuditRow]:
    """Client audit entries, oldest first (optionally for one client)."""
    stmt = select(AuditEntry).where(AuditEntry.entity == "client").order_by(AuditEntry.id)
    if client_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == str(client_id))
    with make_uow() as uow:
        return [
            AuditRow(e.action, e.entity, e.entity_id, e.actor_id, e.actor_email, e.before, e.after)
            for e in uow.session.scalars(stmt)
        ]


def client_count(make_uow: MakeUow) -> int:
    with make_uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Client)) or 0)


def names(page: ClientPage) -> list[str]:
    return [item.name for item in page.items]


def search(make_uow: MakeUow, **query: Any) -> ClientPage:
    return list_clients(make_uow(), query)


# --- create / get ------------------------------------------------------------------------


def test_create_stores_the_client_and_get_returns_it(make_uow: MakeUow, admin: Principal) -> None:
    created = new_client(
        make_uow,
        admin,
        "  José da Silva ",
        "Jose.Silva@EXAMPLE.com",
        document="529.982.247-25",
        phone="+55 11 98765-4321",
        notes="prefers e-mail",
    )
    assert created.id > 0
    assert created.name == "José da Silva"
    assert created.email == "Jose.Silva@example.com"
    assert created.document == "52998224725"
    assert created.status == "active"

    fetched = get_client(make_uow(), created.id)
    assert fetched == created
    assert fetched.phone == "+55 11 98765-4321"
    assert fetched.notes == "prefers e-mail"


def test_create_writes_a_create_audit_entry(make_uow: MakeUow, admin: Principal) -> None:
    created = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    [entry] = audit_entries(make_uow, created.id)
    assert entry.action == "create"
    assert entry.entity == "client"
    assert entry.entity_id == str(created.id)
    assert entry.actor_email == "tester@example.com"
    assert entry.actor_id is None
    assert entry.before is None
    assert entry.after is not None
    assert entry.after["name"] == "Ana Lima"
    assert entry.after["email"] == "ana@example.com"
    assert entry.after["id"] == created.id


def test_create_with_invalid_input_stores_nothing(make_uow: MakeUow, admin: Principal) -> None:
    with pytest.raises(ValidationFailed) as info:
        create_client(make_uow(), admin, {"name": "", "email": "bad"})
    assert set(info.value.field_errors) == {"name", "email"}
    assert client_count(make_uow) == 0
    assert audit_entries(make_uow) == []


def test_get_unknown_client_is_not_found(make_uow: MakeUow) -> None:
    with pytest.raises(NotFound):
        get_client(make_uow(), 987654)


# --- duplicates --------------------------------------------------------------------------


def test_duplicate_email_ignoring_case_is_a_conflict(make_uow: MakeUow, admin: Principal) -> None:
    new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    with pytest.raises(Conflict) as info:
        new_client(make_uow, admin, "Ana Other", "ANA@example.com")
    assert info.value.field_errors == {"email": ("validation.email_taken", {})}
    assert client_count(make_uow) == 1
    assert len(audit_entries(make_uow)) == 1


def test_duplicate_document_is_a_conflict(make_uow: MakeUow, admin: Principal) -> None:
    new_client(make_uow, admin, "Ana Lima", "ana@example.com", document="52998224725")
    with pytest.raises(Conflict) as info:
        new_client(make_uow, admin, "Bia Lima", "bia@example.com", document="529.982.247-25")
    assert info.value.field_errors == {"document": ("validation.document_taken", {})}
    assert client_count(make_uow) == 1


def test_clients_without_document_do_not_conflict(make_uow: MakeUow, admin: Principal) -> None:
    new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    new_client(make_uow, admin, "Bia Lima", "bia@example.com")
    assert client_count(make_uow) == 2


def test_update_to_another_clients_email_is_a_conflict_and_changes_nothing(
    make_uow: MakeUow, admin: Principal
) -> None:
    new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    bia = new_client(make_uow, admin, "Bia Lima", "bia@example.com")
    with pytest.raises(Conflict) as info:
        patch_client(make_uow(), admin, bia.id, {"email": "Ana@Example.com", "name": "Bia L."})
    assert set(info.value.field_errors) == {"email"}
    assert get_client(make_uow(), bia.id) == bia
    assert [e.action for e in audit_entries(make_uow, bia.id)] == ["create"]


# --- update (full) and patch (partial) ---------------------------------------------------


def test_update_replaces_every_field(make_uow: MakeUow, admin: Principal) -> None:
    original = new_client(
        make_uow,
        admin,
        "Ana Lima",
        "ana@example.com",
        document="52998224725",
        phone="11987654321",
        notes="old notes",
    )
    updated = update_client(
        make_uow(),
        admin,
        original.id,
        {"name": "Ana Lima Souza", "email": "ana.souza@example.com", "status": "inactive"},
    )
    assert updated.id == original.id
    assert updated.name == "Ana Lima Souza"
    assert updated.email == "ana.souza@example.com"
    assert updated.status == "inactive"
    # Omitted optional fields become empty in a full update.
    assert updated.document is None
    assert updated.phone is None
    assert updated.notes is None
    assert get_client(make_uow(), original.id) == updated


def test_update_writes_before_and_after_to_the_audit(make_uow: MakeUow, admin: Principal) -> None:
    original = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    update_client(make_uow(), admin, original.id, {"name": "Ana Maria", "email": "ana@example.com"})
    create, update = audit_entries(make_uow, original.id)
    assert create.action == "create"
    assert update.action == "update"
    assert update.before is not None
    assert update.after is not None
    assert update.before["name"] == "Ana Lima"
    assert update.after["name"] == "Ana Maria"
    assert update.before["email"] == update.after["email"] == "ana@example.com"


def test_patch_changes_only_the_fields_given(make_uow: MakeUow, admin: Principal) -> None:
    original = new_client(
        make_uow, admin, "Ana Lima", "ana@example.com", document="52998224725", notes="vip"
    )
    patched = patch_client(make_uow(), admin, original.id, {"phone": "(11) 3333-4444"})
    assert patched.phone == "(11) 3333-4444"
    assert patched.name == "Ana Lima"
    assert patched.email == "ana@example.com"
    assert patched.document == "52998224725"
    assert patched.notes == "vip"
    assert patched.status == "active"
    assert get_client(make_uow(), original.id) == patched
    update = audit_entries(make_uow, original.id)[-1]
    assert update.action == "update"
    assert update.before is not None
    assert update.after is not None
    assert update.before["phone"] is None
    assert update.after["phone"] == "(11) 3333-4444"


def test_patch_with_none_clears_an_optional_field(make_uow: MakeUow, admin: Principal) -> None:
    original = new_client(make_uow, admin, "Ana Lima", "ana@example.com", document="52998224725")
    patched = patch_client(make_uow(), admin, original.id, {"document": None})
    assert patched.document is None
    assert get_client(make_uow(), original.id).document is None


@pytest.mark.parametrize("field", ["name", "email", "status"])
def test_patch_refuses_none_for_a_required_field(
    make_uow: MakeUow, admin: Principal, field: str
) -> None:
    original = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    with pytest.raises(ValidationFailed) as info:
        patch_client(make_uow(), admin, original.id, {field: None})
    assert info.value.field_errors == {field: ("validation.required", {})}
    assert get_client(make_uow(), original.id) == original


def test_patch_that_changes_nothing_writes_no_audit_entry(
    make_uow: MakeUow, admin: Principal
) -> None:
    original = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    result = patch_client(make_uow(), admin, original.id, {"name": "Ana Lima"})
    assert result.name == "Ana Lima"
    assert [e.action for e in audit_entries(make_uow, original.id)] == ["create"]


@pytest.mark.parametrize(
    "call",
    [
        lambda uow, actor: update_client(uow, actor, 987654, {"name": "X", "email": "x@x.com"}),
        lambda uow, actor: patch_client(uow, actor, 987654, {"name": "X"}),
        lambda uow, actor: delete_client(uow, actor, 987654),
    ],
    ids=["update", "patch", "delete"],
)
def test_writes_to_an_unknown_client_are_not_found(
    make_uow: MakeUow, admin: Principal, call: Callable[[UnitOfWork, Principal], object]
) -> None:
    with pytest.raises(NotFound):
        call(make_uow(), admin)
    assert audit_entries(make_uow) == []


# --- delete ------------------------------------------------------------------------------


def test_delete_removes_the_client_and_audits_it(make_uow: MakeUow, admin: Principal) -> None:
    client = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    delete_client(make_uow(), admin, client.id)
    with pytest.raises(NotFound):
        get_client(make_uow(), client.id)
    entry = audit_entries(make_uow, client.id)[-1]
    assert entry.action == "delete"
    assert entry.after is None
    assert entry.before is not None
    assert entry.before["name"] == "Ana Lima"


def test_delete_removes_the_clients_allocations_only(make_uow: MakeUow, admin: Principal) -> None:
    ana = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    bia = new_client(make_uow, admin, "Bia Lima", "bia@example.com")
    with make_uow() as uow:
        asset = Asset(symbol="PETR4.SA", name="Petrobras PN")
        uow.session.add(asset)
        uow.session.flush()
        for client_id in (ana.id, ana.id, bia.id):
            uow.session.add(
                Movement(
                    client_id=client_id,
                    asset_id=asset.id,
                    quantity=Decimal("100"),
                    price=Decimal("35.50"),
                    date=date(2024, 1, 15),
                )
            )
        uow.commit()

    delete_client(make_uow(), admin, ana.id)

    with make_uow() as uow:
        remaining = list(uow.session.scalars(select(Movement.client_id)))
        assets = list(uow.session.scalars(select(Asset.symbol)))
    assert remaining == [bia.id]
    assert assets == ["PETR4.SA"]  # the asset itself stays


# --- formula-like text: the form's rule is the import's ------------------------------------
FORMULA = '=HYPERLINK("http://evil.example","clique")'
UNICODE_SPACES = ["\u00a0", "\u2003", "\u3000", "\u205f", "\u2028"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", FORMULA),
        ("email", "=cmd@example.com"),
        ("phone", "-(11) 98765-4321"),
        ("notes", "+cmd|' /C calc'!A0"),
        ("notes", "@SUM(A1:A2)"),
        *(("name", f"{space}{FORMULA}") for space in UNICODE_SPACES),
        *(("notes", f"{space}-ligar") for space in UNICODE_SPACES),
    ],
)
def test_create_refuses_formula_like_text_as_the_import_does(
    make_uow: MakeUow, admin: Principal, field: str, value: str
) -> None:
    data = {"name": "Ana Lima", "email": "ana@example.com", field: value}
    with pytest.raises(ValidationFailed) as info:
        create_client(make_uow(), admin, data)
    assert info.value.field_errors == {field: ("validation.formula", {})}
    assert client_count(make_uow) == 0


def test_update_and_patch_refuse_formula_like_text(make_uow: MakeUow, admin: Principal) -> None:
    ana = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    for change in (update_client, patch_client):
        with pytest.raises(ValidationFailed) as info:
            change(make_uow(), admin, ana.id, {"name": FORMULA, "email": "ana@example.com"})
        assert info.value.field_errors == {"name": ("validation.formula", {})}
    assert get_client(make_uow(), ana.id).name == "Ana Lima"


def test_a_phone_and_text_with_signs_inside_are_kept(make_uow: MakeUow, admin: Principal) -> None:
    ana = new_client(
        make_uow,
        admin,
        "Ana-Maria d'Ávila",
        "ana@example.com",
        phone="\u00a0+55 11 98765-4321",
        notes="Ligar: a=b, x@y, -5",
    )
    assert (ana.name, ana.phone, ana.notes) == (
        "Ana-Maria d'Ávila",
        "+55 11 98765-4321",
        "Ligar: a=b, x@y, -5",
    )


def test_text_already_stored_can_be_saved_again_unchanged(
    make_uow: MakeUow, admin: Principal
) -> None:
    # A note marked as text in a spreadsheet ('- ligar na segunda) is stored by the import;
    # editing the client's phone in the form sends the note back as it is.
    stored = parse(
        ClientCreate,
        {"name": "Ana Lima", "email": "ana@example.com", "notes": "- ligar na segunda"},
        marked_as_text={"notes"},
    )
    ana = create_client(make_uow(), admin, stored)
    form = {"name": "Ana Lima", "email": "ana@example.com", "notes": "- ligar na segunda"}
    updated = update_client(make_uow(), admin, ana.id, {**form, "phone": "(11) 3333-4444"})
    assert (updated.notes, updated.phone) == ("- ligar na segunda", "(11) 3333-4444")
    patched = patch_client(make_uow(), admin, ana.id, {"notes": "- ligar na segunda"})
    assert patched.notes == "- ligar na segunda"
    # A changed note is new text: the rule applies.
    with pytest.raises(ValidationFailed) as info:
        update_client(make_uow(), admin, ana.id, {**form, "notes": "- ligar na terça"})
    assert info.value.field_errors == {"notes": ("validation.formula", {})}


# --- role checks -------------------------------------------------------------------------


def test_read_only_cannot_create(make_uow: MakeUow, reader: Principal) -> None:
    with pytest.raises(PermissionDenied):
        create_client(make_uow(), reader, {"name": "Ana Lima", "email": "ana@example.com"})
    assert client_count(make_uow) == 0
    assert audit_entries(make_uow) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda uow, actor, cid: update_client(
            uow, actor, cid, {"name": "Changed", "email": "changed@example.com"}
        ),
        lambda uow, actor, cid: patch_client(uow, actor, cid, {"name": "Changed"}),
        lambda uow, actor, cid: delete_client(uow, actor, cid),
    ],
    ids=["update", "patch", "delete"],
)
def test_read_only_cannot_change_or_delete(
    make_uow: MakeUow,
    admin: Principal,
    reader: Principal,
    call: Callable[[UnitOfWork, Principal, int], object],
) -> None:
    client = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    with pytest.raises(PermissionDenied):
        call(make_uow(), reader, client.id)
    assert get_client(make_uow(), client.id) == client
    assert [e.action for e in audit_entries(make_uow, client.id)] == ["create"]


def test_read_only_can_read(make_uow: MakeUow, admin: Principal) -> None:
    client = new_client(make_uow, admin, "Ana Lima", "ana@example.com")
    assert get_client(make_uow(), client.id).name == "Ana Lima"
    assert names(search(make_uow)) == ["Ana Lima"]


# --- list: search, filter, order, pages --------------------------------------------------


@pytest.fixture
def people(make_uow: MakeUow, admin: Principal) -> dict[str, ClientOut]:
    """Five clients with accents, documents and a status mix."""
    rows = [
        ("José Pereira", "jose.p@example.com", "52998224725", "active"),
        ("Ávila Costa", "avila@corp.example", "11222333000181", "active"),
        ("bruno Alves", "bruno_alves@example.com", None, "inactive"),
        ("Carla Dias", "carla@example.org", "12ABC34501DE35", "active"),
        ("José Ramos", "ramos@example.com", "11144477735", "inactive"),
    ]
    return {
        name: new_client(make_uow, admin, name, email, document=doc, status=status)
        for name, email, doc, status in rows
    }


def test_list_orders_by_folded_name(make_uow: MakeUow, people: dict[str, ClientOut]) -> None:
    page = search(make_uow)
    assert names(page) == [
        "Ávila Costa",
        "bruno Alves",
        "Carla Dias",
        "José Pereira",
        "José Ramos",
    ]
    assert page.total == 5
    assert (page.page, page.page_size, page.pages) == (1, 20, 1)


def test_list_breaks_ties_on_equal_names_by_id(make_uow: MakeUow, admin: Principal) -> None:
    first = new_client(make_uow, admin, "Maria Souza", "m1@example.com")
    second = new_client(make_uow, admin, "MARIA SOUZA", "m2@example.com")
    third = new_client(make_uow, admin, "María Souza", "m3@example.com")
    ids = [item.id for item in search(make_uow, search="souza").items]
    assert ids == [first.id, second.id, third.id]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("jose", ["José Pereira", "José Ramos"]),
        ("JOSÉ", ["José Pereira", "José Ramos"]),
        ("ÁVILA", ["Ávila Costa"]),
        ("avila", ["Ávila Costa"]),
        ("BRUNO", ["bruno Alves"]),
        ("pereira", ["José Pereira"]),
        ("sé ram", ["José Ramos"]),
    ],
)
def test_search_ignores_accents_and_case(
    make_uow: MakeUow, people: dict[str, ClientOut], term: str, expected: list[str]
) -> None:
    assert names(search(make_uow, search=term)) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("@corp.example", ["Ávila Costa"]),
        ("EXAMPLE.ORG", ["Carla Dias"]),
        ("ramos@", ["José Ramos"]),
    ],
)
def test_search_by_email_fragment(
    make_uow: MakeUow, people: dict[str, ClientOut], term: str, expected: list[str]
) -> None:
    assert names(search(make_uow, search=term)) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("529.982.247-25", ["José Pereira"]),
        ("52998224725", ["José Pereira"]),
        ("982.247", ["José Pereira"]),
        ("11.222.333/0001-81", ["Ávila Costa"]),
        ("111.444", ["José Ramos"]),
        ("12ABC34501DE35", ["Carla Dias"]),
        ("12abc345", ["Carla Dias"]),
    ],
)
def test_search_by_document_with_or_without_punctuation(
    make_uow: MakeUow, people: dict[str, ClientOut], term: str, expected: list[str]
) -> None:
    assert names(search(make_uow, search=term)) == expected


def test_search_by_alphanumeric_cnpj_with_punctuation(
    make_uow: MakeUow, people: dict[str, ClientOut]
) -> None:
    # The formatted way the dashboard shows it (core.documents.format_document).
    assert names(search(make_uow, search="12.ABC.345/01DE-35")) == ["Carla Dias"]


def test_status_filter(make_uow: MakeUow, people: dict[str, ClientOut]) -> None:
    assert names(search(make_uow, status="inactive")) == ["bruno Alves", "José Ramos"]
    active = search(make_uow, status="active")
    assert names(active) == ["Ávila Costa", "Carla Dias", "José Pereira"]
    assert active.total == 3


def test_search_and_status_filter_combine(make_uow: MakeUow, people: dict[str, ClientOut]) -> None:
    assert names(search(make_uow, search="jose", status="inactive")) == ["José Ramos"]


def test_search_without_match_is_an_empty_first_page(
    make_uow: MakeUow, people: dict[str, ClientOut]
) -> None:
    page = search(make_uow, search="zzz-nobody")
    assert page.items == []
    assert page.total == 0
    assert page.pages == 1


def test_empty_table_gives_an_empty_first_page(make_uow: MakeUow) -> None:
    page = search(make_uow)
    assert page.items == []
    assert page.total == 0
    assert page.page == 1


def test_pages_split_the_ordered_list(make_uow: MakeUow, people: dict[str, ClientOut]) -> None:
    first = search(make_uow, page=1, page_size=2)
    second = search(make_uow, page=2, page_size=2)
    last = search(make_uow, page=3, page_size=2)
    assert names(first) == ["Ávila Costa", "bruno Alves"]
    assert names(second) == ["Carla Dias", "José Pereira"]
    assert names(last) == ["José Ramos"]  # last page is partial
    assert {first.total, second.total, last.total} == {5}
    assert last.pages == 3


def test_exactly_full_last_page(make_uow: MakeUow, people: dict[str, ClientOut]) -> None:
    page = search(make_uow, page=1, page_size=5)
    assert len(page.items) == 5
    assert page.pages == 1
    with pytest.raises(ValidationFailed) as info:
        search(make_uow, page=2, page_size=5)
    assert info.value.field_errors == {"page": ("validation.page_out_of_range", {"pages": 1})}


def test_page_past_the_end_is_refused_with_the_page_count(
    make_uow: MakeUow, people: dict[str, ClientOut]
) -> None:
    with pytest.raises(ValidationFailed) as info:
        search(make_uow, page=4, page_size=2)
    assert info.value.field_errors == {"page": ("validation.page_out_of_range", {"pages": 3})}


def test_page_two_of_an_empty_result_is_refused(make_uow: MakeUow) -> None:
    with pytest.raises(ValidationFailed) as info:
        search(make_uow, page=2)
    assert info.value.field_errors == {"page": ("validation.page_out_of_range", {"pages": 1})}


def test_invalid_query_is_refused(make_uow: MakeUow) -> None:
    with pytest.raises(ValidationFailed) as info:
        search(make_uow, page=0, page_size=101)
    assert set(info.value.field_errors) == {"page", "page_size"}


# --- hostile search terms ----------------------------------------------------------------


@pytest.fixture
def odd_names(make_uow: MakeUow, admin: Principal) -> dict[str, ClientOut]:
    rows = [
        ("Robert'; DROP TABLE clients; --", "bobby@example.com"),
        ("100% Investimentos", "cem@example.com"),
        ("<script>alert(1)</script>", "xss@example.com"),
        ("Plain Person", "plain@example.com"),
        ("Under Score", "under_score@example.com"),
        ("Back\\Slash", "back@example.com"),
    ]
    return {name: new_client(make_uow, admin, name, email) for name, email in rows}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("'; DROP TABLE clients; --", ["Robert'; DROP TABLE clients; --"]),
        ("' OR '1'='1", []),
        ("%", ["100% Investimentos"]),
        ("0%", ["100% Investimentos"]),
        ("_", ["Under Score"]),
        ("r_s", ["Under Score"]),
        ("p%n", []),  # would match "Plain Person" if % were a wildcard
        ("pla_n", []),  # would match "Plain" if _ were a wildcard
        ("\\", ["Back\\Slash"]),
        ("<script>alert(1)</script>", ["<script>alert(1)</script>"]),
    ],
)
def test_search_matches_hostile_terms_literally(
    make_uow: MakeUow, odd_names: dict[str, ClientOut], term: str, expected: list[str]
) -> None:
    assert names(search(make_uow, search=term)) == expected


def test_hostile_search_changes_nothing(make_uow: MakeUow, odd_names: dict[str, ClientOut]) -> None:
    for term in ("'; DROP TABLE clients; --", "%", "_", "<script>alert(1)</script>"):
        search(make_uow, search=term)
    assert client_count(make_uow) == len(odd_names)
    with make_uow() as uow:
        table = uow.session.scalar(text("SELECT to_regclass('public.clients')::text"))
    assert table == "clients"
    stored = get_client(make_uow(), odd_names["<script>alert(1)</script>"].id)
    assert stored.name == "<script>alert(1)</script>"
