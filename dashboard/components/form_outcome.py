"""What the forms show between runs: the outcome of the last attempt only, whichever form.

A refused form keeps its field messages and runs the page again, so that each message is
drawn under its field (a form reads them before drawing itself). Only one outcome is kept
for the whole session (under :data:`dashboard.runtime.OUTCOME_KEY`): an attempt on any
form, or any success message (:func:`dashboard.runtime.flash`), replaces it, so an earlier
refusal never stays on screen beside a later success, nor beside another form's refusal.
A panel holding a form stays open while its form has the last outcome
(:func:`attempted`), so the messages of a refusal are never hidden in a closed panel.

After a success the form gets a new key (:func:`form_key` counts rounds): its inputs are new
widgets, drawn with their defaults, so pressing the button again cannot store the same thing
twice; a refusal keeps the round, and what was typed stays there to be corrected.
"""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from core.errors import ValidationFailed
from core.i18n import Translator
from dashboard import runtime
from dashboard.components.feedback import FieldErrors, translate_field_errors

ROUNDS_KEY = "anka_form_rounds"  # form name -> successes so far


def form_errors(form: str) -> FieldErrors:
    """The messages of ``form``'s refused attempt, when it made the last attempt."""
    outcome = st.session_state.get(runtime.OUTCOME_KEY)
    return dict(outcome[1]) if outcome is not None and outcome[0] == form else {}


def attempted(*forms: str) -> bool:
    """Whether the last attempt (refused or not) was made on one of ``forms``."""
    outcome = st.session_state.get(runtime.OUTCOME_KEY)
    return outcome is not None and outcome[0] in forms


def form_key(form: str) -> str:
    """The ``st.form`` key of ``form`` in its current round."""
    return f"{form}_{st.session_state.get(ROUNDS_KEY, {}).get(form, 0)}"


def refuse(form: str, error: ValidationFailed, t: Translator) -> NoReturn:
    """Keep ``error``'s field messages as the last outcome and run the page again."""
    st.session_state[runtime.OUTCOME_KEY] = (form, translate_field_errors(error, t))
    st.rerun()


def succeed(form: str, message: str) -> NoReturn:
    """Show ``message`` after running again, with ``form`` afresh (its next round)."""
    runtime.flash(message)
    st.session_state[runtime.OUTCOME_KEY] = (form, {})
    rounds = dict(st.session_state.get(ROUNDS_KEY, {}))
    rounds[form] = rounds.get(form, 0) + 1
    st.session_state[ROUNDS_KEY] = rounds
    st.rerun()
