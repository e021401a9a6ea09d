"""What an uploaded image or PDF must be before anything decodes or keeps it, in one place for every upload.

An image is measured from its header (Pillow opens lazily) and refused above the pixel cap before a single pixel is
decoded: a 6 KB PNG can declare 7000×7000 pixels and cost hundreds of MB. A PDF is parsed (pypdf) and refused when
it is encrypted, runs anything (JavaScript, an action on opening, launching a program), carries embedded files, or
has more pages than allowed.
"""
from __future__ import annotations

import io
import warnings

from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from server.errors import Invalid

# What a PDF may not hold, by the key or value that says so, with the reason the applicant reads.
_PDF_REFUSED_KEYS = {
    "/JS": "PDF 含有脚本（JavaScript），不能上传",
    "/JavaScript": "PDF 含有脚本（JavaScript），不能上传",
    "/OpenAction": "PDF 含有打开时自动执行的动作（OpenAction），不能上传",
    "/AA": "PDF 含有自动执行的动作，不能上传",
    "/Launch": "PDF 含有启动外部程序的动作（Launch），不能上传",
    "/EmbeddedFiles": "PDF 含有嵌入文件（EmbeddedFiles），不能上传",
    "/EmbeddedFile": "PDF 含有嵌入文件（EmbeddedFile），不能上传",
}
_PDF_REFUSED_NAMES = {"/JavaScript": "/JavaScript", "/Launch": "/Launch", "/EmbeddedFile": "/EmbeddedFile"}
_PDF_PARSE_ERRORS = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError,
                     AssertionError)


# Pillow warns between its limit (set to uploads.max_image_pixels in app.py) and twice it; we refuse those ourselves.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def opened_image(data: bytes, max_pixels: int, field: str = "file") -> Image.Image:
    """The image, opened lazily and measured from its header; 422 above `max_pixels`, before decoding."""
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise Invalid(field, f"图片像素过大，不能超过 {max_pixels // 10_000} 万像素") from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise Invalid(field, f"图片像素过大（{width}×{height}），不能超过 {max_pixels // 10_000} 万像素")
    return image


def check_pdf(data: bytes, max_pages: int, field: str = "file") -> int:
    """The page count of an acceptable PDF; 422 naming the reason otherwise."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Invalid(field, "PDF 已加密，请上传未加密的文件")
        _refuse_active_content(reader.trailer, field)
        pages = len(reader.pages)
    except _PDF_PARSE_ERRORS:
        raise Invalid(field, "PDF 文件已损坏，无法读取") from None
    if pages > max_pages:
        raise Invalid(field, f"PDF 有 {pages} 页，不能超过 {max_pages} 页")
    return pages


def _refuse_active_content(trailer: DictionaryObject, field: str) -> None:
    """Walks every object reachable from the trailer (each indirect object once)."""
    seen: set[tuple[int, int]] = set()
    pending: list = [trailer]
    while pending:
        value = pending.pop()
        if isinstance(value, IndirectObject):
            if (value.idnum, value.generation) in seen:
                continue
            seen.add((value.idnum, value.generation))
            value = value.get_object()
        if isinstance(value, DictionaryObject):
            for key in value:
                if key in _PDF_REFUSED_KEYS:
                    raise Invalid(field, _PDF_REFUSED_KEYS[key])
            for name in (value.get("/S"), value.get("/Type")):
                if name in _PDF_REFUSED_NAMES:
                    raise Invalid(field, _PDF_REFUSED_KEYS[_PDF_REFUSED_NAMES[name]])
            pending.extend(value.values())
        elif isinstance(value, ArrayObject):
            pending.extend(value)
