"""The legal-person account's state machine (seed 001): the one table of allowed transitions and its writer.

A status change is one guarded UPDATE … WHERE status = FROM; the history entry (法人注册结果) is written in the
same transaction. While an account is signing, awaiting review or approved it holds its credit code
(live_credit_code, unique), so two live accounts for one enterprise cannot exist, however requests race.
"""
from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import clock
from server.errors import Conflict
from server.models.enterprise_accounts import AccountEvent, EnterpriseAccount
from server.vocabulary import EnterpriseAccountAction, EnterpriseAccountStatus

TRANSITIONS: dict[str, dict[str, str]] = {
    # The legal representative registers and verifies their face.
    "submit_verified": {"draft": "pending_review", "rejected": "pending_review"},
    # An agent registers: the legal representative gets the SMS link to sign the 授权委托书 (重新提交 too).
    "request_signature": {"draft": "signing", "expired": "signing", "declined": "signing", "rejected": "signing"},
    "cancel": {"signing": "draft"},
    "sign": {"signing": "pending_review"},
    "decline": {"signing": "declined"},
    "expire": {"signing": "expired"},
    # After a rejection, an edit that leaves the confirmed 授权委托书 as it was needs no new signature.
    "resubmit": {"rejected": "pending_review"},
    "approve": {"pending_review": "approved"},
    "reject": {"pending_review": "rejected"},
    "revoke": {"approved": "revoked"},
}

# The states in which an account holds its enterprise's credit code.
LIVE_STATUSES = ("signing", "pending_review", "approved")
# The states in which the registrant may edit the registration.
EDITABLE_STATUSES = ("draft", "rejected", "expired", "declined")

TAKEN = "该企业已有法人账号，或已有一份注册申请正在签名或审核中"


def target_status(action: str, current: str) -> str:
    to = TRANSITIONS[action].get(current)
    if to is None:
        raise Conflict(f"法人注册当前状态为「{EnterpriseAccountStatus.label_of(current, current)}」，不能{EnterpriseAccountAction.label_of(action, action)}")
    return to


async def transition(account: EnterpriseAccount, action: str, actor: str, comment: str | None = None,
                     connection=None, **updates) -> EnterpriseAccount:
    """Move the account by `action`; Conflict when its status is no longer what this caller saw."""
    current = account.status
    to = target_status(action, current)
    updates["live_credit_code"] = account.credit_code if to in LIVE_STATUSES else None

    async def write(conn):
        try:
            changed = await EnterpriseAccount.filter(id=account.id, status=current).using_db(conn).update(
                status=to, **updates)
        except IntegrityError:
            raise Conflict(TAKEN, field="credit_code") from None
        if changed != 1:
            raise Conflict("法人注册已被他人处理，请刷新后重试")
        await record(account.id, actor, action, comment, current, to, connection=conn)

    if connection is not None:
        await write(connection)
    else:
        async with in_transaction() as conn:
            await write(conn)
    account.status = to
    for key, value in updates.items():
        setattr(account, key, value)
    return account


async def record(account_id, actor: str, action: str, comment: str | None = None, from_status: str | None = None,
                 to_status: str | None = None, connection=None) -> None:
    await AccountEvent.create(account_id=account_id, at=clock.now(), actor=actor[:64], action=action,
                              from_status=from_status, to_status=to_status, comment=comment, using_db=connection)
