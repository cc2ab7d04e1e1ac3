"""A client's statement as a PDF (ReportLab), in the reader's language (pt-BR by default).

ReportLab draws the tables and the charts itself (its own vector graphics: no browser, no
image export), from pure Python, in well under a second a statement; see
docs/statements.md for why it was chosen. Every text that comes from data (names, tickers,
notes) is escaped before it reaches a Paragraph: ReportLab's paragraphs read a small
markup, and stored text is never rendered as markup. Demo data says so on every page, and
every page's footer names the data sources and how recent they are.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core.analytics.benchmarks import BenchmarkReturn
from core.db import UnitOfWork
from core.documents import format_document
from core.formatting import (
    DASH,
    format_brl,
    format_date,
    format_number,
    format_percent,
    format_quantity,
)
from core.i18n import Translator
from core.services.principal import Principal
from core.services.statements import INCOME_EVENTS, StatementData, statement_data
from core.trade_schemas import LedgerLineOut

GREEN = colors.HexColor("#0b6e4f")
GREY = colors.HexColor("#6c757d")
LIGHT = colors.HexColor("#f1f3f5")
LINES = {"CDI": "#6c757d", "IBOV": "#1f77b4", "IPCA": "#d62728"}
PIE_COLOURS = ["#0b6e4f", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=8.5, leading=11)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7, leading=9, textColor=GREY)
H1 = ParagraphStyle("h1", parent=_STYLES["Heading1"], fontSize=16, textColor=GREEN)
H2 = ParagraphStyle("h2", parent=_STYLES["Heading2"], fontSize=11, spaceBefore=8)


def text(value: object, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain text: escaped, so stored text never reads as markup."""
    return Paragraph(escape(str(value)), style)


def _percent(value: Decimal | float | None, t: Translator) -> str:
    return format_percent(value, t.locale)


def _table(rows: list[list[object]], widths: Sequence[float] | None = None) -> Table:
    """A table with a header row; numbers right-aligned (every column after the first)."""
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, GREY),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _summary(data: StatementData, t: Translator) -> list[object]:
    s = data.summary
    assert s is not None
    money = [
        (t("statement.value_start"), format_brl(s.value_start, t.locale)),
        (t("statement.money_in"), format_brl(s.money_in, t.locale)),
        (t("statement.money_out"), format_brl(s.money_out, t.locale)),
        (t("statement.income"), format_brl(s.income, t.locale)),
        (t("statement.result"), format_brl(s.result, t.locale)),
        (t("statement.value_end"), format_brl(s.value_end, t.locale)),
    ]
    rates = [
        (t("statement.twr"), _percent(s.twr, t)),
        (t("returns.col.cdi"), _benchmark(s.benchmarks.get("CDI"), t)),
        (t("returns.col.percent_cdi"), _percent(s.percent_of_cdi, t)),
        (t("statement.irr"), _percent(s.irr, t)),
        (t("returns.col.ibov"), _benchmark(s.benchmarks.get("IBOV"), t)),
        (t("returns.col.ipca"), _benchmark(s.benchmarks.get("IPCA"), t)),
    ]
    rows = [[a, b, c, d] for (a, b), (c, d) in zip(money, rates, strict=True)]
    table = Table(rows, colWidths=[45 * mm, 40 * mm, 45 * mm, 40 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
                ("FONT", (1, 0), (1, -1), "Helvetica-Bold", 9),
                ("FONT", (3, 0), (3, -1), "Helvetica-Bold", 9),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LIGHT),
            ]
        )
    )
    return [Paragraph(escape(t("statement.summary")), H2), table]


def _benchmark(found: BenchmarkReturn | None, t: Translator) -> str:
    """A benchmark's return, or a dash when it is incomplete (never a partial figure)."""
    if found is None or not found.complete:
        return DASH
    return _percent(found.cumulative, t)


def _periods(data: StatementData, t: Translator) -> list[object]:
    found = data.returns
    if found is None or not found.periods:
        return []
    head = [
        t("returns.col.period"),
        t("returns.col.portfolio"),
        t("returns.col.cdi"),
        t("returns.col.percent_cdi"),
        t("returns.col.ibov"),
        t("returns.col.ipca"),
    ]
    rows: list[list[object]] = [head]
    for row in found.periods:
        label = t(f"returns.period.{row.period.key}")
        if row.period.partial:
            label = t(
                "returns.period.partial", label=label, since=format_date(row.period.first, t.locale)
            )
        rows.append(
            [
                text(label),
                _percent(row.twr, t),
                _benchmark(row.benchmarks["CDI"], t),
                _percent(row.percent_of_cdi, t),
                _benchmark(row.benchmarks["IBOV"], t),
                _benchmark(row.benchmarks["IPCA"], t),
            ]
        )
    widths = [50 * mm] + [24 * mm] * 5
    return [Paragraph(escape(t("returns.title")), H2), _table(rows, widths)]


