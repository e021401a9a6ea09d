"""Generated documents (申请书, 章程 from the model text), the platform-signed PDF and public verification.

content.py says what each document contains (from the locked snapshot), render.py lays it out as an A4 PDF with
Noto CJK, fonts.py makes that font usable, pades.py signs with the platform's certificate (pyHanko), service.py
stores and serves the documents and makes signed.pdf, verification.py answers anyone who checks a file.
"""
from __future__ import annotations

import asyncio
import logging
import sys

from server.config import Settings

log = logging.getLogger("yct.documents")


async def prepare_documents(settings: Settings) -> None:
    """The document font and (in development) the certificate chain, made in the background at start.

    The font is built by a child process (tens of seconds on a fresh machine, once: it is kept in
    documents.font_cache_dir). Cancelled when the server stops, this kills the child instead of waiting for it; a
    document rendered meanwhile waits for the child's build (fonts.py), or builds the font itself once it is gone."""
    from server.services.documents.fonts import base_font_cached
    from server.services.documents.pades import load_certificate
    from server.services.guides.fonts import FontMissing

    try:
        await asyncio.to_thread(load_certificate, settings)
    except Exception:
        log.exception("the platform certificate could not be prepared")
    try:
        if base_font_cached(settings.documents.font_cache_dir):
            return
    except FontMissing as exc:
        log.error("documents cannot be generated: %s", exc)
        return
    build = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.services.documents.fonts", settings.documents.font_cache_dir,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        _, errors = await build.communicate()
    except asyncio.CancelledError:
        build.terminate()
        await build.wait()
        raise
    if build.returncode:
        log.error("documents cannot be generated: the document font could not be built: %s",
                  errors.decode(errors="replace").strip())
