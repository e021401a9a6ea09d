"""The application state machine (SPEC "The application lifecycle"): the one table of allowed transitions.

Every status change is one guarded write (UPDATE … WHERE status = FROM) that counts its rows, so of two
people acting at once exactly one wins and the other gets a 409; each change lands on the timeline.
"""
from __future__ import annotations

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.errors import Conflict
from server.models.applications import Application, TimelineEntry

TRANSITIONS: dict[str, dict[str, str]] = {
    "submit_cloud": {"draft": "cloud_review", "returned": "cloud_review"},
    "submit_general": {"draft": "submitted", "returned": "submitted"},
    "approve_lock": {"cloud_review": "locked_signing"},
    # The exits from locked_signing (SPEC "No dead ends"): completion, a decline, 撤销锁定, a withdrawal.
    "submit_signed": {"locked_signing": "submitted"},
    "decline": {"locked_signing": "returned"},
    "unlock": {"locked_signing": "returned"},
    "return": {"cloud_review": "returned", "submitted": "returned", "accepted": "returned"},
    "accept": {"submitted": "accepted"},
    "approve": {"accepted": "approved"},
    "reject": {"accepted": "rejected"},
    "withdraw": {"draft": "withdrawn", "returned": "withdrawn", "locked_signing": "withdrawn"},
}

# Only these states let the applicant change the materials.
EDITABLE_STATUSES = ("draft", "returned")

STATUS_LABELS = {
    "draft": "草稿", "cloud_review": "云帮办审核中", "returned": "已退回修改", "locked_signing": "材料已锁定，待签名",
    "submitted": "已提交，待受理", "accepted": "已受理", "approved": "已核准", "rejected": "已驳回", "withdrawn": "已撤回",
}

ACTION_LABELS = {
    "create": "创建申请", "submit_cloud": "云帮办提交", "submit_general": "一般流程提交", "approve_lock": "云帮办通过（材料锁定）",
    "submit_signed": "全部签名完成后提交", "unlock": "撤销锁定", "return": "退回修改", "accept": "受理", "approve": "核准", "reject": "驳回",
    "withdraw": "撤回", "sign": "签名", "decline": "拒绝签名", "signatures_voided": "材料变更，原签名作废",
    "helper_grant": "授权帮办员代办", "helper_revoke": "撤销帮办授权", "helper_edit": "帮办员代填材料",
    "helper_upload": "帮办员代传附件", "helper_remove_attachment": "帮办员删除附件",
}


def target_status(action: str, current: str) -> str:
    to = TRANSITIONS[action].get(current)
    if to is None:
        raise Conflict(f"申请当前状态为「{STATUS_LABELS.get(current, current)}」，不能{ACTION_LABELS.get(action, action)}")
    return to


async def transition(application: Application, action: str, actor: str, comments: list | None = None,
                     connection=None, **updates) -> Application:
    """Move the application by `action`; Conflict if its status is not what this caller saw."""
    current = application.status
    to = target_status(action, current)
    async with in_transaction() if connection is None else _same(connection) as conn:
        changed = await Application.filter(id=application.id, status=current).using_db(conn).update(status=to, **updates)
        if changed != 1:
            raise Conflict("申请已被他人处理，请刷新后重试")
        await TimelineEntry.create(application_id=application.id, actor=actor, action=action, from_status=current,
                                   to_status=to, comments=comments or [], using_db=conn)
    application.status = to
    for key, value in updates.items():
        setattr(application, key, value)
    return application


async def record(application_id, actor: str, action: str, comments: list | None = None, connection=None) -> None:
    """A timeline entry that is not a status change (a signature, a decline)."""
    await TimelineEntry.create(application_id=application_id, actor=actor, action=action,
                               comments=comments or [], using_db=connection)


async def claim_materials_write(application_id, connection) -> None:
    """Call first inside the transaction of any write to the materials: refuses unless editable, bumps the version.

    Being a guarded write, it also serialises with approve-and-lock: a lock that wins makes this write fail.
    """
    changed = await Application.filter(id=application_id, status__in=EDITABLE_STATUSES).using_db(connection).update(
        materials_version=F("materials_version") + 1
    )
    if changed != 1:
        raise Conflict("申请材料已锁定或已提交，不能修改")
    # Links sent for the old materials die with the change, and so do their reminders. Imported here: signing
    # reads this module.
    from server.services.signing.exits import close_open_links

    await close_open_links(application_id, connection)


class _same:
    def __init__(self, connection):
        self.connection = connection

    async def __aenter__(self):
        return self.connection

    async def __aexit__(self, *exc):
        return False
