"""Generated documents (申请书, 章程 from the model text), the platform-signed PDF and public verification.

content.py says what each document contains (from the locked snapshot), render.py lays it out as an A4 PDF with
Noto CJK, fonts.py makes that font usable, pades.py signs with the platform's certificate (pyHanko), service.py
stores and serves the documents and makes signed.pdf, verification.py answers anyone who checks a file.
"""
from __future__ import annotations

import asyncio
import logging

from server.config import Settings

log = logging.getLogger("yct.documents")


async def prepare_documents(settings: Settings) -> None:
    """The document font and (in development) the certificate chain, made in the background at start."""
    from server.services.documents.fonts import ensure_base_font
    from server.services.documents.pades import load_certificate
    from server.services.guides.fonts import FontMissing

    try:
        await asyncio.to_thread(load_certificate, settings)
        await asyncio.to_thread(ensure_base_font, settings.documents.font_cache_dir)
    except FontMissing as exc:
        log.error("documents cannot be generated: %s", exc)
    except Exception:
        log.exception("the platform certificate or the document font could not be prepared")
