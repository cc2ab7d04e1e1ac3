"""The uploader's replaced words: catalogue text in a style sheet, escaped as CSS strings."""

from __future__ import annotations

import pytest

from core.i18n import Translator
from dashboard.components.uploader_text import css_string, uploader_style


def test_css_strings_keep_words_and_escape_everything_else() -> None:
    assert css_string("Até 5 MB por arquivo · CSV") == '"Até 5 MB por arquivo · CSV"'
    hostile = css_string('a"; } body {display:none} </style><script>')
    assert '"' not in hostile[1:-1]
    assert "<" not in hostile
    assert "}" not in hostile
    assert hostile.startswith('"a\\000022')


@pytest.mark.parametrize(
    ("locale", "button", "limits"),
    [
        ("pt_BR", "Escolher arquivo", "Até 5 MB por arquivo · CSV ou XLSX"),
        ("en", "Choose file", "Up to 5 MB per file · CSV or XLSX"),
    ],
)
def test_the_style_sheet_replaces_the_button_and_the_limits(
    locale: str, button: str, limits: str
) -> None:
    t = Translator(locale)
    style = uploader_style(
        "import_file_", t("import.upload_button"), t("import.upload_instructions", mb=5)
    )
    assert style.startswith("<style>")
    assert style.endswith("</style>")
    assert style.count("</style>") == 1
    assert f"content: {css_string(button)}" in style
    assert f"content: {css_string(limits)}" in style
    assert '[class*="st-key-import_file_"]' in style  # only the import's uploaders