def _grid(data: StatementData, t: Translator) -> list[object]:
    found = data.returns
    if found is None or not found.grid:
        return []
    months = [t(f"month.short.{m}") for m in range(1, 13)]
    rows: list[list[object]] = [["", "", *months, t("returns.col.total")]]
    for year in reversed(found.grid):
        for kind in ("portfolio", "percent_cdi"):
            cells: list[object] = [str(year.year), t(f"returns.line.{kind}")]
            for number in range(1, 13):
                cell = year.months.get(number)
                value = (
                    None
                    if cell is None
                    else (cell.twr if kind == "portfolio" else cell.percent_of_cdi)
                )
                cells.append("" if cell is None else _percent(value, t))
            total = year.total.twr if kind == "portfolio" else year.total.percent_of_cdi
            cells.append(_percent(total, t))
            rows.append(cells)
    table = _table(rows, [10 * mm, 16 * mm] + [11.5 * mm] * 12 + [13 * mm])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 6.5)]))
    return [Paragraph(escape(t("returns.grid")), H2), table]


def _positions(data: StatementData, t: Translator) -> list[object]:
    view = data.positions
    if view is None:
        return []
    open_rows = [row for row in view.rows if row.quantity > 0]
    if not open_rows:
        return []
    head = [
        t("col.ticker"),
        t("statement.col.class"),
        t("col.quantity"),
        t("statement.col.average_cost"),
        t("statement.close"),
        t("statement.value_brl"),
        t("statement.col.weight"),
    ]
    rows: list[list[object]] = [head]
    for row in open_rows:
        rows.append(
            [
                text(row.symbol),
                text(t(f"asset_class.{row.asset_class or 'none'}")),
                format_quantity(row.quantity, t.locale),
                format_number(row.average_cost, t.locale),
                format_number(row.price, t.locale),
                (
                    format_brl(row.market_value_brl, t.locale)
                    if row.market_value_brl is not None
                    else DASH
                ),
                _percent(row.weight, t),
            ]
        )
    title = t("statement.positions", date=format_date(data.as_of, t.locale))
    return [
        Paragraph(escape(title), H2),
        _table(rows, [26 * mm, 26 * mm, 20 * mm, 24 * mm, 22 * mm, 30 * mm, 18 * mm]),
    ]


def _allocation(data: StatementData, t: Translator) -> list[object]:
    found = data.allocation
    if found is None or not found.classes:
        return []
    rows: list[list[object]] = [
        [t("statement.col.class"), t("statement.value_brl"), t("statement.col.weight")]
    ]
    for share in found.classes:
        rows.append(
            [
                text(t(f"asset_class.{share.asset_class}")),
                format_brl(share.value_brl, t.locale),
                _percent(share.weight, t),
            ]
        )
    pie = Drawing(70 * mm, 45 * mm)
    chart = Pie()
    chart.x, chart.y, chart.width, chart.height = 10 * mm, 2 * mm, 40 * mm, 40 * mm
    chart.data = [float(share.value_brl) for share in found.classes]
    chart.labels = [t(f"asset_class.{share.asset_class}") for share in found.classes]
    for index in range(len(chart.data)):
        chart.slices[index].fillColor = colors.HexColor(PIE_COLOURS[index % len(PIE_COLOURS)])
        chart.slices[index].fontSize = 6
    pie.add(chart)
    layout = Table([[_table(rows, [35 * mm, 32 * mm, 18 * mm]), pie]], colWidths=[90 * mm, 80 * mm])
    return [KeepTogether([Paragraph(escape(t("statement.allocation")), H2), layout])]


def _lines(
    data: StatementData, t: Translator, lines: list[LedgerLineOut], title_key: str
) -> list[object]:
    if not lines:
        return []
    head = [t("col.date"), t("col.ticker"), t("statement.what"), t("statement.amount")]
    rows: list[list[object]] = [head]
    for line in lines:
        rows.append(
            [
                format_date(line.date, t.locale),
                text(line.symbol),
                text(_what(line, t)),
                _amount(line, t),
            ]
        )
    return [Paragraph(escape(t(title_key)), H2), _table(rows, [24 * mm, 28 * mm, 80 * mm, 36 * mm])]


def _what(line: LedgerLineOut, t: Translator) -> str:
    if line.is_event or line.movement is None:
        return t(f"event_kind.{line.event_kind}")
    movement = line.movement
    if movement.kind == "income":
        return t(f"income_type.{movement.income_type}")
    quantity = format_quantity(movement.quantity, t.locale)
    price = format_number(movement.price, t.locale)
    return f"{t(f'ledger.kind.{movement.kind}')} · {quantity} × {price}"


