"""Notifications: messages enter the outbox in the caller's transaction; a background sender delivers them."""
from __future__ import annotations

from server.models.notifications import OutboxMessage
from server.services.sessions import now

# Template name → the text the development sink renders (real providers map names to template codes in config).
TEMPLATES = {
    "sms_code": "您的验证码为{code}，5分钟内有效。如非本人操作请忽略。",
    "cloud_approved": "您提交的「{name}」{business}申请已通过云帮办审核，材料已锁定，请通知全部有权签字人完成电子签名。",
    "cloud_returned": "您提交的「{name}」{business}申请已退回修改，请在一窗通小程序“办理进度”中查看意见并修改。",
    "signing_link": "{signer}您好：「{name}」{business}申请请您以{role}身份电子签名，链接{hours}小时内有效：{link}",
    "signed_notice": "「{name}」{business}申请：{signer}已于{at}完成电子签名。如非本人操作，请立即联系登记机关。",
    "sign_declined": "「{name}」{business}申请：{signer}拒绝签名，理由：{reason}。",
    "application_result": "您提交的「{name}」{business}申请{result}。",
}


async def enqueue_sms(phone: str, template: str, params: dict, *, connection=None) -> OutboxMessage:
    if template not in TEMPLATES:
        raise ValueError(f"unknown SMS template {template}")
    return await OutboxMessage.create(channel="sms", recipient=phone, template=template,
                                      params={k: str(v) for k, v in params.items()}, next_attempt_at=now(),
                                      using_db=connection)


async def enqueue_wechat(openid: str, template: str, data: dict, page: str | None = None, *,
                         connection=None) -> OutboxMessage:
    return await OutboxMessage.create(channel="wechat", recipient=openid, template=template,
                                      params={k: str(v) for k, v in data.items()}, page=page, next_attempt_at=now(),
                                      using_db=connection)
