"""Making archive bundles: a finished filing (核准, 驳回 or 撤回) and scanned paper archives, each stored once through
server/storage.py with a manifest of every file's SHA-256, whose own SHA-256 goes onto the archive ledger."""
from __future__ import annotations

import hashlib
import io
import json
import logging
import mimetypes
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from server import storage
from server.cache import Cache
from server.config import Settings
from server.errors import Invalid
from server.models.accounts import Applicant
from server.models.applications import Application, Attachment, Party, TimelineEntry
from server.models.archive import ArchiveBundle
from server.models.documents import GeneratedDocument
from server.models.names import RegisteredEntity
from server.clock import now
from server.services.applications import lifecycle
from server.services.applications.identifiers import credit_code_problem, filing_reference
from server.services.applications.service import canonical_materials
from server.services.archive import ledger
from server.services.documents import service as documents_service
from server.services.review import audit
from server.services.signing import evidence
from server.vocabulary import ApplicationAction, ApplicationStatus

log = logging.getLogger(__name__)

# The outcomes that end a filing, each archived with its own 保管期限 (archive.retention_years_<outcome>).
FINISHED_STATUSES = lifecycle.FINISHED_STATUSES
SCANNED_LABEL = "纸质档案扫描件"
# Staff decisions among the timeline's actions (the bundle's decisions.json).
DECISION_ACTIONS = ("approve_lock", "return", "accept", "approve", "reject", "withdraw")
SCAN_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
              ".tif": "image/tiff", ".tiff": "image/tiff"}
LEDGER_LOCK = "archive-ledger"


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode("utf-8")


def retention_years(settings: Settings, outcome: str) -> int | None:
    return getattr(settings.archive, f"retention_years_{outcome}")


def _retain_until(years: int | None, start: date) -> date | None:
    if years is None:
        return None
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


async def _filing_files(settings: Settings, application: Application) -> dict[str, bytes]:
    """Everything the archive keeps of one filing, by path inside the bundle."""
    files: dict[str, bytes] = {}
    materials = await canonical_materials(application)
    files["filing.json"] = _json({
        "id": str(application.id), "reference": filing_reference(application.id),
        "business_type": application.business_type, "entity_type": application.entity_type,
        "name": application.name, "credit_code": application.credit_code, "authority_code": application.authority_id,
        "status": application.status, "status_label": ApplicationStatus(application.status).label,
        "flow": application.flow, "snapshot_hash": application.snapshot_hash, "snapshot": application.snapshot,
        "materials": materials, "first_submitted_at": application.first_submitted_at,
        "submitted_at": application.submitted_at, "decided_at": application.decided_at,
        "created_at": application.created_at})
    if application.status == "approved" and application.snapshot_hash:
        # signed.pdf is normally made with the last signature; should that have failed, it is made now.
        if await documents_service.signed_document(application) is None:
            await documents_service.produce_signed_pdf(settings, application)
    for document in await GeneratedDocument.filter(application_id=application.id).order_by("created_at", "kind"):
        data = await storage.get(settings, storage.GENERATED, document.storage_key)
        if data is None:
            continue
        folder = "documents" if document.materials_hash == application.snapshot_hash else \
            f"documents/{document.materials_hash[:12]}"
        files[f"{folder}/{document.kind}.pdf"] = data
    for attachment in await Attachment.filter(application_id=application.id).order_by("kind", "created_at"):
        data = await storage.get(settings, storage.UPLOADS, attachment.storage_path)
        if data is not None:
            suffix = mimetypes.guess_extension(attachment.content_type) or ""
            files[f"attachments/{attachment.kind}/{attachment.id}{suffix}"] = data
    package = await evidence.export_package(settings, application.id,
                                            {"notary-receipts.json": _json(
                                                await documents_service.notary_receipts(application.id))})
    with zipfile.ZipFile(io.BytesIO(package)) as zipped:
        for name in zipped.namelist():
            files[f"evidence/{name}"] = zipped.read(name)
    timeline = [{"at": entry.at, "actor": lifecycle.actor_label(entry.actor), "action": entry.action,
                 "action_label": ApplicationAction.label_of(entry.action, entry.action),
                 "from_status": entry.from_status, "to_status": entry.to_status, "comments": entry.comments}
                for entry in await TimelineEntry.filter(application_id=application.id).order_by("at", "id")]
    files["timeline.json"] = _json(timeline)
    files["decisions.json"] = _json([entry for entry in timeline if entry["action"] in DECISION_ACTIONS])
    files["audit.json"] = _json(await audit.entries_for(application))
    return files


@dataclass
class BundleFacts:
    """What 容e查 searches by, recorded beside the manifest."""

    kind: str
    outcome: str
    authority_code: str
    credit_code: str | None = None
    entity_name: str = ""
    application_id: uuid.UUID | None = None
    applicant_phone: str | None = None
    party_names: list[str] = field(default_factory=list)
    business_type: str | None = None
    decided_at: datetime | None = None


