"""容e查: staff look filings up in the archive by credit code, name, applicant or date, and download or verify a
bundle. Every read lands in the audit log; personal data is masked in every answer."""
from __future__ import annotations

import io
import json
import zipfile
from zoneinfo import ZoneInfo
from datetime import date, datetime, time, timedelta, timezone

from server import storage
from server.config import Settings
from server.crypto import blind_index
from server.errors import Invalid, NotFound
from server.models.accounts import Staff
from server.models.archive import ArchiveBundle, ArchiveLedgerEntry
from server.services.accounts.staff import require_role
from server.services.applications.identifiers import credit_code_problem, mask_phone
from server.services.archive import ledger
from server.services.archive.bundles import SCANNED_LABEL
from server.services.authorities import scope_prefix
from server.services.review import audit
from server.services.review.access import VIEWING_ROLES, as_uuid
from server.services.review.audit import Origin
from server.vocabulary import ApplicationStatus, BusinessType

README = """电子档案包 / Archive bundle
==========================

档案包 / Bundle: {bundle_id}    台账序号 / Ledger seq: {seq}
清单 SHA-256 / Manifest SHA-256: {manifest_sha256}

manifest.json 列出包内每个文件的路径与 SHA-256（规范化 JSON：键排序、无空格、ASCII）。
manifest.json lists every file of the bundle with its SHA-256 (canonical JSON: sorted keys, no spaces, ASCII).
1. sha256sum manifest.json 应等于上面的清单 SHA-256，也等于档案台账第 {seq} 条 payload 中的 manifest_sha256。
   sha256sum manifest.json equals the manifest SHA-256 above and the manifest_sha256 in ledger entry {seq}.
2. 每个文件 / each file: sha256sum <path> 应等于 manifest.json 中该文件的 sha256。
3. 台账 / ledger: ledger-entry.json 的 entry_hash = SHA-256(prev_hash 紧接 payload)，
   printf '%s%s' "<prev_hash>" '<payload>' | sha256sum ；向登记机关核对台账（GET /api/v1/archive/verify）。
"""


def _origin_detail(**query) -> dict:
    return {key: value for key, value in query.items() if value not in (None, "")}


def _in_scope(staff: Staff):
    return ArchiveBundle.filter(authority_code__startswith=scope_prefix(staff.authority))


def bundle_view(bundle: ArchiveBundle) -> dict:
    manifest = json.loads(bundle.manifest)
    return {
        "id": str(bundle.id), "kind": bundle.kind, "outcome": bundle.outcome,
        "outcome_label": ApplicationStatus.label_of(bundle.outcome, SCANNED_LABEL),
        "credit_code": bundle.credit_code, "entity_name": bundle.entity_name,
        "business_type": bundle.business_type,
        "business_label": BusinessType.label_of(bundle.business_type, "") if bundle.business_type else "",
        "application_id": str(bundle.application_id) if bundle.application_id else None,
        "authority_code": bundle.authority_code, "applicant_phone_masked": mask_phone(bundle.applicant_phone),
        "decided_at": bundle.decided_at.isoformat() if bundle.decided_at else None,
        "archived_at": bundle.archived_at.isoformat(), "retention_years": bundle.retention_years,
        "retention_label": f"{bundle.retention_years}年" if bundle.retention_years else "永久",
        "retain_until": bundle.retain_until.isoformat() if bundle.retain_until else None,
        "manifest_sha256": bundle.manifest_sha256, "ledger_seq": bundle.ledger_seq,
        "files": len(manifest["files"]), "size": sum(item["size"] for item in manifest["files"]),
        "download_url": f"/api/v1/archive/bundles/{bundle.id}.zip",
        "verify_url": f"/api/v1/archive/bundles/{bundle.id}/verify",
    }


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(field, f"{field}：日期格式应为 YYYY-MM-DD") from None


