"""A4 PDFs of the generated documents (reportlab): Noto CJK embedded, page numbers, and on every page a footer
with the filing's reference, the snapshot's SHA-256 and a QR code to the public verification page.

Rendering is deterministic: reportlab's invariant mode fixes the creation date and the file ID, so the same
document data gives the same bytes. The signed variant places each signature image in its signatory's box and
adds an evidence page per signature.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import qrcode

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from server.services.documents import content
from server.services.documents.fonts import TextFonts

INK = colors.HexColor("#222222")
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#999999")
PALE = colors.HexColor("#EEF2F8")
BLUE = colors.HexColor("#114A9C")
MARGIN = 18 * mm
FOOTER_HEIGHT = 24 * mm
BOX_HEIGHT = 26 * mm


@dataclass(frozen=True)
class Footer:
    reference: str
    snapshot_hash: str
    verify_url: str


@dataclass(frozen=True)
class PlacedSignature:
    """A signature to draw in its signatory's box: the image and the local time it was made."""

    image_png: bytes
    signed_at: str


@dataclass(frozen=True)
class EvidencePage:
    """One signature's evidence, as the signed PDF prints it (personal data already masked)."""

    title: str
    rows: tuple[tuple[str, str], ...]


class _Styles:
    def __init__(self, fonts: TextFonts):
        name = fonts.base
        self.title = ParagraphStyle("title", fontName=name, fontSize=18, leading=26, alignment=TA_CENTER,
                                    textColor=BLUE, spaceAfter=2 * mm)
        self.subtitle = ParagraphStyle("subtitle", fontName=name, fontSize=9, leading=13, alignment=TA_CENTER,
                                       textColor=GREY, spaceAfter=5 * mm)
        self.heading = ParagraphStyle("heading", fontName=name, fontSize=12, leading=18, textColor=BLUE,
                                      spaceBefore=4 * mm, spaceAfter=2 * mm)
        self.body = ParagraphStyle("body", fontName=name, fontSize=10, leading=15, textColor=INK)
        self.cell = ParagraphStyle("cell", fontName=name, fontSize=9, leading=13, textColor=INK, wordWrap="CJK")
        self.label = ParagraphStyle("label", parent=self.cell, textColor=GREY)
        self.small = ParagraphStyle("small", fontName=name, fontSize=7.5, leading=10, textColor=GREY,
                                    wordWrap="CJK")


def _grid(header_rows: int = 0) -> TableStyle:
    commands = [("GRID", (0, 0), (-1, -1), 0.5, RULE), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), PALE))
    return TableStyle(commands)


class _Story:
    def __init__(self, fonts: TextFonts):
        self.fonts = fonts
        self.styles = _Styles(fonts)
        self.width = A4[0] - 2 * MARGIN

    def p(self, text: str, style) -> Paragraph:
        return Paragraph(self.fonts.markup(text), style)

    def block(self, block) -> list:
        s = self.styles
        out = [self.p(block.title, s.heading)] if block.title else []
        if isinstance(block, content.Fields):
            rows = [[self.p(label, s.label), self.p(value, s.cell)] for label, value in block.rows]
            table = Table(rows, colWidths=[self.width * 0.26, self.width * 0.74])
            table.setStyle(_grid())
            table.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), PALE)]))
            out.append(table)
        elif isinstance(block, content.Table):
            widths = [self.width * share for share in block.widths] if block.widths else None
            rows = [[self.p(text, s.label) for text in block.header]]
            rows += [[self.p(text, s.cell) for text in row] for row in block.rows] or \
                [[self.p("（无）", s.cell)] + [""] * (len(block.header) - 1)]
            table = Table(rows, colWidths=widths, repeatRows=1)
            table.setStyle(_grid(1))
            out += [table, Spacer(1, 2 * mm)]
        else:
            out += [self.p(text, s.body) for text in block.paragraphs]
        return out

    def signature_page(self, document: content.Document, signed: dict[tuple, PlacedSignature]) -> list:
        s = self.styles
        out = [CondPageBreak(90 * mm), self.p("签字页", s.heading), self.p(document.signing_note, s.body),
               Spacer(1, 3 * mm)]
        rows = [[self.p(text, s.label) for text in ("签字人", "身份", "签署方式", "签名")]]
        for signatory in document.signatories:
            placed = signed.get(signatory.identity)
            if placed is None:
                box = ""
            else:
                image = Image(io.BytesIO(placed.image_png))
                scale = min((self.width * 0.36 - 8) / image.imageWidth, (BOX_HEIGHT - 12) / image.imageHeight)
                image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
                box = [image, self.p(f"签署于 {placed.signed_at}", s.small)]
            rows.append([self.p(signatory.name, s.cell), self.p(signatory.roles, s.cell),
                         self.p(signatory.method, s.cell), box])
        if not document.signatories:
            rows.append([self.p("本文书无需签名", s.cell), "", "", ""])
        table = Table(rows, colWidths=[self.width * share for share in (0.18, 0.24, 0.22, 0.36)],
                      rowHeights=[None] + [BOX_HEIGHT] * max(1, len(document.signatories)))
        table.setStyle(_grid(1))
        return [*out, table]

    def document(self, document: content.Document, signed: dict[tuple, PlacedSignature]) -> list:
        s = self.styles
        story = [self.p(document.title, s.title), self.p(document.subtitle, s.subtitle)]
        for block in document.blocks:
            story += self.block(block)
        story += self.signature_page(document, signed)
        return story

    def evidence(self, page: EvidencePage) -> list:
        s = self.styles
        rows = [[self.p(label, s.label), self.p(value, s.cell)] for label, value in page.rows]
        table = Table(rows, colWidths=[self.width * 0.26, self.width * 0.74])
        table.setStyle(_grid())
        table.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), PALE)]))
        return [PageBreak(), self.p(page.title, s.title), KeepTogether([table])]


