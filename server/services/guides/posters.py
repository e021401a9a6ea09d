"""QR codes (PNG, SVG) and A4 posters (PNG, PDF) of a service point, in the style of seed 000 attachment 4-1.

Pure, synchronous rendering: callers run it off the event loop after their transaction committed and keep the
files in the qrcodes area of server/storage.py under stable names; the storage only replaces a file whose bytes
changed, so regenerating is idempotent.
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from PIL import Image, ImageDraw

from server.services.guides.fonts import font, require_glyphs

A4_PX = (2480, 3508)  # 210 × 297 mm at 300 dpi
DPI = 300
TITLE_LINES = ("登记服务“码”上有", "便捷轻松“零”次跑")
CAPTIONS = ("导办小视频", "申请表格", "一次性告知单")
# 10.2 cm on paper: a phone reads a code from about ten times its width, so a metre is comfortable.
QR_PX = 1200

BLUE = (17, 74, 156)
RED = (200, 32, 38)
INK = (34, 34, 34)
GREY = (102, 102, 102)
PALE = (235, 242, 252)
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class PosterText:
    url: str
    authority: str
    point_name: str
    hotline: str
    address: str = ""
    opening_hours: str = ""


def file_names(code: str) -> dict[str, str]:
    return {
        "qr_png": f"point-{code}-qr.png",
        "qr_svg": f"point-{code}-qr.svg",
        "poster_png": f"point-{code}-poster.png",
        "poster_pdf": f"point-{code}-poster.pdf",
    }


def _qr(url: str) -> qrcode.QRCode:
    # Q (25% recovery) survives a scuffed or partly covered poster; M is the minimum we accept.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=4, box_size=10)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_image(url: str, size: int) -> Image.Image:
    """The code at most `size` pixels wide, every module the same whole number of pixels (no resampling)."""
    code = _qr(url)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(1, size // modules)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    qr_image(url, 800).save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    buffer = io.BytesIO()
    _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, face, fill, width: int = A4_PX[0]) -> int:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    draw.text(((width - (right - left)) // 2 - left, y - top), text, font=face, fill=fill)
    return y + (bottom - top)


def _fitting(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int, weight: str, font_path: str):
    """The largest face up to `size` that fits the text in `max_width` (long point names shrink)."""
    while size > 24:
        face = font(size, weight, font_path)
        left, _, right, _ = draw.textbbox((0, 0), text, font=face)
        if right - left <= max_width:
            return face
        size -= 6
    return font(size, weight, font_path)


def _icon(draw: ImageDraw.ImageDraw, kind: int, cx: int, cy: int, r: int) -> None:
    """Small drawn pictograms over each caption: play button, form, checklist."""
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=BLUE)
    s = r // 2
    if kind == 0:
        draw.polygon([(cx - s // 2, cy - s), (cx - s // 2, cy + s), (cx + s, cy)], fill=WHITE)
    elif kind == 1:
        draw.rectangle((cx - s * 3 // 4, cy - s, cx + s * 3 // 4, cy + s), fill=WHITE)
        for i in range(3):
            y = cy - s // 2 + i * s // 2
            draw.line((cx - s // 2, y, cx + s // 2, y), fill=BLUE, width=max(3, r // 16))
    else:
        for i in range(3):
            y = cy - s * 2 // 3 + i * s * 2 // 3
            draw.ellipse((cx - s, y - r // 14, cx - s + r // 7, y + r // 14), fill=WHITE)
            draw.line((cx - s // 2, y, cx + s, y), fill=WHITE, width=max(3, r // 10))


@dataclass(frozen=True)
class Background:
    """What every poster of one authority shares, drawn once per process: the page without the point's name, code
    and contact lines, as RGB (for the strips drawn over it and the PDF) and as a palette image (for the PNG)."""

    rgb: Image.Image
    paletted: Image.Image
    name_y: int
    qr_at: tuple[int, int]
    info_y: int
    info_bottom: int


NAME_BOX = 110  # the point-name line's height: fixed, so the code card below never moves


@functools.lru_cache(maxsize=32)
def background(authority: str, font_path: str = "") -> Background:
    require_glyphs("".join((*TITLE_LINES, *CAPTIONS, authority, "市场监督管理导办服务二维码扫码申办快又好宣")), font_path)
    width, height = A4_PX
    page = Image.new("RGB", A4_PX, WHITE)
    draw = ImageDraw.Draw(page)

    # Header band: 市场监督管理 / Market Regulation with a round emblem.
    draw.rectangle((0, 0, width, 360), fill=BLUE)
    draw.ellipse((160, 70, 380, 290), outline=WHITE, width=16)
    draw.ellipse((230, 140, 310, 220), fill=WHITE)
    draw.text((450, 70), "市场监督管理", font=font(110, "bold", font_path), fill=WHITE)
    draw.text((456, 220), "Market Regulation", font=font(60, "regular", font_path), fill=WHITE)

    y = _centered(draw, 470, TITLE_LINES[0], font(200, "bold", font_path), BLUE) + 60
    y = _centered(draw, y, TITLE_LINES[1], font(200, "bold", font_path), RED) + 80
    name_y = _centered(draw, y, authority, _fitting(draw, authority, 90, width - 300, "bold", font_path), INK) + 40

    # The card the code sits on, with the three things it leads to beneath.
    card_top, pad = name_y + NAME_BOX + 60, 50
    draw.rounded_rectangle(((width - QR_PX) // 2 - pad, card_top, (width + QR_PX) // 2 + pad, card_top + QR_PX + 2 * pad),
                           radius=40, fill=PALE)
    y = card_top + QR_PX + 2 * pad + 50
    y = _centered(draw, y, "导办服务二维码  扫码申办快又好", font(72, "bold", font_path), BLUE) + 70
    radius, caption_face = 85, font(62, "bold", font_path)
    for index, caption in enumerate(CAPTIONS):
        cx = width * (2 * index + 1) // 6
        _icon(draw, index, cx, y + radius, radius)
        left, top, right, _ = draw.textbbox((0, 0), caption, font=caption_face)
        draw.text((cx - (right - left) // 2 - left, y + 2 * radius + 25 - top), caption, font=caption_face, fill=INK)
    info_y = y + 2 * radius + 130

    draw.rectangle((0, height - 170, width, height), fill=BLUE)
    _centered(draw, height - 125, f"{authority}  宣", font(60, "regular", font_path), WHITE)
    # Flat colours and anti-aliased edges fit a small palette; the PNG is then a third of the RGB's work.
    paletted = page.quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    return Background(page, paletted, name_y, ((width - QR_PX) // 2, card_top + pad), info_y,
                      height - 170)


def strips(text: PosterText, font_path: str = "") -> tuple[Background, list[tuple[Image.Image, tuple[int, int]]]]:
    """The authority's background and what this point adds on top: its name, its code, its contact lines, each as
    an RGB strip drawn over the background's own pixels, with where it goes."""
    require_glyphs("".join((text.point_name, text.hotline, text.address, text.opening_hours, "咨询电话地址办公时间：")),
                   font_path)
    page = background(text.authority, font_path)
    width = A4_PX[0]

    name = page.rgb.crop((0, page.name_y, width, page.name_y + NAME_BOX))
    draw = ImageDraw.Draw(name)
    _centered(draw, 0, text.point_name, _fitting(draw, text.point_name, 76, width - 300, "regular", font_path), GREY)

    x, y = page.qr_at
    card = page.rgb.crop((x, y, x + QR_PX, y + QR_PX))
    code = qr_image(text.url, QR_PX)
    offset = (QR_PX - code.width) // 2
    card.paste(code, (offset, offset))

    info = page.rgb.crop((0, page.info_y, width, page.info_bottom))
    draw, y = ImageDraw.Draw(info), 0
    if text.hotline:
        y = _centered(draw, y, f"咨询电话：{text.hotline}", font(80, "bold", font_path), RED) + 40
    for line in (f"地址：{text.address}" if text.address else "", f"办公时间：{text.opening_hours}" if text.opening_hours else ""):
        if line:
            y = _centered(draw, y, line, _fitting(draw, line, 50, width - 300, "regular", font_path), GREY) + 24
    return page, [(name, (0, page.name_y)), (card, page.qr_at), (info, (0, page.info_y))]


