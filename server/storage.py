"""Where the server keeps the files it generates (documents, signed PDFs): one small interface.

Today they sit beside the uploaded attachments under uploads.dir; moving every file to object storage later
changes only this module.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from server.config import Settings

GENERATED = "generated"


def _path(settings: Settings, key: str) -> Path:
    if not key or ".." in key.split("/") or key.startswith("/"):
        raise ValueError(f"invalid storage key {key!r}")
    return Path(settings.uploads.dir) / GENERATED / key


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


async def put_file(settings: Settings, key: str, data: bytes) -> None:
    """Store `data` under `key` (atomically; the same key and bytes again changes nothing)."""
    await asyncio.to_thread(_write, _path(settings, key), data)


async def get_file(settings: Settings, key: str) -> bytes | None:
    """The bytes stored under `key`, or None."""
    path = _path(settings, key)
    try:
        return await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        return None
