"""Personal data at rest: AES-256-GCM under the configured data keys, and HMAC-SHA256 blind indexes for lookups.

A stored value reads `v1:<key id>:<base64 of nonce + ciphertext>`, so old keys keep decrypting while
`python -m server rotate-keys` moves every value to the current key. The blind index key never rotates: an index
column finds and keeps unique what its encrypted column holds, without the plain value in the database.
The model fields below encrypt on the way to the database and decrypt on the way back, so services keep reading
and writing plain values; a value written before encryption (no `v1:` prefix) is read as it is until rotated.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tortoise import fields
from tortoise.fields.data import JSON_DUMPS, JSON_LOADS

VERSION = "v1"
NONCE_BYTES = 12


class Keyring:
    def __init__(self, current_key_id: str, keys: dict[str, bytes], index_key: bytes):
        self.current_key_id = current_key_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._index_key = index_key

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated too: a value cannot be passed off as another key's.
        sealed = self._ciphers[self.current_key_id].encrypt(nonce, text.encode("utf-8"),
                                                              self.current_key_id.encode("ascii"))
        return f"{VERSION}:{self.current_key_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, value: str) -> str:
        _, key_id, body = value.split(":", 2)
        raw = base64.b64decode(body)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise LookupError(f"data key {key_id!r} is not configured (crypto.keys)")
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode("ascii")).decode("utf-8")

    def blind_index(self, text: str) -> str:
        return hmac.new(self._index_key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(VERSION + ":")


def key_id_of(value: str) -> str | None:
    return value.split(":", 2)[1] if is_encrypted(value) else None


DEVELOPMENT_KEY_ID = "dev"


def development_key(secret_key: str, purpose: str) -> bytes:
    """Development only (server/safety.py refuses empty crypto keys in production): a key derived from secret_key."""
    return hashlib.sha256(f"yct {purpose}\0{secret_key}".encode()).digest()


def keyring_from_settings(settings) -> Keyring:
    crypto = settings.crypto
    if crypto.keys:
        keys = {key_id: base64.b64decode(encoded) for key_id, encoded in crypto.keys.items()}
        current = crypto.current_key_id
    else:
        keys = {DEVELOPMENT_KEY_ID: development_key(settings.secret_key, "data key")}
        current = DEVELOPMENT_KEY_ID
    index_key = (base64.b64decode(crypto.index_key) if crypto.index_key
                 else development_key(settings.secret_key, "blind index"))
    return Keyring(current, keys, index_key)


_keyring: Keyring | None = None


def configure(settings) -> Keyring:
    global _keyring
    _keyring = keyring_from_settings(settings)
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("server.crypto.configure(settings) was not called")
    return _keyring


def blind_index(value: str | None) -> str | None:
    """The index of a plain value, for filters on a *_index column (None stays None)."""
    return None if value is None else keyring().blind_index(str(value))


class EncryptedTextField(fields.TextField):
    """Plain text in Python, `v1:<kid>:…` in the database. Filter on its blind index column, never on it."""

    def to_db_value(self, value: Any, instance: Any) -> str | None:
        if isinstance(instance, type):
            # A filter: a fresh ciphertext never equals a stored one, so the query would silently match nothing.
            raise TypeError(f"{instance.__name__}.{self.model_field_name} is encrypted: filter on its blind index")
        if value is None or is_encrypted(value):
            return value
        return keyring().encrypt(str(value))

    def to_python_value(self, value: Any) -> str | None:
        if is_encrypted(value):
            return keyring().decrypt(value)
        return value


class EncryptedJSONField(fields.TextField):
    """A JSON value in Python, encrypted JSON text in the database (encoded as tortoise's JSONField encodes)."""

    def to_db_value(self, value: Any, instance: Any) -> str | None:
        if value is None or is_encrypted(value):
            return value
        return keyring().encrypt(JSON_DUMPS(value))

    def to_python_value(self, value: Any) -> Any:
        if is_encrypted(value):
            return JSON_LOADS(keyring().decrypt(value))
        if isinstance(value, (str, bytes)):
            return JSON_LOADS(value)  # written before encryption
        return value


class BlindIndexField(fields.CharField):
    """HMAC-SHA256 of another field's plain value, computed whenever the row is written."""

    def __init__(self, source: str, **kwargs: Any):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        super().__init__(**kwargs)

    def to_db_value(self, value: Any, instance: Any) -> str | None:
        # A row being written (a model instance, or the plain row of a bulk insert) carries its source value;
        # a filter passes the model class and an index already computed with blind_index().
        if instance is not None and not isinstance(instance, type) and hasattr(instance, self.source):
            return blind_index(getattr(instance, self.source))
        return value
