"""The claim's Detail as a PDF the client can file: letterhead, parties, summary, the whole
line table (its header repeated on every page, a totals row summing every money column), the
tax, the jurisdiction's statutory statement, and "Page N of M" with the snapshot's hash in the
footer of every page. Laid out with ReportLab's Platypus (pure Python, no system library), the
line table by a flowable of our own that draws its rows straight onto the canvas
(workers/pdf_lines.py)."""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from models.claim import ProgressClaim
from models.money import ClaimFigures, LineFigures
from models.statutory import ClaimStatement, claim_statement
from models.storage import FileStore, safe_filename
from models.terminology import Terms
from workers.pdf_lines import PADDING_X, Columns, LineTable, LineTableStyle

# ReportLab builds its table of named colours on first use, setting it to {} before filling it:
# a second worker thread rendering meanwhile finds no "black" and the email fails as "Invalid
# color value 'black'" (seen in the chaos run, where killed workers restart cold). Built here,
# once, at import, before any worker thread runs.
colors.getAllNamedColors()

FONT, BOLD = "Helvetica", "Helvetica-Bold"
MARGIN = 14 * mm
CELL_PADDING = 6  # a Table cell's padding on either side, ReportLab's default
INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#666666")
RULE = colors.HexColor("#BBBBBB")
SHADE = colors.HexColor("#EEEEEE")
STRIPE = colors.HexColor("#F7F7F7")

# The line table's money columns, in the order of the G703 continuation sheet.
MONEY_COLUMNS = (
    "scheduled_value",
    "previous",
    "this_period",
    "materials_stored",
    "completed_and_stored",
)
AFTER_PERCENT = ("balance", "retention")
BOLD_SUMMARY_ROWS = {"current_payment_due", "current_payment_due_including_tax"}


@dataclass(frozen=True)
class Letterhead:
    name: str
    registration: str  # "ABN 51 824 753 556", or ""
    address: str
    contact: str  # phone and accounts e-mail, one line
    logo: bytes | None


@dataclass(frozen=True)
class ClaimDocument:
    """Everything the PDF shows, taken from the claim as of one moment."""

    terms: Terms
    letterhead: Letterhead
    client_name: str
    client_company: str
    claim_number: int
    contract: str  # "HC-1 Main works"
    project: str
    period_start: date
    period_end: date
    claim_date: date
    figures: ClaimFigures
    tax_name: str
    money: Callable[[Decimal], str]
    statement: ClaimStatement | None
    reference: str  # the first 12 hex digits of the snapshot's hash
    draft: bool


def claim_document(
    claim: ProgressClaim,
    figures: ClaimFigures,
    *,
    claim_date: date,
    reference: str,
    draft: bool,
    store: FileStore,
) -> ClaimDocument:
    """The document of `claim` with `figures` (those of the snapshot, or the current ones)."""
    company = claim.project.company
    terms = claim.terms
    contract = claim.head_contract
    client = contract.client_contact
    contact = " · ".join(x for x in (company.phone, company.accounts_email) if x)
    return ClaimDocument(
        terms=terms,
        letterhead=Letterhead(
            name=company.letterhead_name,
            registration=(
                f"{terms.registration} {company.registration_number}"
                if company.registration_number
                else ""
            ),
            address=company.address,
            contact=contact,
            logo=store.read(company.logo_sha256) if company.logo_sha256 else None,
        ),
        client_name=client.name if client else "",
        client_company=client.company if client else "",
        claim_number=claim.number,
        contract=f"{contract.number} {contract.title}",
        project=f"{claim.project.number} {claim.project.name}",
        period_start=claim.period_start,
        period_end=claim.period_end,
        claim_date=claim_date,
        figures=figures,
        tax_name=company.tax_name,
        money=company.money_writer(),
        statement=claim_statement(contract.jurisdiction),
        reference=reference[:12],
        draft=draft,
    )


def pdf_filename(claim: ProgressClaim) -> str:
    """The PDF's file name: "Progress Claim 3 - HC-1.pdf"."""
    return safe_filename(f"{claim.terms.claim} {claim.number} - {claim.head_contract.number}.pdf")


