"""The signing-evidence ledger: an append-only SHA-256 hash chain, its verification, and the notary package.

Entry n stores prev_hash (entry n-1's entry_hash, or 64 zeros for the first) and payload, a canonical JSON text
(sorted keys, no spaces, ASCII) that includes n itself; entry_hash = SHA-256(prev_hash + payload). Changing,
removing or reordering any stored entry breaks the chain at that entry.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import storage
from server.cache import Cache
from server.canonical import canonical_json
from server.config import Settings
from server.models.signing import EvidenceEntry, Signature
from server.clock import now
from server.services.notifications import messages as notifications

GENESIS = "0" * 64
_APPEND_ATTEMPTS = 5
_VERIFY_BATCH = 20_000

Result = TypeVar("Result")


def entry_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


async def append(connection, application_id, kind: str, data: dict, *, notary: bool = False) -> EvidenceEntry:
    """Append one entry inside the caller's transaction (which must run under `appending`); with `notary`, its
    hashes go to the notary's data centre through the outbox, in the same transaction (一键公证)."""
    head = await EvidenceEntry.all().using_db(connection).order_by("-seq").first().values("seq", "entry_hash")
    seq = head["seq"] + 1 if head else 1
    prev_hash = head["entry_hash"] if head else GENESIS
    recorded_at = now().isoformat()
    payload = canonical_json({"seq": seq, "kind": kind, "recorded_at": recorded_at,
                              "application_id": str(application_id), **data})
    entry = await EvidenceEntry.create(seq=seq, prev_hash=prev_hash, payload=payload,
                                       entry_hash=entry_hash(prev_hash, payload), application_id=application_id,
                                       using_db=connection)
    if notary:
        await notifications.enqueue_notary(entry, kind, recorded_at, connection=connection)
    return entry


async def appending(cache: Cache, work: Callable[[object], Awaitable[Result]], lock: str = "evidence-chain") -> Result:
    """Run work(connection) in one transaction while holding the chain's lock (the archive ledger has its own).

    The lock (shared through Redis between workers) keeps appends in single file; should it ever lapse, the
    primary key on seq refuses the second of two entries for one place and the whole transaction is retried.
    """
    attempts = 0
    while True:
        try:
            async with cache.lock(lock, ttl=30, wait=15):
                async with in_transaction() as connection:
                    return await work(connection)
        except IntegrityError:
            attempts += 1
            if attempts >= _APPEND_ATTEMPTS:
                raise


async def _batch_after(connection, last_seq: int, batch: int) -> list:
    # Rows straight from the driver: building model values for 100,000 entries would cost more than hashing.
    query = (EvidenceEntry.filter(seq__gt=int(last_seq)).order_by("seq").limit(batch)
             .values_list("seq", "prev_hash", "payload", "entry_hash").sql(params_inline=True))
    return (await connection.execute_query(query))[1]


async def verify_chain(batch: int = _VERIFY_BATCH) -> dict:
    """Check every entry in seq order, streaming in batches; names the first broken entry and why.

    The next batch is already on its way from the database while this one is hashed.
    """
    expected_prev, expected_seq, count, last_seq = GENESIS, 1, 0, 0
    first_broken: dict | None = None
    sha256 = hashlib.sha256
    connection = connections.get("default")
    rows = await _batch_after(connection, 0, batch)
    while rows:
        last_seq = rows[-1][0]
        upcoming = asyncio.create_task(_batch_after(connection, last_seq, batch)) if len(rows) == batch else None
        await asyncio.sleep(0)
        for seq, prev_hash, payload, stored_hash in rows:
            if first_broken is None:
                if seq != expected_seq:
                    first_broken = {"seq": expected_seq, "reason": "missing", "message": f"第 {expected_seq} 条记录缺失"}
                elif prev_hash != expected_prev:
                    first_broken = {"seq": seq, "reason": "prev_hash", "message": f"第 {seq} 条记录的前序哈希与上一条不符"}
                elif sha256((prev_hash + payload).encode()).hexdigest() != stored_hash:
                    first_broken = {"seq": seq, "reason": "entry_hash", "message": f"第 {seq} 条记录的内容与其哈希不符（已被改动）"}
            expected_prev, expected_seq = stored_hash, seq + 1
        count += len(rows)
        rows = await upcoming if upcoming is not None else []
    result = {"ok": first_broken is None, "entries": count,
              "head": {"seq": last_seq, "entry_hash": expected_prev} if count else None}
    if first_broken:
        result["first_broken"] = first_broken
    return result


