"""Import (admins only): clients or allocations from a CSV or Excel file.

Pick what to import, download a template, upload the file, read the preview (every row
valid or refused with its reasons, and what an import would do with it), then import. The
import button is enabled only when every row is valid; the commit checks the whole file
again and stores all of it or nothing (see :mod:`core.services.imports`).

After an import of buys, the tickers it brought with no stored close get their price
history at once (:func:`core.services.asset_history.fetch_unpriced_history`); when market
data cannot answer, the success message says the next scheduled close fetches it.

The preview is kept in the session per uploaded file, so clicking around does not check
it again; uploading it again (after registering a missing client, say) previews afresh.
"""

from __future__ import annotations

import logging

import streamlit as st

from core.formatting import format_number
from core.imports.reading import MAX_BYTES, MAX_ROWS
from core.imports.report import KINDS, ImportRejected, ImportReport, Kind
from core.imports.templates import CSV_MIME, XLSX_MIME, template_csv, template_xlsx
from core.services import imports as import_service
from core.services.asset_history import fetch_unpriced_history
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.feedback import guarded
from dashboard.components.import_preview import (
    preview_config,
    preview_frame,
    read_as,
    reason_text,
    summary_lines,
)
from dashboard.components.markdown import escape_markdown
from dashboard.components.uploader_text import translate_uploader

PREVIEW_KEY = "import_preview"  # (upload's file id, report)
UPLOAD_ROUND_KEY = "import_upload_round"  # bumped after an import to clear the uploader
REJECTED_KEY = "import_rejected"
MAX_MB = MAX_BYTES // (1024 * 1024)
UPLOAD_KEY_PREFIX = "import_file_"  # the uploader's key: the prefix, the kind, the round

log = logging.getLogger(__name__)
t = runtime.translator()
actor = runtime.principal()


def _templates(kind: Kind) -> None:
    st.caption(t("import.template"))
    csv_col, xlsx_col, _ = st.columns([1, 1, 2])
    csv_col.download_button(
        t("import.template_csv"),
        template_csv(kind, t.locale),
        file_name=f"anka-{kind}.csv",
        mime=CSV_MIME,
        on_click="ignore",
        key=f"import_template_csv_{kind}",
    )
    xlsx_col.download_button(
        t("import.template_xlsx"),
        template_xlsx(kind, t.locale),
        file_name=f"anka-{kind}.xlsx",
        mime=XLSX_MIME,
        on_click="ignore",
        key=f"import_template_xlsx_{kind}",
    )


def _preview(kind: Kind, file_id: str, name: str, data: bytes) -> ImportReport:
    cached = st.session_state.get(PREVIEW_KEY)
    if cached is not None and cached[0] == file_id:
        return cached[1]
    report = import_service.preview_import(
        runtime.uow(), runtime.market(), actor, kind, name, data, t.locale
    )
    st.session_state[PREVIEW_KEY] = (file_id, report)
    return report


def _show(report: ImportReport) -> None:
    caption = read_as(report, t)
    if caption:
        st.caption(caption)
    if report.file_errors:
        st.error(
            "\n\n".join(
                [
                    t("import.file_refused"),
                    *(reason_text(r, t, markdown=True) for r in report.file_errors),
                ]
            )
        )
        return
    total, plan = summary_lines(report, t)
    if report.ok:
        st.success(f"{total}  \n{plan}")
    else:
        st.warning(f"{total}  \n{t('import.fix_rows')}")
    only_invalid = False
    if report.invalid_count:
        only_invalid = st.checkbox(t("import.only_invalid"), value=True, key="import_only_invalid")
    columns.table(
        preview_frame(report, t, only_invalid=only_invalid),
        hide_index=True,
        width="stretch",
        column_config=preview_config(report, t),
        placeholder="",  # a cell not read (its reason says why) or left blank
    )


def _commit(kind: Kind, file_id: str, name: str, data: bytes, report: ImportReport) -> None:
    if not st.button(
        t("import.commit"), type="primary", disabled=not report.ok, key="import_commit"
    ):
        return
    try:
        with st.spinner(t("import.running")):
            outcome = import_service.commit_import(
                runtime.uow(), runtime.market(), actor, kind, name, data, t.locale
            )
    except ImportRejected as rejected:
        st.session_state[PREVIEW_KEY] = (file_id, rejected.report)
        st.session_state[REJECTED_KEY] = True
        st.rerun()
    st.session_state.pop(PREVIEW_KEY, None)
    st.session_state[UPLOAD_ROUND_KEY] = st.session_state.get(UPLOAD_ROUND_KEY, 0) + 1
    done = t(
        "import.done",
        file=escape_markdown(name),
        created=format_number(outcome.created, t.locale, 0),
        updated=format_number(outcome.updated, t.locale, 0),
        unchanged=format_number(outcome.unchanged, t.locale, 0),
    )
    note = _history_note() if kind != "clients" else ""
    runtime.flash(f"{done} {note}".strip())
    st.rerun()


def _history_note() -> str:
    """Fetch the price history of the tickers the import brought that have no stored close
    (:func:`core.services.asset_history.fetch_unpriced_history`); the note to add when some
    is left for the next scheduled close. The import is committed either way."""
    try:
        with st.spinner(t("history.fetching_import")):
            history = fetch_unpriced_history(runtime.uow(), runtime.market(), actor)
        if not history.pending:
            return ""
        symbols = ", ".join(sorted(history.failed))
    except Exception:  # the import is stored: a failure here only leaves the history pending
        log.exception("history of the imported tickers left for the scheduler")
        symbols = "—"
    return t("history.pending_import", symbols=escape_markdown(symbols))


st.title(t("import.title"))
runtime.show_flash()
with guarded(t):
    kind: Kind = st.radio(
        t("import.kind"),
        KINDS,
        format_func=lambda k: t(f"import.kind.{k}"),
        horizontal=True,
        key="import_kind",
    )
    st.caption(t(f"import.help.{kind}"))
    _templates(kind)
    translate_uploader(UPLOAD_KEY_PREFIX, MAX_MB, t)
    upload = st.file_uploader(
        t("import.upload"),
        type=["csv", "xlsx"],
        max_upload_size=MAX_MB,
        key=f"{UPLOAD_KEY_PREFIX}{kind}_{st.session_state.get(UPLOAD_ROUND_KEY, 0)}",
    )
    st.caption(t("import.limits", mb=MAX_MB, rows=format_number(MAX_ROWS, t.locale, 0)))
    if upload is not None:
        data = upload.getvalue()
        report = _preview(kind, upload.file_id, upload.name, data)
        if st.session_state.pop(REJECTED_KEY, False):
            st.error(t("import.rejected"))
        _show(report)
        if not report.file_errors:
            _commit(kind, upload.file_id, upload.name, data, report)