async def search(staff: Staff, origin: Origin, settings: Settings, *, credit_code: str | None = None,
                 name: str | None = None, applicant: str | None = None, date_from: str | None = None,
                 date_to: str | None = None, page: int = 1, page_size: int = 20) -> dict:
    """容e查 within the staff member's scope: any of credit code (exact), name (part), applicant (a party's name or
    the applicant's phone), decision date range; newest first."""
    require_role(staff, *VIEWING_ROLES)
    if not any((credit_code, name, applicant, date_from, date_to)):
        raise Invalid("credit_code", "请至少填写统一社会信用代码、名称、申请人或日期中的一项")
    if page < 1:
        raise Invalid("page", "页码应从1开始")
    if not 1 <= page_size <= settings.archive.search_page_size_max:
        raise Invalid("page_size", f"每页条数应为1至{settings.archive.search_page_size_max}")
    query = _in_scope(staff)
    if credit_code:
        code = credit_code.strip().upper()
        if credit_code_problem(code):
            raise Invalid("credit_code", credit_code_problem(code))
        query = query.filter(credit_code=code)
    if name:
        query = query.filter(entity_name__icontains=name.strip())
    if applicant:
        who = applicant.strip()
        query = query.filter(applicant_phone_index=blind_index(who)) if who.isdigit() else query.filter(party_names__contains=who)
    start, end = _day(date_from, "from"), _day(date_to, "to")
    if start and end and end < start:
        raise Invalid("to", "结束日期不能早于开始日期")
    # Dates are local (review.timezone) days.
    zone = ZoneInfo(settings.review.timezone)
    if start:
        query = query.filter(decided_at__gte=datetime.combine(start, time(), tzinfo=zone).astimezone(timezone.utc))
    if end:
        query = query.filter(decided_at__lt=datetime.combine(end + timedelta(days=1), time(), tzinfo=zone)
                             .astimezone(timezone.utc))
    total = await query.count()
    rows = await query.order_by("-decided_at", "-archived_at").offset((page - 1) * page_size).limit(page_size)
    await audit.record(staff, origin, "archive_search", detail={"query": _origin_detail(
        credit_code=credit_code, name=name, applicant=mask_phone(applicant) if (applicant or "").isdigit() else
        (applicant[0] + "*" if applicant else None), date_from=date_from, date_to=date_to), "results": total})
    return {"items": [bundle_view(row) for row in rows], "total": total, "page": page, "page_size": page_size}


async def entity_archive(staff: Staff, origin: Origin, credit_code: str) -> dict:
    """GET /api/v1/archive/{credit_code}: every archived filing and scan bundle of one entity."""
    require_role(staff, *VIEWING_ROLES)
    code = (credit_code or "").strip().upper()
    if credit_code_problem(code):
        raise Invalid("credit_code", credit_code_problem(code))
    rows = await _in_scope(staff).filter(credit_code=code).order_by("decided_at", "archived_at")
    if not rows:
        raise NotFound("档案中没有该主体，或不在您的管辖范围内")
    await audit.record(staff, origin, "archive_read", detail={"credit_code": code, "bundles": len(rows)})
    return {"credit_code": code, "entity_name": rows[-1].entity_name, "items": [bundle_view(row) for row in rows]}


async def _bundle(staff: Staff, bundle_id) -> ArchiveBundle:
    require_role(staff, *VIEWING_ROLES)
    bundle = await _in_scope(staff).filter(id=as_uuid(bundle_id)).first() if as_uuid(bundle_id) else None
    if bundle is None:
        raise NotFound("档案包不存在或不在您的管辖范围内")
    return bundle


async def bundle_zip(staff: Staff, origin: Origin, settings: Settings, bundle_id) -> tuple[str, bytes]:
    """The bundle as a zip: manifest.json, every file, the ledger entry and a README on checking it by hand."""
    bundle = await _bundle(staff, bundle_id)
    entry = await ArchiveLedgerEntry.get(seq=bundle.ledger_seq)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(bundle_id=bundle.id, seq=bundle.ledger_seq,
                                                     manifest_sha256=bundle.manifest_sha256))
        archive.writestr("manifest.json", bundle.manifest)
        archive.writestr("ledger-entry.json", json.dumps({"seq": entry.seq, "prev_hash": entry.prev_hash,
                                                          "payload": entry.payload, "entry_hash": entry.entry_hash}))
        for item in json.loads(bundle.manifest)["files"]:
            data = await storage.get(settings, storage.GENERATED, ledger.file_key(bundle.id, item["path"]))
            if data is not None:
                archive.writestr(item["path"], data)
    await audit.record(staff, origin, "archive_download", detail={"bundle_id": str(bundle.id),
                                                                  "credit_code": bundle.credit_code})
    name = f"{bundle.credit_code or 'filing'}-{bundle.ledger_seq}.zip"
    return name, buffer.getvalue()


async def verify_one(staff: Staff, origin: Origin, settings: Settings, bundle_id) -> dict:
    bundle = await _bundle(staff, bundle_id)
    result = await ledger.verify(settings, [bundle.id])
    await audit.record(staff, origin, "archive_verify", detail={"bundle_id": str(bundle.id), "ok": result["ok"]})
    return result


async def verify_all(staff: Staff, origin: Origin, settings: Settings) -> dict:
    require_role(staff, "reviewer", "admin")
    result = await ledger.verify(settings)
    await audit.record(staff, origin, "archive_verify", detail={"ok": result["ok"], "entries": result["entries"]})
    return result