def poster_png(page: Background, overlays: list[tuple[Image.Image, tuple[int, int]]]) -> bytes:
    image = page.paletted.copy()
    for strip, at in overlays:
        image.paste(strip.quantize(palette=page.paletted, dither=Image.Dither.NONE), at)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(DPI, DPI), compress_level=1)
    return buffer.getvalue()


def poster_pdf(page: Background, overlays: list[tuple[Image.Image, tuple[int, int]]], title: str) -> bytes:
    image = page.rgb.copy()
    for strip, at in overlays:
        image.paste(strip, at)
    buffer = io.BytesIO()
    # No creation/modification dates: the same poster must give the same bytes (idempotent regeneration).
    image.save(buffer, "PDF", resolution=DPI, title=title, creator="码上导办", quality=92,
               creationDate=None, modDate=None)
    return buffer.getvalue()


def point_files(code: str, text: PosterText, font_path: str = "") -> dict[str, bytes]:
    """The QR code (PNG, SVG) and the poster (PNG, PDF) of one point: {file name: bytes}."""
    names = file_names(code)
    page, overlays = strips(text, font_path)
    return {names["qr_png"]: qr_png(text.url), names["qr_svg"]: qr_svg(text.url),
            names["poster_png"]: poster_png(page, overlays),
            names["poster_pdf"]: poster_pdf(page, overlays, f"{text.point_name} 码上导办")}
