"""Input validation through core.schemas.parse: field errors carry catalogue message keys."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from core.errors import ValidationFailed
from core.schemas import (
    ClientCreate,
    ClientPage,
    ClientPatch,
    ClientQuery,
    UserCreate,
    check_password_rules,
    formula_like,
    parse,
)

GOOD_CLIENT: dict[str, Any] = {"name": "Maria Souza", "email": "maria@example.com"}
GOOD_USER: dict[str, Any] = {
    "email": "ana@example.com",
    "name": "Ana Lima",
    "password": "correct-horse-1",
}


def field_errors(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """The field errors ``parse`` raises for ``data`` (fails the test if it accepts it)."""
    with pytest.raises(ValidationFailed) as info:
        parse(model, data)
    return info.value.field_errors


# --- ClientCreate ------------------------------------------------------------------------


def test_minimal_client_gets_defaults() -> None:
    client = parse(ClientCreate, GOOD_CLIENT)
    assert client.name == "Maria Souza"
    assert client.email == "maria@example.com"
    assert client.document is None
    assert client.phone is None
    assert client.status == "active"
    assert client.notes is None


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "\x00\x01"])
def test_client_name_empty_or_blank_is_required(name: str) -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "name": name})
    assert errors == {"name": ("validation.required", {})}


def test_client_name_missing_is_required() -> None:
    errors = field_errors(ClientCreate, {"email": "maria@example.com"})
    assert errors == {"name": ("validation.required", {})}


def test_client_name_of_201_characters_is_too_long() -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "name": "a" * 201})
    assert errors == {"name": ("validation.too_long", {"max": 200})}


def test_client_name_of_200_characters_is_accepted() -> None:
    assert parse(ClientCreate, {**GOOD_CLIENT, "name": "a" * 200}).name == "a" * 200


def test_client_name_is_trimmed_nfc_normalised_and_control_characters_dropped() -> None:
    decomposed = "Jose\u0301 \x07Silva"  # e + combining acute accent, a BEL character
    client = parse(ClientCreate, {**GOOD_CLIENT, "name": f"  {decomposed}  "})
    assert client.name == "Jos\u00e9 Silva"


@pytest.mark.parametrize(
    "email",
    [
        "maria",
        "maria@",
        "@example.com",
        "maria@@example.com",
        "maria@example",
        "ma ria@example.com",
    ],
)
def test_malformed_email_is_refused(email: str) -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "email": email})
    assert errors == {"email": ("validation.email", {})}


@pytest.mark.parametrize("email", ["", "   "])
def test_blank_email_is_required(email: str) -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "email": email})
    assert errors == {"email": ("validation.required", {})}


def test_overlong_email_is_too_long() -> None:
    email = "a" * 250 + "@x.com"  # 256 characters
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "email": email})
    assert errors == {"email": ("validation.too_long", {"max": 254})}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  maria@example.com  ", "maria@example.com"),
        ("maria@EXAMPLE.COM", "maria@example.com"),  # the domain is case-insensitive
        ("Maria.Souza@Example.Com", "Maria.Souza@example.com"),
    ],
)
def test_email_is_trimmed_and_domain_lower_cased(raw: str, expected: str) -> None:
    assert parse(ClientCreate, {**GOOD_CLIENT, "email": raw}).email == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("529.982.247-25", "52998224725"),
        ("52998224725", "52998224725"),
        ("11.222.333/0001-81", "11222333000181"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("", None),
        (None, None),
    ],
)
def test_document_is_normalised(raw: str | None, expected: str | None) -> None:
    assert parse(ClientCreate, {**GOOD_CLIENT, "document": raw}).document == expected


@pytest.mark.parametrize(
    "document", ["529.982.247-24", "11111111111", "11.222.333/0001-82", "123", "12ABC34501DE36"]
)
def test_invalid_document_is_refused(document: str) -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "document": document})
    assert errors == {"document": ("validation.document", {})}


@pytest.mark.parametrize("phone", ["+55 (11) 98765-4321", "11987654321", "(11) 3333-4444"])
def test_valid_phone_is_kept(phone: str) -> None:
    assert parse(ClientCreate, {**GOOD_CLIENT, "phone": phone}).phone == phone


@pytest.mark.parametrize("phone", ["1234567", "call me", "+55 11 9876-543x", "1" * 31])
def test_invalid_phone_is_refused(phone: str) -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "phone": phone})
    assert errors == {"phone": ("validation.phone", {})}


@pytest.mark.parametrize("status", ["active", "inactive"])
def test_known_status_is_accepted(status: str) -> None:
    assert parse(ClientCreate, {**GOOD_CLIENT, "status": status}).status == status


@pytest.mark.parametrize("status", ["deleted", "ACTIVE", ""])
def test_unknown_status_is_a_choice_error(status: str) -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "status": status})
    assert errors == {"status": ("validation.choice", {})}


def test_notes_over_2000_characters_are_too_long() -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "notes": "n" * 2001})
    assert errors == {"notes": ("validation.too_long", {"max": 2000})}


def test_blank_notes_become_none() -> None:
    assert parse(ClientCreate, {**GOOD_CLIENT, "notes": "   "}).notes is None


def test_unknown_field_is_refused() -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "id": 7})
    assert errors == {"id": ("validation.unknown_field", {})}


def test_every_invalid_field_is_reported_at_once() -> None:
    errors = field_errors(
        ClientCreate,
        {"name": "", "email": "nope", "document": "123", "phone": "x", "status": "gone"},
    )
    assert errors == {
        "name": ("validation.required", {}),
        "email": ("validation.email", {}),
        "document": ("validation.document", {}),
        "phone": ("validation.phone", {}),
        "status": ("validation.choice", {}),
    }


# --- ClientPatch -------------------------------------------------------------------------


def test_empty_patch_sets_no_fields() -> None:
    assert parse(ClientPatch, {}).model_fields_set == set()


def test_patch_records_only_the_fields_given() -> None:
    patch = parse(ClientPatch, {"phone": "11987654321", "document": None})
    assert patch.model_fields_set == {"phone", "document"}
    assert patch.phone == "11987654321"
    assert patch.document is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "  "}, {"name": ("validation.required", {})}),
        ({"name": "b" * 201}, {"name": ("validation.too_long", {"max": 200})}),
        ({"email": "not-an-email"}, {"email": ("validation.email", {})}),
        ({"document": "52998224724"}, {"document": ("validation.document", {})}),
        ({"status": "deleted"}, {"status": ("validation.choice", {})}),
        ({"colour": "blue"}, {"colour": ("validation.unknown_field", {})}),
    ],
)
def test_patch_validates_the_fields_given(data: dict[str, Any], expected: dict[str, Any]) -> None:
    assert field_errors(ClientPatch, data) == expected


def test_patch_normalises_email_and_document() -> None:
    patch = parse(ClientPatch, {"email": " Ana@EXAMPLE.com ", "document": "111.444.777-35"})
    assert patch.email == "Ana@example.com"
    assert patch.document == "11144477735"


# --- ClientQuery -------------------------------------------------------------------------


def test_query_defaults() -> None:
    query = parse(ClientQuery, {})
    assert (query.search, query.status, query.page, query.page_size) == ("", None, 1, 20)


def test_query_search_is_trimmed() -> None:
    assert parse(ClientQuery, {"search": "  josé  "}).search == "josé"


@pytest.mark.parametrize("page", [0, -1])
def test_page_below_one_is_refused(page: int) -> None:
    errors = field_errors(ClientQuery, {"page": page})
    assert errors == {"page": ("validation.min", {"ge": 1})}


def test_page_that_is_not_a_number_is_refused() -> None:
    assert field_errors(ClientQuery, {"page": "two"}) == {"page": ("validation.integer", {})}


def test_page_size_over_100_is_refused() -> None:
    errors = field_errors(ClientQuery, {"page_size": 101})
    assert errors == {"page_size": ("validation.max", {"le": 100})}


@pytest.mark.parametrize("page_size", [1, 100])
def test_page_size_limits_are_inclusive(page_size: int) -> None:
    assert parse(ClientQuery, {"page_size": page_size}).page_size == page_size


def test_page_size_zero_is_refused() -> None:
    errors = field_errors(ClientQuery, {"page_size": 0})
    assert errors == {"page_size": ("validation.min", {"ge": 1})}


def test_search_over_100_characters_is_too_long() -> None:
    errors = field_errors(ClientQuery, {"search": "s" * 101})
    assert errors == {"search": ("validation.too_long", {"max": 100})}


def test_search_of_100_characters_is_accepted() -> None:
    assert parse(ClientQuery, {"search": "s" * 100}).search == "s" * 100


def test_query_status_must_be_a_known_status() -> None:
    errors = field_errors(ClientQuery, {"status": "deleted"})
    assert errors == {"status": ("validation.choice", {})}


@pytest.mark.parametrize(
    ("total", "page_size", "pages"), [(0, 20, 1), (1, 20, 1), (20, 20, 1), (21, 20, 2)]
)
def test_client_page_counts_pages(total: int, page_size: int, pages: int) -> None:
    assert ClientPage(items=[], total=total, page=1, page_size=page_size).pages == pages


# --- UserCreate --------------------------------------------------------------------------


def test_user_defaults_to_read_only() -> None:
    user = parse(UserCreate, GOOD_USER)
    assert user.role == "read_only"
    assert user.password == "correct-horse-1"


def test_password_shorter_than_10_characters_is_refused() -> None:
    errors = field_errors(UserCreate, {**GOOD_USER, "password": "123456789"})
    assert errors == {"password": ("validation.password_short", {"min": 10})}


def test_a_strong_password_of_10_characters_is_accepted() -> None:
    assert parse(UserCreate, {**GOOD_USER, "password": "Qm7#vX2!pL"}).password == "Qm7#vX2!pL"


def test_a_guessable_password_of_10_characters_is_refused() -> None:
    errors = field_errors(UserCreate, {**GOOD_USER, "password": "0123456789"})
    assert errors == {"password": ("validation.password_weak", {})}


def test_password_over_72_bytes_is_too_long() -> None:
    # 37 two-byte characters: 37 characters but 74 bytes, past what bcrypt reads.
    errors = field_errors(UserCreate, {**GOOD_USER, "password": "é" * 37})
    assert errors == {"password": ("validation.too_long", {"max": 72})}


def test_missing_password_is_required() -> None:
    data = {k: v for k, v in GOOD_USER.items() if k != "password"}
    assert field_errors(UserCreate, data) == {"password": ("validation.required", {})}


@pytest.mark.parametrize("role", ["root", "ADMIN", "readonly"])
def test_unknown_role_is_a_choice_error(role: str) -> None:
    errors = field_errors(UserCreate, {**GOOD_USER, "role": role})
    assert errors == {"role": ("validation.choice", {})}


def test_user_name_over_120_characters_is_too_long() -> None:
    errors = field_errors(UserCreate, {**GOOD_USER, "name": "u" * 121})
    assert errors == {"name": ("validation.too_long", {"max": 120})}


def test_user_with_malformed_email_and_blank_name() -> None:
    errors = field_errors(UserCreate, {**GOOD_USER, "email": "ana@", "name": " "})
    assert errors == {"email": ("validation.email", {}), "name": ("validation.required", {})}


def test_check_password_rules_reports_on_the_password_field() -> None:
    assert check_password_rules("long-enough-pw") == "long-enough-pw"
    with pytest.raises(ValidationFailed) as info:
        check_password_rules("short")
    assert info.value.field_errors == {"password": ("validation.password_short", {"min": 10})}


# --- formula-like text (one rule for forms and imports) ------------------------------------
FORMULA = '=HYPERLINK("http://evil.example","clique")'
# Spaces that str.strip() (the schema's trim) removes but a plain " \t\r\n" strip does not.
UNICODE_SPACES = ["\u00a0", "\u2003", "\u3000", "\u205f", "\u2028"]


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (ClientCreate, "name", FORMULA),
        (ClientCreate, "email", "=cmd@example.com"),  # a valid address, and a formula
        (ClientCreate, "phone", "-(11) 98765-4321"),
        (ClientCreate, "notes", "+cmd|' /C calc'!A0"),
        (ClientCreate, "notes", "@SUM(A1:A2)"),
        (ClientPatch, "name", FORMULA),
        (ClientPatch, "notes", "-ligar"),
        (UserCreate, "name", FORMULA),
        (UserCreate, "email", "+ana@example.com"),
    ],
)
def test_formula_like_text_is_refused_in_every_text_field(
    model: type[BaseModel], field: str, value: str
) -> None:
    base = GOOD_USER if model is UserCreate else GOOD_CLIENT
    assert field_errors(model, {**base, field: value}) == {field: ("validation.formula", {})}


@pytest.mark.parametrize("space", UNICODE_SPACES, ids=["nbsp", "em", "ideographic", "mmsp", "ls"])
@pytest.mark.parametrize("start", ["=", "@", "+", "-"])
def test_a_unicode_space_does_not_hide_the_formula(space: str, start: str) -> None:
    name = f"{space}{start}HYPERLINK(1)"
    assert field_errors(ClientCreate, {**GOOD_CLIENT, "name": name}) == {
        "name": ("validation.formula", {})
    }


@pytest.mark.parametrize(
    "start", ["＝", "＠", "＋", "－", "﹦", "﹫", "﹢", "﹣", "\u200b=", "\ufeff@"]
)
def test_full_width_small_and_invisible_starts_are_formulas_too(start: str) -> None:
    errors = field_errors(ClientCreate, {**GOOD_CLIENT, "notes": f"{start}HYPERLINK(1)"})
    assert errors == {"notes": ("validation.formula", {})}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "+55 11 98765-4321"),  # a phone, not a formula
        ("phone", "\u00a0+55 (11) 98765-4321"),
        ("notes", "-5"),  # a signed number is not a formula
        ("notes", "Ligar 2ª: a=b, x@y"),  # = and @ inside text are fine
        ("name", "Ana-Maria d'Ávila"),
    ],
)
def test_numbers_phones_and_plain_text_are_accepted(field: str, value: str) -> None:
    client = parse(ClientCreate, {**GOOD_CLIENT, field: value})
    assert getattr(client, field) == value.strip()


def test_text_marked_as_text_may_start_with_a_sign_but_never_run() -> None:
    # What a spreadsheet's leading ' (or a value already stored) marks as text.
    data = {**GOOD_CLIENT, "notes": "- ligar na segunda", "name": "+ VIP"}
    client = parse(ClientCreate, data, marked_as_text={"notes", "name"})
    assert (client.notes, client.name) == ("- ligar na segunda", "+ VIP")
    errors = field_errors(ClientCreate, data)
    assert errors == {"name": ("validation.formula", {}), "notes": ("validation.formula", {})}
    with pytest.raises(ValidationFailed) as info:
        parse(ClientCreate, {**GOOD_CLIENT, "notes": FORMULA}, marked_as_text={"notes"})
    assert info.value.field_errors == {"notes": ("validation.formula", {})}


def test_formula_like_is_one_definition() -> None:
    assert formula_like("\u3000=1")
    assert formula_like("- x")
    assert not formula_like("- x", marked_as_text=True)
    assert formula_like("@x", marked_as_text=True)
    assert not formula_like("+55 11 98765-4321")
    assert not formula_like("-5")
    assert not formula_like("Maria")
