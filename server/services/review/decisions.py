"""Staff decisions on an application: 云帮办通过 (approve-and-lock), 退回修改, 受理, 核准, 驳回.

Each runs in one transaction: the application row is locked, the guarded transition is made, the applicant's
messages go to the outbox and the action to the audit log; of two staff acting at once, one gets a 409.
"""
from __future__ import annotations

from tortoise.transactions import in_transaction

from server.cache import Cache
from server.config import Settings
from server.errors import Invalid
from server.models.accounts import Staff
from server.models.applications import Application, Attachment, Party
from server.services import signing
from server.clock import now
from server.services.applications import lifecycle, names, registry
from server.services.applications.identifiers import new_credit_code
from server.services.applications.service import canonical_materials, materials_format, materials_hash, missing
from server.services.archive import bundles as archive
from server.services.documents import service as documents_service
from server.services.licenses import service as licenses
from server.services.notifications import messages as notifications
from server.services.review import access, audit, views
from server.services.review.audit import Origin
from server.services.signing.exits import release_lock
from server.vocabulary import ApplicationStatus, BusinessType

# GB 32100-2015 登记管理部门 9 (市场监管) + 机构类别: 1 企业, 2 个体工商户, 3 农民专业合作社.
CREDIT_CATEGORIES = {"individual_business": "92", "cooperative": "93"}
MAX_COMMENT_LENGTH = 500


async def _notify_applicant(application: Application, template: str, params: dict, connection) -> None:
    """SMS when the applicant has bound a phone, and a WeChat subscribe message, both through the outbox."""
    text = {"name": application.name or "未命名", "business": BusinessType.label_of(application.business_type, ""),
            **params}
    await notifications.notify_applicant(application, template, text, connection=connection)


def _result(application: Application, **extra) -> dict:
    return {"id": str(application.id), "status": application.status,
            "status_label": ApplicationStatus(application.status).label, **extra}


async def approve_and_lock(staff: Staff, application_id, origin: Origin, settings: Settings, wechat=None) -> dict:
    """云帮办通过: freeze the canonical snapshot of all materials and send every required signatory a link."""
    # The documents are rendered from the materials before the transaction (rendering takes seconds); inside it,
    # the locked row must still give the same materials, or the lock is refused and nothing changes.
    application = await access.application_for_staff(staff, application_id, acting=True)
    lifecycle.target_status("approve_lock", application.status)
    snapshot = await canonical_materials(application)
    snapshot_hash = materials_hash(snapshot)
    prepared = await documents_service.prepare(settings, application, snapshot, snapshot_hash)
    async with in_transaction() as conn:
        application = await access.application_for_staff(staff, application_id, connection=conn, for_update=True,
                                                         acting=True)
        lifecycle.target_status("approve_lock", application.status)
        if materials_hash(await canonical_materials(application)) != snapshot_hash:
            raise access.conflict("materials_changed", "审查期间申请材料发生了变化，请刷新后重新审查")
        before = application.status
        await lifecycle.transition(application, "approve_lock", access.staff_actor(staff), connection=conn,
                                   snapshot=snapshot, snapshot_hash=snapshot_hash, due_at=None)
        # The 申请书 (and 章程) the signatories will read, made from the snapshot and recorded with the lock.
        documents = [{"kind": doc.kind, "title": doc.title, "sha256": doc.sha256, "pages": doc.pages} for doc in
                     await documents_service.record(application, snapshot_hash, prepared, connection=conn)]
        await _notify_applicant(application, "cloud_approved", {}, conn)
        requests = await signing.create_signing_requests(application, settings, connection=conn, wechat=wechat)
        await audit.record(staff, origin, "approve_lock", application, from_status=before,
                           to_status=application.status,
                           detail={"snapshot_hash": snapshot_hash, "documents": documents}, connection=conn)
    return _result(application, snapshot_hash=snapshot_hash, documents=documents,
                   signing_requests=[{key: item[key] for key in ("id", "party_id", "name", "method", "expires_at")}
                                     for item in requests])