def _amount(line: LedgerLineOut, t: Translator) -> str:
    """Money the line moved: a trade's total with its fees, income net of tax (per-share
    income: the quantity held x the amount per share x (1 - the rate withheld)); nothing
    for a split or bonus shares, which move no money."""
    movement = line.movement
    if movement is None:
        if line.event_kind in INCOME_EVENTS and line.held is not None and line.value:
            net = line.held * line.value * (1 - (line.ratio or 0))
            return format_number(net, t.locale)
        return ""
    if movement.kind == "income":
        return format_number(movement.amount - movement.tax, t.locale)
    gross = movement.quantity * movement.price
    total = gross + movement.fees if movement.kind == "buy" else gross - movement.fees
    return format_number(total, t.locale)


def _twr_chart(data: StatementData, t: Translator) -> list[object]:
    if len(data.days) < 2:
        return []
    drawing = Drawing(170 * mm, 62 * mm)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 14 * mm, 10 * mm, 150 * mm, 46 * mm
    origin = data.days[0].toordinal()
    series = [
        [(d.toordinal() - origin, float(v)) for d, v in zip(data.days, data.twr, strict=True)]
    ]
    names = [t("chart.twr")]
    strokes = [GREEN]
    for name, curve in data.curves.items():
        points = [
            (d.toordinal() - origin, v)
            for d, v in zip(data.days, curve, strict=True)
            if v is not None
        ]
        if len(points) > 1:
            series.append(points)
            names.append(t(f"returns.col.{name.lower()}"))
            strokes.append(colors.HexColor(LINES[name]))
    plot.data = series
    for index, colour in enumerate(strokes):
        plot.lines[index].strokeColor = colour
        plot.lines[index].strokeWidth = 1.4 if index == 0 else 0.8
    plot.xValueAxis.labelTextFormat = lambda x: format_date(
        date.fromordinal(int(x) + origin), t.locale
    )
    plot.xValueAxis.labels.fontSize = 6
    plot.yValueAxis.labelTextFormat = lambda y: _percent(y, t)
    plot.yValueAxis.labels.fontSize = 6
    drawing.add(plot)
    for index, (name, colour) in enumerate(zip(names, strokes, strict=True)):
        drawing.add(
            String(16 * mm + index * 30 * mm, 58 * mm, f"— {name}", fontSize=7, fillColor=colour)
        )
    return [Paragraph(escape(t("statement.chart")), H2), drawing]


def _footer(data: StatementData, t: Translator):  # type: ignore[no-untyped-def]
    sources = " · ".join(
        t(
            "statement.source",
            what=t(f"statement.source.{s.what}"),
            source=", ".join(t(f"statement.origin.{o}") for o in s.source.split(", ")),
            through=format_date(s.through, t.locale) if s.through else DASH,
        )
        for s in data.sources
    )

    def draw(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 6.5)
        canvas.setFillColor(GREY)
        width = A4[0]
        canvas.drawString(15 * mm, 10 * mm, sources[:190])
        canvas.drawRightString(width - 15 * mm, 6 * mm, t("statement.page", page=doc.page))
        canvas.drawString(
            15 * mm,
            6 * mm,
            t("statement.generated", at=data.generated_at.strftime("%d/%m/%Y %H:%M UTC")),
        )
        if data.demo:
            canvas.setFillColor(colors.HexColor("#b35c00"))
            canvas.setFont("Helvetica-Bold", 8)
            canvas.drawCentredString(width / 2, A4[1] - 10 * mm, t("statement.demo"))
        canvas.restoreState()

    return draw


def render_statement(data: StatementData, t: Translator) -> bytes:
    """The statement as PDF bytes."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=t("statement.title"),
        author=data.firm,
    )
    period = t(
        "statement.period",
        start=format_date(data.start, t.locale),
        end=format_date(data.end, t.locale),
    )
    client = data.client.name
    if data.client.document:
        client = f"{client} · {format_document(data.client.document)}"
    story: list[object] = [
        Paragraph(escape(data.firm), H1),
        text(t("statement.title"), H2),
        text(client),
        text(period),
        Spacer(1, 4 * mm),
    ]
    if data.summary is None:
        story.append(text(t("statement.no_figures")))
    else:
        story += _summary(data, t)
        story += _periods(data, t)
        story += _grid(data, t)
        story += _twr_chart(data, t)
        story += _positions(data, t)
        story += _allocation(data, t)
        story += _lines(data, t, data.income, "statement.income_title")
        story += _lines(data, t, data.movements, "statement.movements_title")
    footer = _footer(data, t)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def client_statement_pdf(
    make_uow: Callable[[], UnitOfWork],
    market_name: str,
    actor: Principal,
    client_id: int,
    start: date,
    end: date,
    *,
    firm: str,
    t: Translator,
) -> bytes:
    """A client's statement for [start, end] as PDF bytes (gathered, then drawn)."""
    data = statement_data(make_uow, market_name, actor, client_id, start, end, firm=firm)
    return render_statement(data, t)
