"""Dates are typed in the user's form: no page draws Streamlit's date picker, whose field
shows the English "YYYY/MM/DD"; every date goes through date_field, whose placeholder is
the catalogue's (dd/mm/aaaa in pt-BR)."""

from __future__ import annotations

import re
from pathlib import Path

from core.i18n import translate

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
PICKER = re.compile(r"\.date_input\(|\.datetime_input\(")


def test_no_page_draws_streamlits_date_picker() -> None:
    found = [
        f"{path.relative_to(DASHBOARD)}:{number}"
        for path in DASHBOARD.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PICKER.search(line)
    ]
    assert found == []


def test_the_date_fields_placeholder_is_the_locales() -> None:
    assert translate("date.placeholder", "pt_BR") == "dd/mm/aaaa"
    assert translate("date.placeholder", "en") == "yyyy-mm-dd"
