"""The CJK font for posters and notice sheets: Noto Sans CJK SC from the OS package, never tofu boxes."""
from __future__ import annotations

import shutil
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

# Debian/Ubuntu fonts-noto-cjk, Fedora google-noto-sans-cjk, Arch noto-fonts-cjk, Alpine font-noto-cjk.
KNOWN_FONT_PATHS = {
    "bold": [
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto/NotoSansCJK-Bold.ttc",
    ],
    "regular": [
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto/NotoSansCJK-Regular.ttc",
    ],
}
_FC_PATTERNS = {"bold": "Noto Sans CJK SC:style=Bold", "regular": "Noto Sans CJK SC:style=Regular"}
# A code point no CJK font draws: it renders as the font's missing-glyph box (.notdef).
NOTDEF_PROBE = "\U0010fffd"
_per_thread = threading.local()
INSTALL_HINT = "请安装中文字体：apt-get install fonts-noto-cjk（或在配置 guides.font_path 中指定字体文件）"


class FontMissing(RuntimeError):
    """No usable CJK font on this machine, or it cannot draw a character we need."""


def _fc_match(pattern: str) -> str | None:
    if not shutil.which("fc-match"):
        return None
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    path = found.stdout.strip()
    # fc-match always answers with something; only a CJK face is of use.
    return path if path and "CJK" in Path(path).name.upper() else None


@lru_cache(maxsize=4)
def font_file(weight: str = "bold", configured: str = "") -> tuple[str, int]:
    """(path, face index) of a Simplified-Chinese CJK font; FontMissing with how to fix it when there is none."""
    candidates = [configured] if configured else [*KNOWN_FONT_PATHS[weight], *KNOWN_FONT_PATHS["regular"]]
    path = next((p for p in candidates if p and Path(p).is_file()), None)
    if path is None and not configured:
        path = _fc_match(_FC_PATTERNS[weight]) or _fc_match(_FC_PATTERNS["regular"])
    if path is None:
        where = configured or "、".join(KNOWN_FONT_PATHS["regular"][:1])
        raise FontMissing(f"找不到中文字体（{where}）。{INSTALL_HINT}")
    return path, _simplified_chinese_face(path)


def _simplified_chinese_face(path: str) -> int:
    """A .ttc holds JP/KR/SC/TC/HK faces; SC gives mainland glyph shapes."""
    for index in range(10):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ""
        except OSError:
            break
        if family.endswith(" SC") or "SC" in family.split():
            return index
    return 0


def font(size: int, weight: str = "bold", configured: str = "") -> ImageFont.FreeTypeFont:
    """Faces are kept per thread: posters render in several threads and a FreeType face is not thread-safe."""
    faces = _per_thread.__dict__.setdefault("faces", {})
    key = (size, weight, configured)
    if key not in faces:
        path, index = font_file(weight, configured)
        try:
            faces[key] = ImageFont.truetype(path, size, index=index)
        except OSError as exc:
            raise FontMissing(f"字体文件无法读取：{path}（{exc}）。{INSTALL_HINT}") from None
    return faces[key]


def _mask_bytes(face: ImageFont.FreeTypeFont, char: str) -> tuple:
    mask = face.getmask(char)
    return mask.size, bytes(mask)


@lru_cache(maxsize=8192)
def _draws(char: str, configured: str) -> bool:
    face = font(48, "bold", configured)
    return _mask_bytes(face, char) != _mask_bytes(face, NOTDEF_PROBE)


def missing_glyphs(text: str, configured: str = "") -> list[str]:
    """Characters of `text` the font would draw as its missing-glyph box."""
    return sorted({ch for ch in text if not ch.isspace() and not _draws(ch, configured)})


def require_glyphs(text: str, configured: str = "") -> None:
    missing = missing_glyphs(text, configured)
    if missing:
        raise FontMissing(f"字体无法显示这些字符：{''.join(missing)}。{INSTALL_HINT}")