async def _checked_comments(application: Application, comments: list[dict], connection) -> list[dict]:
    """Each comment names a field or an attachment of this application; the list is the one complete notice."""
    if not comments:
        raise Invalid("comments", "退回修改须一次性列出全部修改意见，至少一条")
    # A comment may point at a filled field or at one still missing (请补充…).
    fields = set(views.material_fields(await canonical_materials(application)))
    fields |= {item["field"] for item in await missing(application) if not item.get("attachment_kind")}
    attachments = {str(a.id): a for a in await Attachment.filter(application_id=application.id).using_db(connection)}
    checked = []
    for index, comment in enumerate(comments):
        where = f"comments[{index}]"
        message = (comment.get("message") or "").strip()
        if not message:
            raise Invalid(f"{where}.message", "修改意见不能为空")
        if len(message) > MAX_COMMENT_LENGTH:
            raise Invalid(f"{where}.message", f"修改意见不超过{MAX_COMMENT_LENGTH}字")
        field = (comment.get("field") or "").strip() or None
        attachment_id = (comment.get("attachment_id") or "").strip().lower() or None
        if field is None and attachment_id is None:
            raise Invalid(where, "每条修改意见须指明所涉及的填报项或附件")
        if field is not None and field not in fields:
            raise Invalid(f"{where}.field", f"本申请没有填报项「{field}」")
        entry = {"field": field, "attachment_id": None, "attachment_kind": None, "message": message}
        if attachment_id is not None:
            attachment = attachments.get(attachment_id)
            if attachment is None:
                raise Invalid(f"{where}.attachment_id", "本申请没有该附件")
            entry.update(attachment_id=attachment_id, attachment_kind=attachment.kind)
        checked.append(entry)
    return checked


async def return_for_changes(staff: Staff, application_id, comments: list[dict], origin: Origin) -> dict:
    """退回修改 with one complete list of comments; the applicant may then edit and resubmit through either flow."""
    async with in_transaction() as conn:
        application = await access.application_for_staff(staff, application_id, connection=conn, for_update=True,
                                                         acting=True)
        lifecycle.target_status("return", application.status)
        checked = await _checked_comments(application, comments, conn)
        before = application.status
        # The lock ends with the return: the applicant edits, and a new 云帮办 review makes a new snapshot.
        await lifecycle.transition(application, "return", access.staff_actor(staff), comments=checked,
                                   connection=conn, snapshot=None, snapshot_hash=None, due_at=None)
        await _notify_applicant(application, "cloud_returned", {}, conn)
        await audit.record(staff, origin, "return", application, from_status=before, to_status=application.status,
                           detail={"comments": checked}, connection=conn)
    return _result(application, comments=checked)


async def unlock(staff: Staff, application_id, reason: str, origin: Origin) -> dict:
    """撤销锁定 with a reason (e.g. the applicant phoned in a mistake): locked_signing → returned, the lock released,
    every signature voided, every open link dead; the applicant and the signatories are told."""
    reason = _checked_reason(reason, "撤销锁定")
    async with in_transaction() as conn:
        application = await access.application_for_staff(staff, application_id, connection=conn, for_update=True,
                                                         acting=True)
        lifecycle.target_status("unlock", application.status)
        before = application.status
        comment = {"field": None, "attachment_id": None, "attachment_kind": None, "message": reason}
        await lifecycle.transition(application, "unlock", access.staff_actor(staff), comments=[comment],
                                   connection=conn, snapshot=None, snapshot_hash=None, due_at=None)
        await release_lock(application, "unlock", conn)
        await _notify_applicant(application, "cloud_unlocked", {"reason": reason}, conn)
        await audit.record(staff, origin, "unlock", application, from_status=before, to_status=application.status,
                           detail={"reason": reason}, connection=conn)
    return _result(application, reason=reason)


