"""CPF/CNPJ validation, normalisation and formatting (core.documents)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.documents import (
    format_document,
    is_valid_cnpj,
    is_valid_cpf,
    is_valid_document,
    normalize_document,
)

VALID_CPFS = ["52998224725", "11144477735"]
VALID_CNPJS = ["11222333000181", "12ABC34501DE35"]


def reference_cpf_check_digits(body: str) -> str:
    """The two CPF check digits of a 9-digit body, written independently of core.documents.

    Digit i (0-based) of the body is weighted 10 - i for the first check digit and 11 - i for
    the second, whose sum also includes the first check digit with weight 2.
    A remainder r of the sum modulo 11 gives 0 when r < 2, otherwise 11 - r.
    """

    def digit(total: int) -> int:
        remainder = total % 11
        return 0 if remainder < 2 else 11 - remainder

    numbers = [int(c) for c in body]
    first = digit(sum(n * (10 - i) for i, n in enumerate(numbers)))
    second = digit(sum(n * (11 - i) for i, n in enumerate(numbers)) + first * 2)
    return f"{first}{second}"


# --- CPF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cpf", VALID_CPFS)
def test_valid_cpf_is_accepted(cpf: str) -> None:
    assert is_valid_cpf(cpf)
    assert is_valid_document(cpf)


@pytest.mark.parametrize(
    "cpf",
    [
        "52998224724",  # second check digit wrong
        "52998224715",  # first check digit wrong
        "52998224752",  # check digits swapped
        "11144477736",
    ],
)
def test_cpf_with_wrong_check_digits_is_refused(cpf: str) -> None:
    assert not is_valid_cpf(cpf)
    assert not is_valid_document(cpf)


@pytest.mark.parametrize("digit", "0123456789")
def test_cpf_of_one_repeated_digit_is_refused(digit: str) -> None:
    # 000.000.000-00 and 111.111.111-11 ... have "correct" check digits but are not CPFs.
    assert not is_valid_cpf(digit * 11)
    assert not is_valid_document(digit * 11)


@pytest.mark.parametrize(
    "cpf",
    [
        "",
        "5299822472",  # 10 digits
        "529982247250",  # 12 digits
        "529.982.247-25",  # punctuation must be normalised first
        "5299822472A",
        " 52998224725",
    ],
)
def test_cpf_with_wrong_shape_is_refused(cpf: str) -> None:
    assert not is_valid_cpf(cpf)


@pytest.mark.parametrize(
    "cpf",
    [
        "52998224725\n",  # a trailing newline is not part of a CPF
        "５２９９８２２４７２５",  # full-width digits (U+FF10..)
        "٥٢٩٩٨٢٢٤٧٢٥",  # Arabic-Indic digits
    ],
)
def test_cpf_validation_accepts_only_ascii_digits_and_never_raises(cpf: str) -> None:
    # The database function anka_valid_document only accepts [0-9]; Python must agree.
    assert is_valid_cpf(cpf) is False
    assert is_valid_document(cpf) is False


# --- CNPJ --------------------------------------------------------------------------------


@pytest.mark.parametrize("cnpj", VALID_CNPJS)
def test_valid_cnpj_is_accepted(cnpj: str) -> None:
    assert is_valid_cnpj(cnpj)
    assert is_valid_document(cnpj)


@pytest.mark.parametrize(
    "cnpj",
    [
        "11222333000182",  # second check digit wrong
        "11222333000171",  # first check digit wrong
        "12ABC34501DE36",
        "12ABC34501DE25",
        "12ABD34501DE35",  # a letter changed in the body
        "12abc34501de35",  # letters must be upper-case (normalised first)
        "12ABC34501DEA5",  # check digits are always digits
    ],
)
def test_cnpj_with_wrong_check_digits_or_shape_is_refused(cnpj: str) -> None:
    assert not is_valid_cnpj(cnpj)
    assert not is_valid_document(cnpj)


@pytest.mark.parametrize("char", "0123456789")
def test_cnpj_of_one_repeated_digit_is_refused(char: str) -> None:
    assert not is_valid_cnpj(char * 14)


@pytest.mark.parametrize(
    "doc",
    [
        "1122233300018",  # 13 characters
        "112223330001811",  # 15 characters
        "11.222.333/0001-81",
        "11222333000181\n",
    ],
)
def test_cnpj_with_wrong_length_or_punctuation_is_refused(doc: str) -> None:
    assert not is_valid_cnpj(doc)
    assert not is_valid_document(doc)


@pytest.mark.parametrize("doc", ["", "1", "1234567890", "123456789012", "1234567890123"])
def test_document_of_neither_length_is_refused(doc: str) -> None:
    assert not is_valid_document(doc)


def test_cpf_is_not_a_cnpj_and_vice_versa() -> None:
    assert not is_valid_cnpj("52998224725")
    assert not is_valid_cpf("11222333000181")


# --- normalisation and formatting --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("529.982.247-25", "52998224725"),
        (" 529 982 247 25 ", "52998224725"),
        ("11.222.333/0001-81", "11222333000181"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("12ABC34501DE35", "12ABC34501DE35"),
        ("\t111.444.777-35\n", "11144477735"),
    ],
)
def test_normalize_document_strips_punctuation_and_upper_cases(raw: str, expected: str) -> None:
    assert normalize_document(raw) == expected
    assert is_valid_document(normalize_document(raw))


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("52998224725", "529.982.247-25"),
        ("11144477735", "111.444.777-35"),
        ("11222333000181", "11.222.333/0001-81"),
        ("12ABC34501DE35", "12.ABC.345/01DE-35"),
        ("12345", "12345"),  # neither length: shown as stored
        ("", ""),
    ],
)
def test_format_document(doc: str, expected: str) -> None:
    assert format_document(doc) == expected


@pytest.mark.parametrize("doc", [*VALID_CPFS, *VALID_CNPJS])
def test_format_then_normalize_round_trips(doc: str) -> None:
    assert normalize_document(format_document(doc)) == doc


# --- property ----------------------------------------------------------------------------


def test_reference_implementation_matches_known_cpfs() -> None:
    assert reference_cpf_check_digits("529982247") == "25"
    assert reference_cpf_check_digits("111444777") == "35"


@given(body=st.text(alphabet="0123456789", min_size=9, max_size=9), bump=st.integers(1, 9))
def test_cpf_with_computed_check_digits_is_valid_and_any_other_last_digit_is_not(
    body: str, bump: int
) -> None:
    cpf = body + reference_cpf_check_digits(body)
    repeated = len(set(cpf)) == 1
    assert is_valid_cpf(cpf) is not repeated
    wrong_last = str((int(cpf[-1]) + bump) % 10)
    assert is_valid_cpf(cpf[:-1] + wrong_last) is False
