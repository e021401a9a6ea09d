"""Every file the product keeps, behind one interface: local directories (embedded default) or S3-compatible storage.

A file is named by an area and a key. The area says what kind of file it is; the key is what the database row
keeps (an attachment's storage_path, a document's storage_key, a signature's image_path, a guide's file_name, a
poster's name), so switching backends changes no row.

- local (storage.url empty): uploads and generated files under uploads.dir, signature images under
  signing.evidence_dir, QR codes and posters under qrcode_dir (the directories the product always used);
- S3 (storage.url = s3://bucket/prefix): objects `prefix/area/key` in that bucket, at storage.endpoint_url
  (MinIO, Ceph, a cloud's S3 API) or AWS by default. Web nodes then keep no files.

Callers never see a path or an object URL: downloads go through our routes (server/api/http.py streams them).
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from server.config import Settings

UPLOADS = "uploads"        # attachments and business-license images (uploads.dir)
GENERATED = "generated"    # documents, signed PDFs, archive bundles, weekly reports (uploads.dir/generated)
GUIDES = "guides"          # guide videos and forms (uploads.dir/guides)
QRCODES = "qrcodes"        # QR codes and posters of service points (qrcode_dir)
EVIDENCE = "evidence"      # handwritten signature images kept for the evidence package (signing.evidence_dir)
AREAS = (UPLOADS, GENERATED, GUIDES, QRCODES, EVIDENCE)
CHUNK_BYTES = 256 * 1024


class StorageError(Exception):
    """The storage backend failed (not a missing file: those are None)."""


def _checked(area: str, key: str) -> str:
    if area not in AREAS:
        raise ValueError(f"unknown storage area {area!r}")
    parts = key.split("/") if key else []
    if not parts or key.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


class LocalStorage:
    """Files under the configured directories; writes are atomic and skip identical bytes (mtime kept)."""

    def __init__(self, settings: Settings):
        uploads = Path(settings.uploads.dir)
        self.roots = {UPLOADS: uploads, GENERATED: uploads / GENERATED, GUIDES: uploads / GUIDES,
                      QRCODES: Path(settings.qrcode_dir), EVIDENCE: Path(settings.signing.evidence_dir)}

    def _path(self, area: str, key: str) -> Path:
        key = _checked(area, key)
        return self.roots[area] / key

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    async def put(self, area: str, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(area, key), data)

    async def get(self, area: str, key: str) -> bytes | None:
        try:
            return await asyncio.to_thread(self._path(area, key).read_bytes)
        except (FileNotFoundError, IsADirectoryError):
            return None

    async def size(self, area: str, key: str) -> int | None:
        path = self._path(area, key)
        try:
            stats = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return None
        return stats.st_size if path.is_file() else None

    async def chunks(self, area: str, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive), a chunk at a time."""
        path = self._path(area, key)
        handle = await asyncio.to_thread(open, path, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            left = end - start + 1
            while left > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK_BYTES, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, area: str, key: str) -> None:
        await asyncio.to_thread(self._path(area, key).unlink, missing_ok=True)

    async def check(self) -> None:
        def writable() -> None:
            for root in self.roots.values():
                root.mkdir(parents=True, exist_ok=True)
                if not os.access(root, os.W_OK):
                    raise StorageError(f"{root} not writable")
        await asyncio.to_thread(writable)

    async def close(self) -> None:
        return None