class _PageCountingCanvas(Canvas):
    """A canvas that holds each finished page back until the document ends, so that every
    footer can say how many pages there are ("Page 2 of 7")."""

    def __init__(self, *args, footer: Callable[[Canvas, int, int], None], **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._held_pages: list[dict] = []

    def showPage(self):  # noqa: N802 (ReportLab's name)
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._held_pages)
        for number, page in enumerate(self._held_pages, start=1):
            self.__dict__.update(page)
            self._footer(self, number, total)
            super().showPage()
        super().save()


def _styles(size: float) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=size, leading=size * 1.25, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=size - 1, leading=(size - 1) * 1.25),
        "muted": ParagraphStyle("muted", parent=base, textColor=MUTED),
        "bold": ParagraphStyle("bold", parent=base, fontName=BOLD),
        "name": ParagraphStyle("name", parent=base, fontName=BOLD, fontSize=14, leading=17),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=16, leading=20),
        "heading": ParagraphStyle(
            "heading", parent=base, fontName=BOLD, fontSize=10, leading=13, spaceBefore=8
        ),
        "lines_heading": ParagraphStyle(
            "lines_heading", parent=base, fontName=BOLD, fontSize=10, leading=13, spaceAfter=4
        ),
        "draft": ParagraphStyle(
            "draft", parent=base, fontName=BOLD, fontSize=11, textColor=colors.firebrick
        ),
        "statement": ParagraphStyle("statement", parent=base, fontName=BOLD, fontSize=9.5),
    }


def _text(value: str) -> str:
    """User text made safe for a Paragraph (its markup is XML), line breaks kept."""
    return "<br/>".join(escape(line) for line in value.splitlines())


def _letterhead(doc: ClaimDocument, width: float, styles) -> Table:
    """The company's logo on the left and its name, number, address and contact on the right;
    without a logo, the name and the rest on the left."""
    head = doc.letterhead
    logo = None
    if head.logo:
        reader = ImageReader(io.BytesIO(head.logo))
        pixels_wide, pixels_high = reader.getSize()
        # At most 22 mm high and 70 mm wide, in proportion.
        scale = min(22 * mm / pixels_high, 70 * mm / pixels_wide)
        logo = Image(io.BytesIO(head.logo), width=pixels_wide * scale, height=pixels_high * scale)
        logo.hAlign = "LEFT"
    alignment = TA_RIGHT if logo else styles["base"].alignment
    name_style = ParagraphStyle("head_name", parent=styles["name"], alignment=alignment)
    line_style = ParagraphStyle("head_line", parent=styles["muted"], alignment=alignment)
    lines = [Paragraph(_text(head.name), name_style)]
    for text in (head.registration, head.address, head.contact):
        if text:
            lines.append(Paragraph(_text(text), line_style))
    if logo:
        table = Table([[logo, lines]], colWidths=[75 * mm, width - 75 * mm])
    else:
        table = Table([[lines]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("RIGHTPADDING", (-1, 0), (-1, 0), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 6),
            ]
        )
    )
    return table


# White space a Paragraph would squeeze or trim, and a plain string would print as stored.
_LOOSE_SPACE = re.compile(r"^\s|\s$|[\t\r\f\v]|  ")


def _fits(text: str, style: ParagraphStyle, width: float) -> bool:
    """Whether each line of `text` fits `width` in `style`'s font, and prints the same as a
    plain string as in a Paragraph (no white space of the kind a Paragraph collapses)."""
    return all(
        not _LOOSE_SPACE.search(line) and stringWidth(line, style.fontName, style.fontSize) <= width
        for line in text.split("\n")
    )


def _cells(texts: list[str], styles: list[ParagraphStyle], widths: list[float]) -> list:
    """A table row of `texts`: plain strings when every line of each fits its cell (a Table
    draws those itself, a tenth of a Paragraph's cost), else Paragraphs, which wrap. All of a
    row is one or the other, so its cells' first lines sit on one baseline."""
    inner = [width - 2 * CELL_PADDING for width in widths]
    if all(_fits(t, st, w) for t, st, w in zip(texts, styles, inner, strict=True)):
        return list(texts)
    return [Paragraph(_text(t), st) for t, st in zip(texts, styles, strict=True)]


def _text_style(style: ParagraphStyle, cells: tuple) -> list[tuple]:
    """TableStyle commands giving plain-string `cells` the font and colour of `style`."""
    return [
        ("FONT", *cells, style.fontName, style.fontSize, style.leading),
        ("TEXTCOLOR", *cells, style.textColor),
    ]