README = """签名证据包 / Signing evidence package
======================================

申请 / Application: {application_id}
导出时间 / Exported at: {exported_at}
证据链头 / Chain head at export: seq {head_seq}, entry_hash {head_hash}

一、文件 / Files
- entries.jsonl：本申请的每条证据记录，一行一条：seq、prev_hash、payload（规范化 JSON 文本）、entry_hash。
  One evidence entry of this application per line: seq, prev_hash, payload (canonical JSON text), entry_hash.
- chain.csv：从本申请第一条记录到导出时链头的全部链节（seq, prev_hash, entry_hash），不含他人内容。
  Every link of the whole chain from this application's first entry to the head at export (no one else's content).
- signatures/：签名图片（手写签名或电子印章），文件名为 seq 与签字人；其 SHA-256 记录在对应 payload 的 signature_image_sha256。
  The signature images; each one's SHA-256 is in its entry's payload (signature_image_sha256).
- signed.pdf（全部签名完成后）：申请书、章程连同签名和每个签名的证据页，带一窗通平台 PAdES 电子签名。
  (once everyone has signed) the documents with every signature and an evidence page each, PAdES-signed by the platform.
- notary-receipts.json：每条证据记录推送至公证处数据中心后取得的回执编号（一键公证）。
  The notary data centre's receipt id for each evidence entry pushed to it.

二、手工核验 / How to verify by hand
1. 每条记录 / Each entry: entry_hash = SHA-256( prev_hash 的 64 位十六进制文本 紧接 payload 的 UTF-8 文本 )。
   entry_hash = SHA-256 of the 64 hex characters of prev_hash immediately followed by the payload's UTF-8 text, e.g.
       printf '%s%s' "<prev_hash>" '<payload>' | sha256sum
2. 链接 / Links: 在 chain.csv 中，每行的 prev_hash 等于上一行的 entry_hash；第 1 条的 prev_hash 为 64 个 0。
   In chain.csv each row's prev_hash equals the previous row's entry_hash (the very first entry's is 64 zeros),
   and every entry of entries.jsonl appears there with the same entry_hash.
3. 图片 / Images: sha256sum signatures/*.png 的结果应与 payload 中的 signature_image_sha256 一致。
   sha256sum of each image equals its payload's signature_image_sha256.
4. 材料 / Materials: payload 中的 snapshot_hash（云帮办锁定材料）或 materials_hash（一般流程）即签字人所签材料的
   SHA-256（规范化 JSON：键排序、无空格、UTF-8），可与登记机关保存的锁定材料比对。
   snapshot_hash / materials_hash is the SHA-256 of the canonical JSON of the materials the signer saw.
5. 链头 / Head: 向登记机关查询当前证据链（GET /api/v1/evidence/verify），导出时的链头应仍在链上且未改变。
   Ask the registrar for the current chain (GET /api/v1/evidence/verify): the head above must still be in it, unchanged.
"""


async def export_package(settings: Settings, application_id, extra_files: dict[str, bytes] | None = None) -> bytes:
    """The zip a notary (公证) receives for one application (with signed.pdf and the notary's receipts)."""
    entries = await (EvidenceEntry.filter(application_id=application_id).order_by("seq")
                     .values_list("seq", "prev_hash", "payload", "entry_hash"))
    head = await EvidenceEntry.all().order_by("-seq").first().values("seq", "entry_hash")
    links = []
    if entries:
        links = await (EvidenceEntry.filter(seq__gte=entries[0][0]).order_by("seq")
                       .values_list("seq", "prev_hash", "entry_hash"))
    signatures = await Signature.filter(application_id=application_id).order_by("evidence_seq").values_list(
        "evidence_seq", "party_id", "image_path")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(
            application_id=application_id, exported_at=now().isoformat(),
            head_seq=head["seq"] if head else 0, head_hash=head["entry_hash"] if head else GENESIS))
        archive.writestr("entries.jsonl", "".join(
            json.dumps({"seq": seq, "prev_hash": prev, "payload": payload, "entry_hash": digest}, ensure_ascii=False)
            + "\n" for seq, prev, payload, digest in entries))
        archive.writestr("chain.csv", "seq,prev_hash,entry_hash\n" + "".join(
            f"{seq},{prev},{digest}\n" for seq, prev, digest in links))
        for seq, party_id, image_path in signatures:
            image = await storage.get(settings, storage.EVIDENCE, image_path)
            if image is not None:
                archive.writestr(f"signatures/{seq}-{party_id}.png", image)
        for name, data in (extra_files or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()