async def _store(settings: Settings, cache: Cache, facts: BundleFacts, files: dict[str, bytes]) -> ArchiveBundle:
    """Write every file and the manifest, then record the bundle and its ledger entry in one transaction."""
    bundle_id = uuid.uuid4()
    archived_at = now()
    years = retention_years(settings, facts.outcome)
    manifest = evidence.canonical_json({
        "bundle_id": str(bundle_id), "kind": facts.kind, "outcome": facts.outcome,
        "application_id": str(facts.application_id) if facts.application_id else None,
        "credit_code": facts.credit_code, "entity_name": facts.entity_name, "authority_code": facts.authority_code,
        "archived_at": archived_at.isoformat(), "retention_years": years,
        "files": [{"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for path, data in sorted(files.items())],
    })
    for path, data in files.items():
        await storage.put(settings, storage.GENERATED, ledger.file_key(bundle_id, path), data)
    await storage.put(settings, storage.GENERATED, ledger.file_key(bundle_id, "manifest.json"), manifest.encode("utf-8"))
    manifest_sha256 = hashlib.sha256(manifest.encode("utf-8")).hexdigest()

    async def record(connection) -> ArchiveBundle:
        if facts.application_id is not None:
            existing = await ArchiveBundle.filter(application_id=facts.application_id).using_db(connection).first()
            if existing is not None:
                return existing
        entry = await ledger.append(connection, bundle_id, manifest_sha256, archived_at.isoformat())
        return await ArchiveBundle.create(
            id=bundle_id, kind=facts.kind, application_id=facts.application_id, credit_code=facts.credit_code,
            entity_name=facts.entity_name or "", applicant_phone=facts.applicant_phone,
            party_names=" ".join(dict.fromkeys(facts.party_names))[:1000], authority_code=facts.authority_code,
            business_type=facts.business_type, outcome=facts.outcome, decided_at=facts.decided_at,
            retention_years=years, retain_until=_retain_until(years, (facts.decided_at or archived_at).date()),
            manifest=manifest, manifest_sha256=manifest_sha256, ledger_seq=entry.seq, archived_at=archived_at,
            using_db=connection)

    return await evidence.appending(cache, record, lock=LEDGER_LOCK)


async def archive_filing(settings: Settings, cache: Cache, application_id) -> ArchiveBundle | None:
    """Archive one finished filing (idempotent: a filing already archived returns its bundle)."""
    existing = await ArchiveBundle.get_or_none(application_id=application_id)
    if existing is not None:
        return existing
    application = await Application.get(id=application_id)
    if application.status not in FINISHED_STATUSES:
        return None
    if application.status == "withdrawn" and application.first_submitted_at is None:
        return None  # a draft withdrawn before any submission was never a filing
    applicant = await Applicant.get(id=application.applicant_id)
    parties = await Party.filter(application_id=application.id).order_by("position").values_list("name", flat=True)
    facts = BundleFacts(kind="filing", outcome=application.status, authority_code=application.authority_id,
                        credit_code=application.credit_code, entity_name=application.name or "",
                        application_id=application.id, applicant_phone=applicant.phone, party_names=list(parties),
                        business_type=application.business_type,
                        decided_at=application.decided_at or application.updated_at)
    return await _store(settings, cache, facts, await _filing_files(settings, application))


async def archive_after_outcome(settings: Settings, cache: Cache, application_id) -> None:
    """Called after a decision commits; a failure never undoes the decision (`archive pending` catches up)."""
    try:
        await archive_filing(settings, cache, application_id)
    except Exception:
        log.exception("filing %s could not be archived now; `python -m server archive pending` archives it",
                      application_id)


async def archive_pending(settings: Settings, cache: Cache) -> int:
    """Archive every finished filing that has no bundle yet; returns how many were archived."""
    archived_ids = set(await ArchiveBundle.filter(application_id__not_isnull=True).values_list("application_id",
                                                                                               flat=True))
    done = 0
    for application_id in await Application.filter(status__in=FINISHED_STATUSES).values_list("id", flat=True):
        if application_id not in archived_ids and await archive_filing(settings, cache, application_id):
            done += 1
    return done


@dataclass
class ScanImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


async def import_scans(settings: Settings, cache: Cache, directory: str | Path) -> ScanImportReport:
    """Each sub-directory named by a 统一社会信用代码 becomes one bundle of that entity's scanned paper archive.

    Files are PDF, JPEG, PNG or TIFF; a directory whose files were already imported for that code is skipped.
    """
    report = ScanImportReport()
    root = Path(directory)
    for folder in sorted(item for item in root.iterdir() if item.is_dir()):
        code = folder.name.upper()
        problem = credit_code_problem(code)
        if problem:
            report.errors.append((str(folder), f"目录名应为统一社会信用代码：{problem}"))
            continue
        files: dict[str, bytes] = {}
        bad = None
        for path in sorted(item for item in folder.rglob("*") if item.is_file()):
            if path.suffix.lower() not in SCAN_TYPES:
                bad = (str(path), f"不支持的扫描件格式 {path.suffix or '（无扩展名）'}，应为 PDF、JPEG、PNG 或 TIFF")
                break
            files["scans/" + path.relative_to(folder).as_posix()] = path.read_bytes()
        if bad or not files:
            report.errors.append(bad or (str(folder), "目录中没有扫描件"))
            continue
        if await _already_imported(code, files):
            report.skipped.append(code)
            continue
        entity = await RegisteredEntity.get_or_none(credit_code=code)
        if entity is None:
            report.errors.append((str(folder), f"登记簿中没有统一社会信用代码为 {code} 的主体，请先导入登记簿"))
            continue
        facts = BundleFacts(kind="scans", outcome="scanned", authority_code=entity.authority_code, credit_code=code,
                            entity_name=entity.name)
        await _store(settings, cache, facts, files)
        report.imported.append(code)
    return report


async def _already_imported(code: str, files: dict[str, bytes]) -> bool:
    wanted = sorted((path, hashlib.sha256(data).hexdigest()) for path, data in files.items())
    for manifest in await ArchiveBundle.filter(credit_code=code, kind="scans").values_list("manifest", flat=True):
        if sorted((item["path"], item["sha256"]) for item in json.loads(manifest)["files"]) == wanted:
            return True
    return False


def require_directory(directory: str) -> None:
    if not Path(directory).is_dir():
        raise Invalid("DIR", f"{directory}：目录不存在")