def _details(doc: ClaimDocument, width: float, styles) -> Table:
    """Who the claim is to and what it is: beside it, the summary."""
    terms, labels = doc.terms, doc.terms.labels
    client = [x for x in (doc.client_name, doc.client_company) if x] or ["-"]
    rows = [
        (labels["client"], "\n".join(client)),
        (f"{terms.claim} no.", str(doc.claim_number)),
        (labels["claim_date"], terms.date(doc.claim_date)),
        (terms.contract, doc.contract),
        (labels["project"], doc.project),
        (
            labels["period"],
            f"{terms.date(doc.period_start)} - {terms.date(doc.period_end)}",
        ),
    ]
    label_width = 32 * mm
    widths = [label_width, width - label_width]
    # The label column has no left padding: its text may use that too.
    inner = [label_width + CELL_PADDING, widths[1]]
    table = Table(
        [_cells(list(row), [styles["muted"], styles["base"]], inner) for row in rows],
        colWidths=widths,
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                *_text_style(styles["muted"], ((0, 0), (0, -1))),
                *_text_style(styles["base"], ((1, 0), (1, -1))),
            ]
        )
    )
    return table


def _summary(doc: ClaimDocument, width: float, styles) -> Table:
    summary = doc.figures.summary
    labels = doc.terms.summary_labels(doc.tax_name)
    rows, style = (
        [],
        [
            ("FONT", (1, 0), (1, -1), FONT, 9),
            *_text_style(styles["base"], ((0, 0), (0, -1))),
            ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ],
    )
    label_width = width - 38 * mm
    for index, (key, label) in enumerate(labels.items()):
        bold = key in BOLD_SUMMARY_ROWS
        label_style = styles["bold"] if bold else styles["base"]
        (cell,) = _cells([label], [label_style], [label_width])
        rows.append([cell, doc.money(getattr(summary, key))])
        if bold:
            style += [
                *_text_style(label_style, ((0, index), (0, index))),
                ("FONT", (1, index), (1, index), BOLD, 9.5),
                ("BACKGROUND", (0, index), (-1, index), SHADE),
            ]
    table = Table(rows, colWidths=[label_width, 38 * mm])
    table.setStyle(TableStyle(style))
    return table


