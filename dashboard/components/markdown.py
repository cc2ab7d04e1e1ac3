"""Text is data, never markup: stored text shown where Streamlit renders Markdown.

Streamlit renders Markdown in titles, headers, captions, ``st.markdown``, the message boxes
(``st.info``, ``st.success``, ``st.warning``, ``st.error``), metric labels and values,
expander, tab, button and widget labels, radio options and help tooltips — but not in
select box options nor in ``st.dataframe`` cells, which show text as it is (and must not be
escaped, or the backslashes would show). A client's name, an e-mail, a ticker, a file name
or anything else that was typed or stored goes through :func:`escape_markdown` before it
reaches one of the former, so ``![x](http://host/pixel.png)`` reads as those characters
instead of fetching an image, and ``:red[x]`` stays ``:red[x]``.

The escaping works on two levels, because Streamlit's renderer (1.67) does:

* **Markdown syntax.** Every ASCII punctuation character gets a backslash. CommonMark
  guarantees that a backslash before ASCII punctuation shows that character literally, so
  no link, image, emphasis, code, HTML, table, heading, list, entity, LaTeX (``$``) or
  Streamlit directive (``:red[...]``, ``:small[...]``) can start from the text. Line breaks
  become spaces: the text is one line wherever it is placed, so it cannot start a block.
* **Rewrites after parsing.** Some rewrites run on the parsed text, where escapes no longer
  count: web addresses (``http://``, ``www.``) and e-mail addresses become links,
  ``:name:`` becomes an emoji, a Material icon or the Streamlit logo, and ``->``, ``--``,
  ``>=``... become arrows and dashes. Every one of them needs a ``:``, ``.``, ``-``, ``<``,
  ``>`` or ``~`` right after a letter, digit or space, so an invisible WORD JOINER (U+2060,
  zero width, no line break) goes before each of those characters: the rewrite patterns no
  longer match, and the reader sees the text unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

WORD_JOINER = "\u2060"
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_REWRITE_STARTS = frozenset(":.-<>~")


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    joiner = WORD_JOINER if char in _REWRITE_STARTS else ""
    return f"{joiner}\\{char}"


def escape_markdown(text: str) -> str:
    """``text`` as Markdown source that Streamlit shows as exactly ``text`` (on one line).

    ``[site](http://evil.example)`` becomes ``\\[site\\]\\(http\\:\\/\\/evil\\.example\\)``
    plus a word joiner before ``:`` and ``.``: no link, and no address turned into one.
    """
    return _ASCII_PUNCTUATION.sub(_escaped, _LINE_BREAK.sub(" ", text))


def escape_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A message's ``params`` with every text value escaped (numbers are left alone), for
    a catalogue message shown as Markdown: ``t(key, **escape_params(params))``."""
    return {k: escape_markdown(v) if isinstance(v, str) else v for k, v in params.items()}
