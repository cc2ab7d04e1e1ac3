"""The file uploader's own words in the user's language, as far as a page can reach them.

``st.file_uploader`` draws its button ("Upload") and its limits line ("5MB per file • CSV,
XLSX") in English, and its API translates neither. This module hides those two texts with
a style sheet scoped to the uploaders whose key starts with a given prefix and shows the
catalogue's words in their place (CSS ``content``). The style sheet holds only constant
text (catalogue entries and the size limit, escaped as CSS strings), never anything a user
typed or a file held.

What stays in English (Streamlit's frontend, out of reach): the "Drag and drop a file here"
overlay while a file is dragged over the box, the file's size under its name ("169.0B"),
the "Add files" and remove buttons' accessible names, and the browser-side refusals of a
file too large or of the wrong type.
"""

from __future__ import annotations

import streamlit as st

from core.i18n import Translator

SAFE = frozenset(" .,;:·()/-–")


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string: letters, digits and a few marks as they are, every
    other character as a CSS escape (so no quote, backslash or ``<`` can end the rule)."""
    escaped = "".join(
        char if char.isalnum() or char in SAFE else f"\\{ord(char):06x}" for char in text
    )
    return f'"{escaped}"'


def uploader_style(key_prefix: str, button: str, instructions: str) -> str:
    """The style sheet replacing the button's and the limits line's texts."""
    scope = f'[class*="st-key-{key_prefix}"] [data-testid="stFileUploaderDropzone"]'
    return (
        "<style>"
        f"{scope} button [data-testid='stMarkdownContainer'] p {{font-size: 0;}}"
        f"{scope} button [data-testid='stMarkdownContainer'] p::after "
        f"{{content: {css_string(button)}; font-size: 0.875rem;}}"
        f"{scope} [data-testid='stFileUploaderDropzoneInstructions'] span {{font-size: 0;}}"
        f"{scope} [data-testid='stFileUploaderDropzoneInstructions'] span::after "
        f"{{content: {css_string(instructions)}; font-size: 0.875rem;}}"
        "</style>"
    )


def translate_uploader(key_prefix: str, max_mb: int, t: Translator) -> None:
    """Draw the style sheet for the uploaders keyed ``key_prefix…`` (call it once a run,
    before or after the uploader)."""
    if not key_prefix.replace("_", "").isalnum():
        raise ValueError(f"not a widget key prefix: {key_prefix!r}")
    style = uploader_style(
        key_prefix,
        t("import.upload_button"),
        t("import.upload_instructions", mb=max_mb),
    )
    st.markdown(style, unsafe_allow_html=True)