@lru_cache(maxsize=16)
def _qr_modules(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code's modules (with its quiet zone), computed once per URL: every document carries the same code."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """Drawn once per document as a form (XObject) and placed on every page."""
    name = "verify-qr"
    if name not in canvas._forms:
        modules = _qr_modules(url)
        cell = size / len(modules)
        canvas.beginForm(name, lowerx=0, lowery=0, upperx=size, uppery=size)
        canvas.setFillColor(colors.black)
        for row, line in enumerate(modules):
            for column, dark in enumerate(line):
                if dark:
                    canvas.rect(column * cell, size - (row + 1) * cell, cell, cell, stroke=0, fill=1)
        canvas.endForm()
        canvas._forms.add(name)
    canvas.saveState()
    canvas.translate(x, y)
    canvas.doForm(name)
    canvas.restoreState()


def _numbered_canvas(footer: Footer, fonts: TextFonts, counted: list[int]):
    """A canvas that holds its pages until the end, so every footer can say 「第 x 页 共 y 页」."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []
            self._forms: set[str] = set()

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            counted.append(total)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            width = A4[0]
            qr = 17 * mm
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, FOOTER_HEIGHT, width - MARGIN, FOOTER_HEIGHT)
            _draw_qr(self, footer.verify_url, width - MARGIN - qr, 4 * mm, qr)
            self.setFillColor(GREY)
            self.setFont(fonts.base, 7.5)
            lines = (f"申请编号：{footer.reference}", f"材料快照 SHA-256：{footer.snapshot_hash}",
                     f"核验本文件：{footer.verify_url}（上传文件或其 SHA-256）")
            for index, line in enumerate(lines):
                self.drawString(MARGIN, FOOTER_HEIGHT - 5 * mm - index * 4 * mm, line)
            self.setFont(fonts.base, 8)
            self.drawCentredString(width / 2 - 6 * mm, 4 * mm, f"第 {self._pageNumber} 页 共 {total} 页")

    return NumberedCanvas


def render(documents: list[content.Document], footer: Footer, font_cache_dir: str, *,
           signed: dict[tuple, PlacedSignature] | None = None, evidence: list[EvidencePage] = (),
           title: str | None = None) -> tuple[bytes, int]:
    """(PDF bytes, page count) of the documents in order, then the evidence pages."""
    texts = [footer.reference, footer.verify_url, title or ""]
    for document in documents:
        texts += document.all_text()
    for page in evidence:
        texts += [page.title] + [text for row in page.rows for text in row]
    fonts = TextFonts(font_cache_dir, texts)
    story_maker = _Story(fonts)
    story: list = []
    for index, document in enumerate(documents):
        if index:
            story.append(PageBreak())
        story += story_maker.document(document, signed or {})
    for page in evidence:
        story += story_maker.evidence(page)
    buffer = io.BytesIO()
    template = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                 bottomMargin=FOOTER_HEIGHT + 4 * mm, title=title or documents[0].title,
                                 author="一窗通", creator="一窗通", producer="一窗通", subject=footer.reference,
                                 invariant=1)
    counted: list[int] = []
    template.build(story, canvasmaker=_numbered_canvas(footer, fonts, counted))
    return buffer.getvalue(), counted[-1]
