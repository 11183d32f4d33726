"""The claim PDF's line table as one flowable drawn straight onto the canvas: a header row
(repeated at the top of every page it runs onto), a row per line, a totals row.

Platypus's Table lays out cells of any kind: for a claim's hundreds of cells it was two thirds
of the PDF's time (a text object and a width per cell, the heights measured again at every
split). These cells are plain text in fixed columns, so a row's height is counted in lines and
all of a page's text is one text object."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from reportlab.lib.colors import Color
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Flowable

PADDING_X, PADDING_Y = 2.5, 2.0


@dataclass(frozen=True)
class LineTableStyle:
    font: str
    bold: str
    size: float
    ink: Color
    rule: Color
    shade: Color  # the header's and the totals' background
    stripe: Color  # every other line's

    @property
    def leading(self) -> float:
        return self.size * 1.25

    @property
    def header_leading(self) -> float:  # a header's two-line labels sit closer
        return self.size * 1.2


@dataclass(frozen=True)
class Row:
    cells: tuple[tuple[tuple[str, float], ...], ...]  # each cell's lines that fit, and widths
    height: float
    bold: bool
    leading: float


@dataclass(frozen=True)
class Columns:
    widths: tuple[float, ...]
    right: frozenset[int]  # the columns set flush right
    # Each distinct text's width in a font and size, measured once for the whole table: a
    # claim's amounts repeat (the 400 amounts of the benchmark's 50-line claim are 205 texts,
    # most of them a zero), and measuring them was a fifth of the PDF's time.
    measure: Callable[[str, str, float], float] = field(
        default_factory=lambda: cache(stringWidth), compare=False
    )

    def row(self, texts: list[str], style: LineTableStyle, bold: bool = False) -> Row:
        return self._row(texts, style, bold, style.leading)

    def header(self, texts: list[str], style: LineTableStyle) -> Row:
        return self._row(texts, style, True, style.header_leading)

    def _row(self, texts: list[str], style: LineTableStyle, bold: bool, leading: float) -> Row:
        font = style.bold if bold else style.font

        def lines(text: str, width: float) -> tuple[tuple[str, float], ...]:
            fit = width - 2 * PADDING_X
            if "\n" not in text and (wide := self.measure(text, font, style.size)) <= fit:
                return ((text, wide),)  # most cells: an amount, a short description
            return tuple(
                (line, self.measure(line, font, style.size))
                for paragraph in (text.splitlines() or [""])
                for line in (simpleSplit(paragraph, font, style.size, fit) or [""])
            )

        cells = tuple(lines(text, width) for text, width in zip(texts, self.widths, strict=True))
        most = max(len(cell) for cell in cells)
        return Row(cells, most * leading + 2 * PADDING_Y, bold, leading)


class _CellText(PDFTextObject):
    """A text object that sets each string where it goes. ReportLab's textOut also measures
    every string to move a cursor along it, which a table of placed cells never uses (a fifth
    of the table's drawing); this writes the same operators without measuring."""

    def place(self, x: float, y: float, text: str) -> None:
        self.setTextOrigin(x, y)
        self._code.append(self._formatText(text))


class LineTable(Flowable):
    """The header, the lines' rows and the totals (None on a page the table runs on from);
    `first_stripe` keeps the stripes alternating across a page break."""

    def __init__(
        self,
        columns: Columns,
        style: LineTableStyle,
        header: Row,
        body: list[Row],
        totals: Row | None,
        first_stripe: int = 0,
    ):
        super().__init__()
        self.columns, self.style = columns, style
        self.header, self.body, self.totals = header, body, totals
        self.first_stripe = first_stripe

    def _rows(self) -> list[Row]:
        return [self.header, *self.body, *([self.totals] if self.totals else [])]

    def wrap(self, available_width, available_height):
        self.width = sum(self.columns.widths)
        self.height = sum(row.height for row in self._rows())
        return self.width, self.height

    def split(self, available_width, available_height):
        """The whole rows that fit under the header, and the rest under a header of their own
        (the totals never alone); nothing if no line fits (the frame starts a new page)."""
        room = available_height - self.header.height
        fit = 0
        while fit < len(self.body) and self.body[fit].height <= room:
            room -= self.body[fit].height
            fit += 1
        if fit == len(self.body):
            fit -= 1  # only the totals did not fit: the last line goes over with them
        if fit <= 0:
            return []
        return [
            self._part(self.body[:fit], None, self.first_stripe),
            self._part(self.body[fit:], self.totals, (self.first_stripe + fit) % 2),
        ]

    def _part(self, body: list[Row], totals: Row | None, first_stripe: int) -> "LineTable":
        return LineTable(self.columns, self.style, self.header, body, totals, first_stripe)

    def draw(self):
        canvas, style = self.canv, self.style
        width, rows = sum(self.columns.widths), self._rows()
        tops, y = [], self.height
        for row in rows:
            tops.append(y)
            y -= row.height
        # Backgrounds, then rules, then all the text over them.
        for index, (row, top) in enumerate(zip(rows, tops, strict=True)):
            in_body = 0 < index <= len(self.body)
            if not in_body or (index - 1 + self.first_stripe) % 2:
                canvas.setFillColor(style.stripe if in_body else style.shade)
                canvas.rect(0, top - row.height, width, row.height, stroke=0, fill=1)
        canvas.setStrokeColor(style.rule)
        canvas.setLineWidth(0.25)
        for row, top in zip(self.body, tops[1:], strict=False):
            canvas.line(0, top - row.height, width, top - row.height)
        canvas.setStrokeColor(style.ink)
        canvas.setLineWidth(0.8)
        canvas.line(0, tops[1], width, tops[1])
        if self.totals is not None:
            canvas.line(0, tops[-1], width, tops[-1])
        text = _CellText(canvas)
        text.setFillColor(style.ink)
        for row, top in zip(rows, tops, strict=True):
            self._draw_text(text, row, top)
        canvas.drawText(text)

    def _draw_text(self, text: _CellText, row: Row, top: float) -> None:
        style = self.style
        font = style.bold if row.bold else style.font
        text.setFont(font, style.size, row.leading)
        left = 0.0
        for column, (lines, width) in enumerate(zip(row.cells, self.columns.widths, strict=True)):
            baseline = top - PADDING_Y - style.size
            for line, line_width in lines:
                if line:
                    x = left + PADDING_X
                    if column in self.columns.right:
                        x = left + width - PADDING_X - line_width
                    text.place(x, baseline, line)
                baseline -= row.leading
            left += width