def _checked_reason(reason: str | None, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason", f"{what}须填写理由")
    if len(reason) > MAX_COMMENT_LENGTH:
        raise Invalid("reason", f"{what}理由不超过{MAX_COMMENT_LENGTH}字")
    return reason


async def accept(staff: Staff, application_id, origin: Origin) -> dict:
    """受理. A 云帮办 application must still be exactly the materials that were locked and signed."""
    async with in_transaction() as conn:
        application = await access.application_for_staff(staff, application_id, connection=conn, for_update=True,
                                                         acting=True)
        lifecycle.target_status("accept", application.status)
        notice = None
        if application.flow == "cloud":
            current_hash = materials_hash(await canonical_materials(application, materials_format(application.snapshot)))
            if current_hash != application.snapshot_hash:
                raise access.conflict("snapshot_mismatch", "申请材料与云帮办锁定时的快照不一致，不能受理，请退回核查")
            notice = views.CLOUD_ALL_SIGNED
        before = application.status
        await lifecycle.transition(application, "accept", access.staff_actor(staff),
                                   comments=[{"message": notice}] if notice else None, connection=conn)
        await audit.record(staff, origin, "accept", application, from_status=before, to_status=application.status,
                           detail={"snapshot_hash": application.snapshot_hash} if notice else {}, connection=conn)
    return _result(application, notice=notice, snapshot_hash=application.snapshot_hash)


def _credit_code_for(application: Application) -> str:
    if application.business_type == "establish":
        return new_credit_code(application.authority_id, CREDIT_CATEGORIES.get(application.entity_type, "91"))
    if not application.credit_code:
        raise access.conflict("credit_code_missing", "变更或注销申请未注明统一社会信用代码，不能核准")
    return application.credit_code


async def _update_registry(application: Application, credit_code: str, connection) -> None:
    """设立 enters the entity, 变更 updates it (a new name too), 注销 closes it.

    设立 and 变更 record the enterprise investors, so that a later same-字号 name can show an investment
    relationship (规定第十七条); 注销 leaves what the registry knows of them.
    """
    investors = liaison_phone = None
    if application.business_type in ("deregister", "simple_deregister"):
        name, status = application.name, "cancelled"
    else:
        name, status = names.proposed_name(application), "registered"
        investors = [{"name": party.name, "credit_code": party.credit_code} for party in await Party.filter(
            application_id=application.id, role="investor", kind="enterprise").using_db(connection)]
        # Annual-report reminders (年报) go to the liaison (联络员) the filing names.
        liaison = await Party.filter(application_id=application.id, role="liaison").using_db(connection).first()
        liaison_phone = liaison.phone if liaison and liaison.phone else None
    await registry.upsert_entity(name, credit_code, application.authority_id, application.entity_type, status,
                                 connection=connection, investors=investors, liaison_phone=liaison_phone)


async def approve(staff: Staff, application_id, origin: Origin, settings: Settings, cache: Cache) -> dict:
    """核准: an establishment gets a new 统一社会信用代码; a change or deregistration keeps the entity's code.

    A 设立 or 变更 opens its license issue; once committed, the filing is archived (电子档案).
    """
    async with in_transaction() as conn:
        application = await access.application_for_staff(staff, application_id, connection=conn, for_update=True,
                                                         acting=True)
        lifecycle.target_status("approve", application.status)
        credit_code = _credit_code_for(application)
        before = application.status
        await lifecycle.transition(application, "approve", access.staff_actor(staff),
                                   comments=[{"message": f"统一社会信用代码：{credit_code}"}], connection=conn,
                                   credit_code=credit_code, decided_at=now(), due_at=None)
        await _update_registry(application, credit_code, conn)
        await licenses.open_issue(application, conn)
        await _notify_applicant(application, "application_result", {"result": f"已核准，统一社会信用代码{credit_code}"},
                                conn)
        await audit.record(staff, origin, "approve", application, from_status=before, to_status=application.status,
                           detail={"credit_code": credit_code}, connection=conn)
    await archive.archive_after_outcome(settings, cache, application.id)
    return _result(application, credit_code=credit_code)


async def reject(staff: Staff, application_id, reason: str, origin: Origin, settings: Settings, cache: Cache) -> dict:
    """驳回 with a reason the applicant reads on the timeline; once committed, the filing is archived."""
    reason = _checked_reason(reason, "驳回")
    async with in_transaction() as conn:
        application = await access.application_for_staff(staff, application_id, connection=conn, for_update=True,
                                                         acting=True)
        lifecycle.target_status("reject", application.status)
        before = application.status
        await lifecycle.transition(application, "reject", access.staff_actor(staff), comments=[{"message": reason}],
                                   connection=conn, decided_at=now(), due_at=None)
        await _notify_applicant(application, "application_result", {"result": f"已驳回，理由：{reason}"}, conn)
        await audit.record(staff, origin, "reject", application, from_status=before, to_status=application.status,
                           detail={"reason": reason}, connection=conn)
    await archive.archive_after_outcome(settings, cache, application.id)
    return _result(application, reason=reason)
