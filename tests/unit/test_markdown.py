"""escape_markdown: stored text as Markdown source that Streamlit shows as the text itself.

No Markdown renderer is at hand in Python, so the exact escaped strings are asserted, and
two properties of them: resolving the backslash escapes (what a CommonMark parser does)
gives the text back, with only invisible word joiners added; and none of the rewrites that
Streamlit 1.67's renderer runs on the parsed text (found in its frontend bundle:
autolinks, shortcodes, arrows) matches that parsed text.
"""

from __future__ import annotations

import re

import pytest

from dashboard.components.markdown import WORD_JOINER, escape_markdown, escape_params

WJ = WORD_JOINER
HOSTILE = "![x](http://host/pixel.png) [site](http://evil.example)"
# Markdown's backslash escape: a backslash before ASCII punctuation is that character.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# Rewrites of Streamlit 1.67's Markdown renderer that run after parsing, on text nodes
# (JavaScript's \w is ASCII, hence re.ASCII).
_AFTER_PARSE = [
    re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.ASCII | re.IGNORECASE),  # autolink
    re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII),  # e-mail autolink
    re.compile(r":[\w+-][\w+-]*:", re.ASCII),  # emoji, :material_x:, :streamlit:
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),  # arrows and dashes
]


def parsed(source: str) -> str:
    """The text a CommonMark parser makes of escaped source (every character escaped)."""
    return _ESCAPE.sub(r"\1", source)


def md(template: str) -> str:
    """``template`` with ``¦`` standing for the (invisible) word joiner."""
    return template.replace("¦", WJ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HOSTILE,
            md(r"\!\[x\]\(http¦\:\/\/host\/pixel¦\.png\) \[site\]\(http¦\:\/\/evil¦\.example\)"),
        ),
        (":red[x]", md(r"¦\:red\[x\]")),
        ("<img src=x>", md(r"¦\<img src\=x¦\>")),
        ("**bold**", r"\*\*bold\*\*"),
        ("_it_ `code` ~~s~~", md(r"\_it\_ \`code\` ¦\~¦\~s¦\~¦\~")),
        ("# Title | a | b", r"\# Title \| a \| b"),
        ("$x^2$ and R$ 5", r"\$x\^2\$ and R\$ 5"),
        (":smile: :material/home:", md(r"¦\:smile¦\: ¦\:material\/home¦\:")),
        ("maria@example.com", md(r"maria\@example¦\.com")),
        ("www.evil.example", md(r"www¦\.evil¦\.example")),
        ("a -> b --", md(r"a ¦\-¦\> b ¦\-¦\-")),
        ("AT&amp;T", r"AT\&amp\;T"),
        ("back\\slash", r"back\\slash"),
        ("d'Ávila {x}", r"d\'Ávila \{x\}"),
        ("1. first\n- second\r\n> third", md(r"1¦\. first ¦\- second ¦\> third")),
        ("Maria Souza", "Maria Souza"),
        ("", ""),
    ],
)
def test_exact_escapes(text: str, expected: str) -> None:
    assert escape_markdown(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        HOSTILE,
        ":smile: :material/home: :streamlit:",
        "contato@evil.example www.evil.example https://evil.example/x",
        "a -> b <- c <-> d -- e >= f <= g ~= h",
    ],
)
def test_the_parsed_text_is_the_text_and_nothing_rewrites_it(text: str) -> None:
    assert any(pattern.search(text) for pattern in _AFTER_PARSE)  # as typed: rewritten
    shown = parsed(escape_markdown(text))
    assert shown.replace(WJ, "") == text
    for pattern in _AFTER_PARSE:
        assert not pattern.search(shown), pattern.pattern


def test_every_ascii_punctuation_character_is_escaped() -> None:
    punctuation = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())
    escaped = escape_markdown(punctuation).replace(WJ, "")
    assert escaped == "".join(f"\\{c}" for c in punctuation)


def test_params_are_escaped_text_only() -> None:
    assert escape_params({"name": "**x**", "count": 3, "rate": 1.5}) == {
        "name": r"\*\*x\*\*",
        "count": 3,
        "rate": 1.5,
    }
