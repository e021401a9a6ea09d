"""The application state machine (SPEC "The application lifecycle"): the one table of allowed transitions.

Every status change is one guarded write (UPDATE … WHERE status = FROM) that counts its rows, so of two
people acting at once exactly one wins and the other gets a 409; each change lands on the timeline, and in the same
transaction on the statistics rollups; once it has committed, the 待办 pages showing the case are forgotten.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.cache import invalidation
from server.errors import Conflict
from server.models.applications import Application, TimelineEntry
from server.services.statistics import rollups
from server.vocabulary import ApplicationAction, ApplicationStatus

A, S = ApplicationAction, ApplicationStatus

# Who a timeline entry names, as the applicant reads it; staff are "审核员 李**" (review.access.staff_actor).
APPLICANT_ACTOR = "申请人"
SYSTEM_ACTOR = "系统"
# Entries written before actors were named in Chinese say applicant:<id>.
_STORED_APPLICANT_ACTOR = re.compile(r"applicant:\d+")


def actor_label(actor: str) -> str:
    """How a stored timeline actor reads wherever the timeline is shown: applicant:<id> as 申请人."""
    return APPLICANT_ACTOR if _STORED_APPLICANT_ACTOR.fullmatch(actor) else actor


TRANSITIONS: dict[ApplicationAction, dict[ApplicationStatus, ApplicationStatus]] = {
    A.SUBMIT_CLOUD: {S.DRAFT: S.CLOUD_REVIEW, S.RETURNED: S.CLOUD_REVIEW},
    A.SUBMIT_GENERAL: {S.DRAFT: S.SUBMITTED, S.RETURNED: S.SUBMITTED},
    A.APPROVE_LOCK: {S.CLOUD_REVIEW: S.LOCKED_SIGNING},
    # The exits from locked_signing (SPEC "No dead ends"): completion, a decline, 撤销锁定, a withdrawal.
    A.SUBMIT_SIGNED: {S.LOCKED_SIGNING: S.SUBMITTED},
    A.DECLINE: {S.LOCKED_SIGNING: S.RETURNED},
    A.UNLOCK: {S.LOCKED_SIGNING: S.RETURNED},
    A.RETURN: {S.CLOUD_REVIEW: S.RETURNED, S.SUBMITTED: S.RETURNED, S.ACCEPTED: S.RETURNED},
    A.ACCEPT: {S.SUBMITTED: S.ACCEPTED},
    A.APPROVE: {S.ACCEPTED: S.APPROVED},
    A.REJECT: {S.ACCEPTED: S.REJECTED},
    A.WITHDRAW: {S.DRAFT: S.WITHDRAWN, S.RETURNED: S.WITHDRAWN, S.LOCKED_SIGNING: S.WITHDRAWN},
}

# The status subsets other modules act on, named here beside the table they come from.
# Only these states let the applicant change the materials.
EDITABLE_STATUSES = (S.DRAFT, S.RETURNED)
# Waiting for a registrar: the to-do queue (待办).
WAITING_STATUSES = (S.CLOUD_REVIEW, S.SUBMITTED, S.ACCEPTED)
# No transition leaves these: the case is finished and can be archived.
FINISHED_STATUSES = (S.APPROVED, S.REJECTED, S.WITHDRAWN)
# Reached through 云帮办 once every signature is in (受理 shows "云帮办所有签名已完成").
SIGNED_THROUGH_STATUSES = (S.SUBMITTED, S.ACCEPTED, S.APPROVED)
# Until submission the applicant may change how completion is handled (auto_submit).
AUTO_SUBMIT_STATUSES = (S.DRAFT, S.CLOUD_REVIEW, S.RETURNED, S.LOCKED_SIGNING)


def target_status(action: str, current: str) -> ApplicationStatus:
    to = TRANSITIONS[ApplicationAction(action)].get(current)
    if to is None:
        raise Conflict(f"申请当前状态为「{ApplicationStatus.label_of(current, current)}」，"
                       f"不能{ApplicationAction.label_of(action, action)}")
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
        entry = await TimelineEntry.create(application_id=application.id, actor=actor, action=action,
                                           from_status=current, to_status=to, comments=comments or [], using_db=conn)
        # The statistics rollups move with the entry, in its transaction.
        await rollups.record(application.id, entry.id, action, conn)
        # Every worker forgets the 待办 pages that show this authority's cases, and the applicant's list.
        invalidation.announce_when_ended(conn, invalidation.REVIEW_QUEUE, application.authority_id)
        invalidation.announce_when_ended(conn, invalidation.APPLICANT_APPLICATIONS, str(application.applicant_id))
    application.status = to
    for key, value in updates.items():
        setattr(application, key, value)
    return application


async def record(application_id, actor: str, action: str, comments: list | None = None, connection=None) -> None:
    """A timeline entry that is not a status change (a signature, a decline)."""
    await TimelineEntry.create(application_id=application_id, actor=actor, action=action,
                               comments=comments or [], using_db=connection)


@dataclass(frozen=True)
class Delegate:
    """Someone writing the materials on the applicant's behalf (a helper's 代办): how the timeline names them, and
    the check, run inside the write's own transaction, that they still may (so a revocation that commits first wins).
    """
    actor: str
    still_allowed: Callable[[object], Awaitable[None]]


async def claim_materials_write(application: Application, connection, delegate: Delegate | None = None) -> None:
    """Call first inside the transaction of any write to the materials: refuses unless editable, bumps the version.

    Being a guarded write, it also serialises with approve-and-lock: a lock that wins makes this write fail.
    A `delegate`'s right to write is checked first, in the same transaction. Once the write commits, every worker
    forgets the applicant's list.
    """
    if delegate is not None:
        await delegate.still_allowed(connection)
    changed = await Application.filter(id=application.id, status__in=EDITABLE_STATUSES).using_db(connection).update(
        materials_version=F("materials_version") + 1
    )
    if changed != 1:
        raise Conflict("申请材料已锁定或已提交，不能修改")
    invalidation.announce_when_ended(connection, invalidation.APPLICANT_APPLICATIONS, str(application.applicant_id))
    # Links sent for the old materials die with the change, and so do their reminders. Imported here: signing
    # reads this module.
    from server.services.signing.exits import close_open_links

    await close_open_links(application.id, connection)


class _same:
    def __init__(self, connection):
        self.connection = connection

    async def __aenter__(self):
        return self.connection

    async def __aexit__(self, *exc):
        return False
