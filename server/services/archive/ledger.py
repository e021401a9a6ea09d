"""The archive ledger: one entry per bundle, chained like the evidence chain, and the verification of every bundle.

Entry n stores prev_hash (entry n-1's entry_hash, or 64 zeros) and a canonical JSON payload naming the bundle and
its manifest's SHA-256; entry_hash = SHA-256(prev_hash + payload). Each bundle's manifest lists every file's SHA-256.
"""
from __future__ import annotations

import hashlib
import json

from server.config import Settings
from server.models.archive import ArchiveBundle, ArchiveLedgerEntry
from server.services.signing.evidence import GENESIS, canonical_json, entry_hash
from server import storage

VERIFY_BATCH = 500


def file_key(bundle_id, path: str) -> str:
    """Where one file of a bundle is kept (server/storage.py); the manifest sits beside the files."""
    return f"archive/{bundle_id}/{path}"


async def append(connection, bundle_id, manifest_sha256: str, recorded_at: str) -> ArchiveLedgerEntry:
    """Append the bundle's entry inside the caller's transaction (run under evidence.appending with lock
    "archive-ledger"; seq is the primary key, so a second writer for the same place fails and retries)."""
    head = await ArchiveLedgerEntry.all().using_db(connection).order_by("-seq").first().values("seq", "entry_hash")
    seq = head["seq"] + 1 if head else 1
    prev_hash = head["entry_hash"] if head else GENESIS
    payload = canonical_json({"seq": seq, "bundle_id": str(bundle_id), "manifest_sha256": manifest_sha256,
                              "recorded_at": recorded_at})
    return await ArchiveLedgerEntry.create(seq=seq, prev_hash=prev_hash, payload=payload,
                                           entry_hash=entry_hash(prev_hash, payload), bundle_id=bundle_id,
                                           using_db=connection)


async def verify_bundle(settings: Settings, bundle: ArchiveBundle, entry: ArchiveLedgerEntry | None) -> list[dict]:
    """Every problem of one bundle: its manifest against the ledger, and each file against the manifest."""
    problems = []

    def problem(reason: str, message: str, path: str | None = None) -> None:
        problems.append({"seq": bundle.ledger_seq, "bundle_id": str(bundle.id), "credit_code": bundle.credit_code,
                         "path": path, "reason": reason, "message": message})

    manifest_hash = hashlib.sha256(bundle.manifest.encode("utf-8")).hexdigest()
    if manifest_hash != bundle.manifest_sha256:
        problem("manifest", "清单内容与其记录的哈希不符（已被改动）", "manifest.json")
    if entry is None or json.loads(entry.payload).get("manifest_sha256") != manifest_hash:
        problem("ledger", "清单哈希与档案台账记录不符", "manifest.json")
    stored_manifest = await storage.get(settings, storage.GENERATED, file_key(bundle.id, "manifest.json"))
    if stored_manifest != bundle.manifest.encode("utf-8"):
        problem("manifest_file", "存储的清单文件与台账登记的清单不一致", "manifest.json")
    for item in json.loads(bundle.manifest)["files"]:
        data = await storage.get(settings, storage.GENERATED, file_key(bundle.id, item["path"]))
        if data is None:
            problem("missing", f"文件缺失：{item['path']}", item["path"])
        elif hashlib.sha256(data).hexdigest() != item["sha256"]:
            problem("changed", f"文件内容与清单中的 SHA-256 不符（已被改动）：{item['path']}", item["path"])
    return problems


async def verify(settings: Settings, bundle_ids: list | None = None) -> dict:
    """Re-check the whole ledger (links and entry hashes) and every file of every bundle (or of the bundles given).

    Streams in batches of VERIFY_BATCH entries, so memory stays bounded however large the archive grows.
    """
    problems: list[dict] = []
    expected_prev, expected_seq, last_seq, checked, entries = GENESIS, 1, 0, 0, 0
    wanted = {str(item) for item in bundle_ids} if bundle_ids is not None else None
    while True:
        batch = await ArchiveLedgerEntry.filter(seq__gt=last_seq).order_by("seq").limit(VERIFY_BATCH)
        if not batch:
            break
        bundles = {str(b.id): b for b in await ArchiveBundle.filter(id__in=[e.bundle_id for e in batch])}
        entries += len(batch)
        for entry in batch:
            if entry.seq != expected_seq:
                problems.append({"seq": expected_seq, "reason": "ledger_missing", "path": None, "bundle_id": None,
                                 "credit_code": None, "message": f"档案台账第 {expected_seq} 条缺失"})
            elif entry.prev_hash != expected_prev:
                problems.append({"seq": entry.seq, "reason": "ledger_prev_hash", "path": None,
                                 "bundle_id": str(entry.bundle_id), "credit_code": None,
                                 "message": f"档案台账第 {entry.seq} 条的前序哈希与上一条不符"})
            elif entry_hash(entry.prev_hash, entry.payload) != entry.entry_hash:
                problems.append({"seq": entry.seq, "reason": "ledger_entry_hash", "path": None,
                                 "bundle_id": str(entry.bundle_id), "credit_code": None,
                                 "message": f"档案台账第 {entry.seq} 条的内容与其哈希不符（已被改动）"})
            expected_prev, expected_seq, last_seq = entry.entry_hash, entry.seq + 1, entry.seq
            bundle = bundles.get(str(entry.bundle_id))
            if wanted is not None and str(entry.bundle_id) not in wanted:
                continue
            if bundle is None:
                problems.append({"seq": entry.seq, "reason": "bundle_missing", "path": None,
                                 "bundle_id": str(entry.bundle_id), "credit_code": None,
                                 "message": f"档案台账第 {entry.seq} 条登记的档案包不存在"})
                continue
            checked += 1
            problems.extend(await verify_bundle(settings, bundle, entry))
    if wanted is None:
        # A bundle beyond the ledger's head (its entries cut off the end) is a problem too; a gap inside is
        # reported as a missing entry above.
        for bundle in await ArchiveBundle.filter(ledger_seq__gt=last_seq):
            problems.append({"seq": bundle.ledger_seq, "reason": "not_in_ledger", "path": None,
                             "bundle_id": str(bundle.id), "credit_code": bundle.credit_code,
                             "message": "档案包未登记在档案台账中"})
    return {"ok": not problems, "entries": entries, "bundles_checked": checked,
            "head": {"seq": last_seq, "entry_hash": expected_prev} if last_seq else None, "problems": problems}
