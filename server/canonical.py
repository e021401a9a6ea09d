"""Canonical JSON: the one byte form every hash is taken over (materials snapshots, the evidence chain, notary records).

Sorted keys, no spaces, ASCII only (non-ASCII as \\u escapes): byte-identical in any shell or language, so anyone can
recompute a hash from the JSON alone.
"""
from __future__ import annotations

import hashlib
import json


def canonical_json(data) -> str:
    return json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def canonical_sha256(data) -> str:
    return hashlib.sha256(canonical_json(data).encode("ascii")).hexdigest()