def _statement(doc: ClaimDocument, width: float, styles) -> Table | None:
    statement = doc.statement
    if statement is None:
        return None
    cell = [
        Paragraph(escape(statement.text), styles["statement"]),
        Paragraph(escape(statement.citation), styles["muted"]),
    ]
    table = Table([[cell]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _line_row(doc: ClaimDocument, line: LineFigures, description) -> list:
    money = doc.money
    return [
        line.item,
        description,
        *(money(getattr(line, key)) for key in MONEY_COLUMNS),
        f"{line.percent:.2f}%",
        *(money(getattr(line, key)) for key in AFTER_PERCENT),
    ]


def _line_table(doc: ClaimDocument, width: float) -> LineTable:
    """The whole line table; its header row repeats at the top of every page."""
    labels, figures = doc.terms.labels, doc.figures
    item_width, money_width, percent_width = 13 * mm, 23 * mm, 15 * mm
    description_width = width - item_width - percent_width - 7 * money_width
    body = [_line_row(doc, line, line.description) for line in figures.lines]
    totals = _line_row(doc, figures.totals, labels["totals"])
    totals[0] = ""
    columns = Columns(
        widths=(item_width, description_width, *[money_width] * 5, percent_width)
        + (money_width,) * 2,
        right=frozenset(range(2, 10)),
    )
    # Amounts in the millions (or a currency written with letters, "USD1,234.50") may not fit
    # at the usual size: the table's font shrinks until the widest amount does.
    size = 7.5
    widest = max(columns.measure(cell, BOLD, 1) for row in body + [totals] for cell in row[2:])
    while size > 5 and widest * size > money_width - 2 * PADDING_X:
        size -= 0.5
    style = LineTableStyle(FONT, BOLD, size, ink=INK, rule=RULE, shade=SHADE, stripe=STRIPE)
    header = [
        labels["item"],
        labels["description"],
        *(labels[key] for key in MONEY_COLUMNS),
        labels["percent"],
        *(labels[key] for key in AFTER_PERCENT),
    ]
    return LineTable(
        columns,
        style,
        header=columns.header(header, style),
        body=[columns.row(row, style) for row in body],
        totals=columns.row(totals, style, bold=True),
    )


def _outline(doc: ClaimDocument, styles) -> list:
    """New Zealand's prescribed outline of the process for the payer, in full."""
    if doc.statement is None or not doc.statement.outline:
        return []
    paragraphs = [p for p in doc.statement.outline.split("\n\n") if p.strip()]
    flowables = [Spacer(1, 6 * mm)]
    for index, paragraph in enumerate(paragraphs):
        style = styles["heading"] if index == 0 or len(paragraph) < 60 else styles["base"]
        flowables.append(Paragraph(_text(paragraph), style))
        flowables.append(Spacer(1, 2 * mm))
    return flowables


def _footer(doc: ClaimDocument, page_size, canvas: Canvas, page: int, pages: int) -> None:
    """Drawn on each page once the document is laid out: the footer, and a draft's mark
    across the page (over the figures, faintly, so no shaded row hides it)."""
    width, height = page_size
    labels, terms = doc.terms.labels, doc.terms
    if doc.draft:
        canvas.saveState()
        canvas.setFont(BOLD, 110)
        canvas.setFillColor(colors.Color(0.85, 0.2, 0.2, alpha=0.09))
        canvas.translate(width / 2, height / 2)
        canvas.rotate(25)
        canvas.drawCentredString(0, -40, "DRAFT")
        canvas.restoreState()
    canvas.saveState()
    canvas.setFont(FONT, 7.5)
    canvas.setFillColor(MUTED)
    left = (
        f"{doc.letterhead.name} · {terms.claim} #{doc.claim_number} · {doc.contract} · "
        f"{labels['reference']} {doc.reference}"
    )
    if doc.draft:
        left = f"{labels['draft']} · {left}"
    canvas.drawString(MARGIN + 6, 8 * mm, left)
    canvas.drawRightString(
        width - MARGIN - 6, 8 * mm, labels["page_of"].format(page=page, pages=pages)
    )
    canvas.restoreState()


def build_pdf(doc: ClaimDocument) -> bytes:
    """The PDF's bytes; the same document always gives the same bytes (ReportLab's invariant
    mode leaves out the creation time and the random document id)."""
    terms = doc.terms
    page_size = landscape(LETTER if terms.locale == "en_US" else A4)
    out = io.BytesIO()
    title = f"{terms.claim} #{doc.claim_number} - {doc.contract}"
    template = SimpleDocTemplate(
        out,
        pagesize=page_size,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=title,
        author=doc.letterhead.name,
        subject=f"{doc.project}, {terms.date(doc.period_start)} - {terms.date(doc.period_end)}",
        creator="ClaimPost",
        invariant=1,
    )
    # SimpleDocTemplate's frame keeps 6 points of padding inside each margin.
    width = template.width - 12
    styles = _styles(8.5)
    heading = [Paragraph(escape(f"{terms.claim} #{doc.claim_number}"), styles["title"])]
    if doc.draft:
        heading.append(Paragraph(escape(terms.labels["draft"]), styles["draft"]))
    left_width = width * 0.44
    right_width = width - left_width - 8 * mm
    top = Table(
        [
            [
                [*heading, Spacer(1, 3 * mm), _details(doc, left_width, styles)],
                [
                    Paragraph(escape(terms.labels["summary_heading"]), styles["heading"]),
                    _summary(doc, right_width, styles),
                ],
            ]
        ],
        colWidths=[left_width + 8 * mm, right_width],
    )
    top.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story = [_letterhead(doc, width, styles), Spacer(1, 4 * mm), top, Spacer(1, 4 * mm)]
    if statement := _statement(doc, width, styles):
        story += [statement, Spacer(1, 4 * mm)]
    story += [
        # The breakdown starts on this page when a few of its rows fit below its heading.
        CondPageBreak(35 * mm),
        Paragraph(escape(terms.labels["lines_heading"]), styles["lines_heading"]),
        _line_table(doc, width),
        *_outline(doc, styles),
    ]
    template.build(
        story,
        canvasmaker=partial(_PageCountingCanvas, footer=partial(_footer, doc, page_size)),
    )
    return out.getvalue()
