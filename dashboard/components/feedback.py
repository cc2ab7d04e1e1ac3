"""Turning errors into messages: no traceback ever reaches a page."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import ParamSpec

import streamlit as st
from sqlalchemy.exc import OperationalError

from core.errors import AnkaError, ValidationFailed
from core.i18n import Translator
from dashboard.components.markdown import escape_params

log = logging.getLogger(__name__)

FieldErrors = dict[str, str]
P = ParamSpec("P")


def translate_field_errors(error: ValidationFailed, t: Translator) -> FieldErrors:
    """Each refused field with its message in the user's language, ready for Markdown (the
    messages are shown in ``st.error`` and captions): text in the params, such as a typed
    ticker, is escaped."""
    return {
        field: t(key, **escape_params(params))
        for field, (key, params) in error.field_errors.items()
    }


def show_field_errors(errors: FieldErrors, t: Translator) -> None:
    """A summary of every refused field, labelled in the user's language."""
    lines = [f"**{t('field.' + field)}:** {message}" for field, message in errors.items()]
    st.error("\n\n".join([t("clients.fix_fields"), *lines]))


def field_hint(errors: FieldErrors, field: str) -> None:
    """The message for one field, right under its input (nothing when the field is fine)."""
    if field in errors:
        st.caption(f":red[{errors[field]}]")


def show_error(error: AnkaError, t: Translator) -> None:
    """Show a domain error in the user's language."""
    if isinstance(error, ValidationFailed) and error.field_errors:
        show_field_errors(translate_field_errors(error, t), t)
    else:
        st.error(t(error.key, **escape_params(error.params)))


@contextmanager
def guarded(t: Translator) -> Iterator[None]:
    """Run page code; domain errors become messages, anything else a logged generic message."""
    try:
        yield
    except AnkaError as error:
        show_error(error, t)
    except OperationalError:
        log.exception("database unavailable")
        st.error(t("error.database_down"))
    except Exception:
        log.exception("unexpected error on a page")
        st.error(t("error.unexpected"))


def guarded_fragment(
    t: Translator, *, run_every: float | timedelta | None = None
) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """``st.fragment(run_every=...)`` whose body runs inside :func:`guarded`.

    A fragment handles its own errors (Streamlit's English error box), and its reruns every
    ``run_every`` run the fragment alone, outside the page's ``guarded``; so every fragment
    guards itself: a failure is our message in the fragment, and the next rerun tries again.
    """

    def decorate(body: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(body)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            with guarded(t):
                body(*args, **kwargs)

        return st.fragment(run, run_every=run_every)

    return decorate
