"""The document font: Noto Sans CJK SC, converted once to TrueType outlines so reportlab can embed subsets of it.

reportlab embeds only TrueType (glyf) outlines and Noto CJK ships PostScript (CFF) ones, so the GB 2312 repertoire
with ASCII and punctuation is subset from the installed font (located by guides.fonts) and converted to a .ttf kept
under documents.font_cache_dir. A document needing a character outside it (a rare character in a name) gets a
small supplementary font of exactly those characters, made the same way and cached by its character set, so the
same text always gives the same bytes.

`python -m server.services.documents.fonts CACHE_DIR` builds the base font file and nothing else: the server runs
it as a child process at start, so a stop kills it instead of waiting for it (a thread cannot be stopped). Every
build takes CACHE_DIR/.build.lock, so a document rendered meanwhile waits for that build instead of making its own,
and a killed build leaves neither a lock nor a half-written file behind.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import sys
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from server.services.guides.fonts import FontMissing, font_file

BASE_FONT = "NotoSC"
# How the base font's cached file is named (with its source and repertoire).
_BASE_PREFIX = "noto-sc-gb2312"
# Bump when the repertoire or the conversion changes, so old caches are not reused.
CACHE_VERSION = "2"
_lock = threading.Lock()


@lru_cache(maxsize=1)
def base_repertoire() -> frozenset[int]:
    """GB 2312 (every character the national encoding has), ASCII, and the punctuation forms a form uses."""
    chars = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF01, 0xFF5F))
    chars |= {0xA0, 0xB7, 0xD7, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2116, 0x2460, 0x2461, 0x2462,
              0x25A1, 0x25A0, 0x221A}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def _source() -> tuple[str, int]:
    return font_file("regular")


@lru_cache(maxsize=1)
def _source_repertoire() -> frozenset[int]:
    """Every character the installed font can draw: a supplement is made of these only (a font of none fails)."""
    from fontTools.ttLib import TTFont as FontFile

    path, index = _source()
    return frozenset(FontFile(path, fontNumber=index, lazy=True)["cmap"].getBestCmap())


def _cache_name(prefix: str, source: tuple[str, int], chars: frozenset[int]) -> str:
    path, index = source
    stat = os.stat(path)
    key = f"{CACHE_VERSION}|{path}|{index}|{stat.st_size}|{stat.st_mtime_ns}|" + ",".join(map(str, sorted(chars)))
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.ttf"


def _convert(source: tuple[str, int], chars: frozenset[int], target: Path, ps_name: str) -> None:
    """Subset the CFF font to `chars` and redraw every glyph as quadratic TrueType outlines (fontTools cu2qu)."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont as FontFile
    from fontTools.ttLib import newTable

    path, index = source
    font = FontFile(path, fontNumber=index, lazy=True, recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["loca"], font["glyf"] = newTable("loca"), glyf
    del font["CFF "]
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attribute in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                      "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attribute, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    font.sfntVersion = "\x00\x01\x00\x00"
    # reportlab tells embedded fonts apart by their PostScript name: each converted font gets its own.
    for record in font["name"].names:
        if record.nameID in (4, 6):
            record.string = ps_name
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        font.save(temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _building(cache_dir: str):
    """The cache directory's build lock, across processes: released by the kernel when its holder dies."""
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(cache_dir) / ".build.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _built(name: str, cache_dir: str, prefix: str, chars: frozenset[int]) -> Path:
    """The converted font's file, made now unless the cache has it (or another process just made it)."""
    source = _source()
    target = Path(cache_dir) / _cache_name(prefix, source, chars)
    with _building(cache_dir):
        if not target.is_file():
            _convert(source, chars, target, f"NotoSansCJKsc-{name}")
    return target


def _registered(name: str, cache_dir: str, prefix: str, chars: frozenset[int]) -> str:
    """Register the converted font under `name` with reportlab (building it first if the cache lacks it)."""
    with _lock:
        if name in pdfmetrics.getRegisteredFontNames():
            return name
        target = _built(name, cache_dir, prefix, chars)
        try:
            pdfmetrics.registerFont(TTFont(name, str(target)))
        except Exception as exc:
            raise FontMissing(f"文书字体无法加载：{target}（{exc}）") from None
        return name


def ensure_base_font(cache_dir: str) -> str:
    """The base font's reportlab name; the first call on a fresh machine converts it (tens of seconds)."""
    return _registered(BASE_FONT, cache_dir, _BASE_PREFIX, base_repertoire())


def base_font_cached(cache_dir: str) -> bool:
    """Whether the base font's file is made already (then nothing needs building)."""
    return (Path(cache_dir) / _cache_name(_BASE_PREFIX, _source(), base_repertoire())).is_file()


def build_base_font(cache_dir: str) -> Path:
    """The base font's file, built if the cache lacks it, without loading it here (the server's child process)."""
    return _built(BASE_FONT, cache_dir, _BASE_PREFIX, base_repertoire())


def supplementary_font(cache_dir: str, chars: frozenset[int]) -> str:
    """A font of exactly these characters (outside the base repertoire), registered once per character set."""
    name = "NotoSX" + hashlib.sha256(",".join(map(str, sorted(chars))).encode()).hexdigest()[:10]
    return _registered(name, cache_dir, "noto-sc-extra", chars)


class TextFonts:
    """Markup for one document's text: characters the base font lacks are set in the document's supplement."""

    def __init__(self, cache_dir: str, texts: list[str]):
        self.base = ensure_base_font(cache_dir)
        repertoire = base_repertoire()
        missing = {ord(char) for text in texts for char in text if ord(char) not in repertoire and not char.isspace()}
        extra = frozenset(missing & _source_repertoire()) if missing else frozenset()
        # What no font here can draw (a stray control character) is left out rather than breaking the document.
        self.undrawable = frozenset(missing - extra)
        self.extra_chars = extra
        self.extra = supplementary_font(cache_dir, extra) if extra else None

    def markup(self, text: str) -> str:
        """Paragraph markup: escaped, with runs of supplementary characters in their own font."""
        if self.undrawable:
            text = "".join(char for char in text if ord(char) not in self.undrawable)
        if not self.extra:
            return escape(text).replace("\n", "<br/>")
        out, run, in_extra = [], "", False
        for char in text:
            extra = ord(char) in self.extra_chars
            if extra != in_extra and run:
                out.append(self._run(run, in_extra))
                run = ""
            run, in_extra = run + char, extra
        if run:
            out.append(self._run(run, in_extra))
        return "".join(out).replace("\n", "<br/>")

    def _run(self, text: str, extra: bool) -> str:
        return f'<font name="{self.extra}">{escape(text)}</font>' if extra else escape(text)


if __name__ == "__main__":
    # SIGTERM ends the build through the temporary file's clean-up in _convert rather than leaving it behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        build_base_font(sys.argv[1])
    except FontMissing as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