class S3Storage:
    """Objects in one bucket of an S3-compatible service (aioboto3). One client per event loop, opened on first use."""

    def __init__(self, settings: Settings):
        import aioboto3
        from botocore.config import Config

        config = settings.storage
        bucket, _, prefix = config.url[len("s3://"):].partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._session = aioboto3.Session(aws_access_key_id=config.access_key_id or None,
                                         aws_secret_access_key=config.secret_access_key or None,
                                         region_name=config.region or None)
        self._options = {"endpoint_url": config.endpoint_url or None,
                         "config": Config(retries={"max_attempts": 3, "mode": "standard"},
                                          connect_timeout=config.timeout_seconds, read_timeout=config.timeout_seconds,
                                          s3={"addressing_style": config.addressing_style},
                                          max_pool_connections=config.max_connections)}
        self._clients: dict[asyncio.AbstractEventLoop, tuple[object, object]] = {}

    async def _client(self):
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            context = self._session.client("s3", **self._options)
            self._clients[loop] = (context, await context.__aenter__())
        return self._clients[loop][1]

    def _name(self, area: str, key: str) -> str:
        name = f"{area}/{_checked(area, key)}"
        return f"{self.prefix}/{name}" if self.prefix else name

    @staticmethod
    def _missing(exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    async def put(self, area: str, key: str, data: bytes) -> None:
        client, name = await self._client(), self._name(area, key)
        try:  # same bytes again: leave the object (and its Last-Modified) alone, as the local backend does
            head = await client.head_object(Bucket=self.bucket, Key=name)
            if head["ContentLength"] == len(data) and head["ETag"].strip('"') == hashlib.md5(
                    data, usedforsecurity=False).hexdigest():
                return
        except Exception as exc:
            if not self._missing(exc):
                raise
        await client.put_object(Bucket=self.bucket, Key=name, Body=data)

    async def get(self, area: str, key: str) -> bytes | None:
        client = await self._client()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=self._name(area, key))
        except Exception as exc:
            if self._missing(exc):
                return None
            raise
        async with response["Body"] as body:
            return await body.read()

    async def size(self, area: str, key: str) -> int | None:
        client = await self._client()
        try:
            head = await client.head_object(Bucket=self.bucket, Key=self._name(area, key))
        except Exception as exc:
            if self._missing(exc):
                return None
            raise
        return head["ContentLength"]

    async def chunks(self, area: str, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        client = await self._client()
        response = await client.get_object(Bucket=self.bucket, Key=self._name(area, key), Range=f"bytes={start}-{end}")
        stream = response["Body"]
        async with stream:
            async for chunk in stream.iter_chunks(CHUNK_BYTES):
                yield chunk

    async def delete(self, area: str, key: str) -> None:
        client = await self._client()
        await client.delete_object(Bucket=self.bucket, Key=self._name(area, key))

    async def check(self) -> None:
        client = await self._client()
        await client.head_bucket(Bucket=self.bucket)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        entry = self._clients.pop(loop, None)
        if entry is not None:
            await entry[0].__aexit__(None, None, None)


Storage = LocalStorage | S3Storage
_opened: dict[tuple, Storage] = {}


def of(settings: Settings) -> Storage:
    """The storage these settings name (one per configuration and process)."""
    config = settings.storage
    on_s3 = config.url.startswith("s3://")
    # The directories matter only to the local backend; every setting naming one bucket shares its client.
    identity = (config.model_dump_json(),) if on_s3 else \
        (settings.uploads.dir, settings.qrcode_dir, settings.signing.evidence_dir)
    if identity not in _opened:
        _opened[identity] = S3Storage(settings) if on_s3 else LocalStorage(settings)
    return _opened[identity]


async def put(settings: Settings, area: str, key: str, data: bytes) -> None:
    """Store `data` (atomically; the same key and bytes again changes nothing)."""
    await of(settings).put(area, key, data)


async def get(settings: Settings, area: str, key: str) -> bytes | None:
    """The bytes stored under area/key, or None."""
    return await of(settings).get(area, key)


async def size(settings: Settings, area: str, key: str) -> int | None:
    """The stored file's size in bytes, or None when there is none."""
    return await of(settings).size(area, key)


def chunks(settings: Settings, area: str, key: str, start: int, end: int) -> AsyncIterator[bytes]:
    return of(settings).chunks(area, key, start, end)


async def delete(settings: Settings, area: str, key: str) -> None:
    await of(settings).delete(area, key)


async def check(settings: Settings) -> None:
    """Raises when the storage cannot be reached (readiness)."""
    await of(settings).check()


async def close(settings: Settings) -> None:
    await of(settings).close()
