"""Notifications: messages enter the outbox in the caller's transaction; a background sender delivers them.

Also the rules around them: per-phone limits like the providers' own, SMS verification codes, and what staff
and developers may see of the messages.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import string
import uuid
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.functions import Count

from server.cache import Cache
from server.config import Settings
from server.errors import Invalid, RateLimited
from server.models.accounts import Applicant
from server.models.notifications import CHANNELS, KINDS, OUTBOX_STATUSES, DevSms, OutboxMessage
from server.services.pagination import decode_cursor, encode_cursor, total_of
from server.clock import now
from server.crypto import blind_index
from server.services.accounts.staff import require_role
from server.services.applications.identifiers import filing_reference, mask_phone, mobile_problem
from server.services.authorities import level_of, scope_prefix

# Template name → the text the development sink renders (real providers map names to template codes in config).
TEMPLATES = {
    "sms_code": "您的验证码为{code}，{minutes}分钟内有效。如非本人操作请忽略。",
    "cloud_approved": "您提交的「{name}」{business}申请已通过云帮办审核，材料已锁定，请通知全部有权签字人完成电子签名。",
    "cloud_returned": "您提交的「{name}」{business}申请已退回修改，请在一窗通小程序“办理进度”中查看意见并修改。",
    "signing_link": "{signer}您好：「{name}」{business}申请请您以{role}身份电子签名，链接{hours}小时内有效：{link}",
    # With a WeChat URL Link (signing.wechat_url_link): the same, plus the way straight into the mini-program.
    "signing_link_wechat": "{signer}您好：「{name}」{business}申请请您以{role}身份电子签名，链接{hours}小时内有效：{link} 微信中打开：{wxlink}",
    "signing_reminder": "{signer}您好：「{name}」{business}申请尚待您以{role}身份电子签名，链接将于{deadline}失效：{link}",
    "signing_expired": "「{name}」{business}申请：{signer}的签名链接已于{deadline}过期未签名，请在一窗通小程序中重新发送签名链接。",
    "signing_cancelled": "{signer}您好：「{name}」{business}申请{cause}，此前发给您的签名链接已失效，无需签名。",
    "signing_complete": "「{name}」{business}申请：全部有权签字人已完成电子签名，{next}。",
    "signed_notice": "「{name}」{business}申请（材料摘要{hash}）：{signers}完成电子签名。如非本人操作，请立即联系登记机关。",
    "sign_declined": "「{name}」{business}申请：{signer}拒绝签名，理由：{reason}。申请已退回修改，原签名作废。",
    "cloud_unlocked": "您提交的「{name}」{business}申请已撤销锁定并退回修改，理由：{reason}。原签名作废，请修改后重新提交。",
    "application_result": "您提交的「{name}」{business}申请{result}。",
    "appointment_booked": "您已预约{point}{time}办理{business}，签到码{code}，地址：{address}。如需取消请在小程序中操作。",
    "appointment_reminder": "提醒：您预约了{time}在{point}办理{business}，签到码{code}，地址：{address}。",
    "account_signing_link": "{signer}您好：{agent}申请为「{entity}」注册法人账号，请您在{hours}小时内完成人脸核验并电子签署法定代表人授权委托书：{link}",
    "account_declined": "「{entity}」法人注册：法定代表人拒绝签署授权委托书，理由：{reason}。",
    "account_result": "「{entity}」法人注册{result}。",
    "license_ready": "「{name}」的营业执照已打印，请携带身份证件到{place}登记窗口领取。",
    "license_handed_over": "「{name}」的营业执照（编号{serial}）已由{collector}在{place}领取。如非本人委托，请立即联系登记机关。",
    "license_posted": "「{name}」的营业执照已邮寄，{carrier}运单号{tracking}，请注意查收。",
    "annual_report_reminder": "「{name}」请于{deadline}前通过国家企业信用信息公示系统报送{year}年度年度报告，逾期将被列入经营异常名录。",
    "weekly_report": "{authority}登记业务统计周报（{period}）：提交审核{submitted}件，退件{returned}件，退件率{return_rate}，"
                     "云帮办占比{cloud_share}，减少电子签名{signatures_saved}人次。"
                     "Excel：{xlsx}　PDF：{pdf}（登录综合业务系统后下载）。",
}
EMAIL_SUBJECTS = {"signed_notice": "电子签名确认通知（事后确认）", "weekly_report": "登记业务统计周报"}
# Parameters that must not outlive delivery in the outbox table (the code itself is kept only hashed).
SECRET_PARAMS = {"sms_code": ("code",), "signing_link": ("link", "wxlink"), "signing_link_wechat": ("link", "wxlink"),
                 "signing_reminder": ("link",), "account_signing_link": ("link",)}
# The class of each template (models.notifications.KINDS); anything not named is transactional.
TEMPLATE_KINDS = {"sms_code": "code", "signed_notice": "notice", "annual_report_reminder": "notice",
                  "weekly_report": "notice"}
SMS_CODE_DIGITS = 6

# Per-phone windows like the providers' own: (config key, seconds).
PHONE_WINDOWS = (("per_minute", 60), ("per_hour", 3600), ("per_day", 86400))


def template_params(template: str) -> list[str]:
    """The named placeholders of an SMS template, in the order the text uses them (Tencent's {1}, {2} …)."""
    names: list[str] = []
    for _, name, _, _ in string.Formatter().parse(TEMPLATES[template]):
        if name and name not in names:
            names.append(name)
    return names


def render(template: str, params: dict[str, str]) -> str:
    return TEMPLATES[template].format(**params)


def _sms_params(template: str, params: dict) -> dict[str, str]:
    if template not in TEMPLATES:
        raise ValueError(f"unknown SMS template {template}")
    values = {key: str(value) for key, value in params.items()}
    missing = [name for name in template_params(template) if name not in values]
    if missing:
        raise ValueError(f"SMS template {template} needs {', '.join(missing)}")
    return values


def kind_of(template: str) -> str:
    return TEMPLATE_KINDS.get(template, "transactional")


def _class_fields(template: str) -> dict:
    kind = kind_of(template)
    return {"kind": kind, "priority": KINDS.index(kind)}


async def enqueue_sms(phone: str, template: str, params: dict, *, connection=None, at=None,
                      reference: str | None = None, authority: str | None = None) -> OutboxMessage:
    """An SMS, due now or at `at` (a reminder); `reference` lets cancel_scheduled withdraw it."""
    return await OutboxMessage.create(channel="sms", recipient=phone, template=template,
                                      params=_sms_params(template, params), next_attempt_at=at or now(),
                                      reference=reference, authority_code=authority, using_db=connection,
                                      **_class_fields(template))


def sms_row(phone: str, template: str, params: dict, *, not_before=None, created_at=None) -> dict:
    """Every column of one pending SMS outbox row, for callers that insert many at once (annual-report reminders);
    `not_before` holds it until then."""
    moment = now()
    return {"id": uuid.uuid4(), "channel": "sms", **_class_fields(template), "reference": None, "recipient": phone,
            "recipient_index": None,  # computed from recipient on insert
            "template": template,
            "params": _sms_params(template, params), "page": None, "status": "pending", "attempts": 0,
            "next_attempt_at": not_before or moment, "lease_until": None, "claim_token": None, "quota_counted": False,
            "last_error": None, "provider_message_id": None, "created_at": created_at or moment, "sent_at": None,
            "authority_code": None}


async def enqueue_email(address: str, template: str, params: dict, *, connection=None) -> OutboxMessage:
    """An e-mail due now, written in the caller's transaction."""
    return await OutboxMessage.create(channel="email", recipient=address, template=template,
                                      params=_sms_params(template, params), next_attempt_at=now(),
                                      using_db=connection, **_class_fields(template))


async def enqueue_wechat(openid: str, template: str, data: dict, page: str | None = None, *,
                         connection=None, at=None, reference: str | None = None,
                         authority: str | None = None) -> OutboxMessage:
    """A subscribe message; `data` maps the template's keys (thing1, time2 …) to plain values."""
    return await OutboxMessage.create(channel="wechat", recipient=openid, template=template,
                                      params={k: str(v) for k, v in data.items()}, page=page,
                                      next_attempt_at=at or now(), reference=reference, authority_code=authority,
                                      using_db=connection, **_class_fields(template))


async def notify_applicant(application, template: str, params: dict, *, connection) -> None:
    """The applicant (经办人): an SMS when they bound a phone, and a WeChat subscribe message."""
    applicant = await Applicant.get(id=application.applicant_id).using_db(connection)
    if applicant.phone:
        await enqueue_sms(applicant.phone, template, params, connection=connection,
                          authority=application.authority_id)
    await enqueue_wechat(applicant.openid, template, params, page=f"pages/application/detail?id={application.id}",
                         connection=connection, authority=application.authority_id)


async def enqueue_notice(channel: str, recipient: str, topic: str, params: dict, signer: str, window_seconds: int,
                         *, connection, authority: str | None = None) -> OutboxMessage:
    """事后确认: one message per recipient and topic (an application) within the window, listing every signer.

    The first notice waits `window_seconds` for the others; a later one joins it while it is still waiting
    (a guarded update on the pending row), or starts a new message once the first has gone out.
    """
    reference = f"notice:{topic}"
    waiting = await (OutboxMessage.filter(channel=channel, recipient_index=blind_index(recipient), reference=reference, status="pending")
                     .select_for_update().using_db(connection).first())
    if waiting is not None:
        signers = f"{waiting.params['signers']}、{signer}"
        joined = await OutboxMessage.filter(id=waiting.id, status="pending").using_db(connection).update(
            params={**waiting.params, "signers": signers})
        if joined:
            return waiting
    values = _sms_params("signed_notice", {**params, "signers": signer})
    return await OutboxMessage.create(channel=channel, recipient=recipient, template="signed_notice", params=values,
                                      next_attempt_at=now() + timedelta(seconds=window_seconds), reference=reference,
                                      authority_code=authority, using_db=connection, **_class_fields("signed_notice"))


async def cancel_scheduled(reference: str, *, connection) -> int:
    """Withdraw the messages about `reference` not yet sent (reminders of a link that was signed, declined …)."""
    return await OutboxMessage.filter(reference=reference, status="pending").using_db(connection).update(
        status="cancelled", params={}, last_error="不再需要发送（已签名、已拒绝、已重新发送或已撤销）")


NOTARY_RECIPIENT = "notary"
NOTARY_TEMPLATE = "evidence_entry"


async def enqueue_notary(entry, kind: str, recorded_at: str, *, connection=None) -> OutboxMessage:
    """One evidence entry for the notary's data centre: hashes and the filing's reference, no personal data."""
    return await OutboxMessage.create(channel="notary", recipient=NOTARY_RECIPIENT, template=NOTARY_TEMPLATE, params={
        "seq": entry.seq, "entry_hash": entry.entry_hash, "prev_hash": entry.prev_hash, "kind": kind,
        "recorded_at": recorded_at, "application_id": str(entry.application_id),
        "filing_reference": filing_reference(entry.application_id),
    }, next_attempt_at=now(), using_db=connection)


def subscribe_template_id(settings: Settings, template: str) -> str | None:
    """wechat.subscribe_templates names the real ids; the stand-in WeChat server accepts a default per name."""
    configured = settings.wechat.subscribe_templates.get(template)
    if configured:
        return configured
    return f"dev-{template}" if settings.wechat.mount_mock else None


# --- Per-phone limits -------------------------------------------------------------------------------------------

def phone_limits(settings: Settings, kind: str):
    """The per-phone limits of a message class: codes keep the top-level sms.per_* keys."""
    return settings.sms if kind == "code" else getattr(settings.sms, kind)


async def take_phone_quota(cache: Cache, settings: Settings, phone: str, kind: str = "code") -> float:
    """Count one SMS of this class to this phone in all three windows at once; 0 when allowed, else seconds to wait.

    Each class has its own budget, so a flood of notices never holds back a signing link or a code.
    """
    return await cache.take_windows(_quota_windows(settings, phone, kind))


async def take_phone_quotas(cache: Cache, settings: Settings, wanted: list[tuple[str, str]]) -> list[float]:
    """take_phone_quota for each (phone, kind), in one round trip (the outbox's batch)."""
    return await cache.take_windows_many([_quota_windows(settings, phone, kind) for phone, kind in wanted])


def phone_cache_key(phone: str) -> str:
    """How a phone appears in cache keys: its blind index, so a look at Redis shows no phone numbers."""
    return blind_index(phone)


def _quota_windows(settings: Settings, phone: str, kind: str) -> list[tuple[str, int, float]]:
    limits = phone_limits(settings, kind)
    scope = "" if kind == "code" else f"{kind}:"
    # The braces keep a phone's three keys in one Redis Cluster slot, as the atomic script needs.
    return [(f"sms-quota:{{{phone_cache_key(phone)}}}:{scope}{seconds}", getattr(limits, key), seconds)
            for key, seconds in PHONE_WINDOWS]


# --- SMS verification codes ---------------------------------------------------------------------------------------

def _code_hash(settings: Settings, phone: str, code: str) -> str:
    # Keyed with the server secret: six digits alone would be a million guesses away from a leaked cache.
    return hmac.new(settings.secret_key.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _check_phone(phone: str, field: str = "phone") -> None:
    problem = mobile_problem(phone)
    if problem:
        raise Invalid(field, problem)


async def send_sms_code(cache: Cache, settings: Settings, phone: str) -> dict:
    """A fresh 6-digit code for this phone, sent through the outbox; 429 beyond the per-phone limits."""
    _check_phone(phone)
    wait = await take_phone_quota(cache, settings, phone)
    if wait:
        seconds = math.ceil(wait)
        raise RateLimited(seconds, f"短信发送过于频繁，请{seconds}秒后再试", field="phone")
    code = f"{secrets.randbelow(10 ** SMS_CODE_DIGITS):0{SMS_CODE_DIGITS}d}"
    ttl = settings.sms.code_ttl_seconds
    await cache.set(f"sms-code:{phone_cache_key(phone)}", _code_hash(settings, phone, code), ttl=ttl)
    await cache.delete(f"sms-code-tries:{phone_cache_key(phone)}")
    await OutboxMessage.create(channel="sms", recipient=phone, template="sms_code",
                               params={"code": code, "minutes": str(ttl // 60)}, next_attempt_at=now(),
                               quota_counted=True, **_class_fields("sms_code"))
    return {"expires_in": ttl}


async def verify_sms_code(cache: Cache, settings: Settings, phone: str, code: str) -> bool:
    """True when the code is right (it is then used up); Invalid naming sms_code otherwise.

    Every try counts before the comparison, so concurrent guesses cannot exceed sms.code_max_attempts;
    the try that reaches the limit without the right code kills it.
    """
    _check_phone(phone)
    if not isinstance(code, str) or len(code) != SMS_CODE_DIGITS or not code.isdigit():
        raise Invalid("sms_code", "验证码应为6位数字")
    stored = await cache.get(f"sms-code:{phone_cache_key(phone)}")
    if stored is None:
        raise Invalid("sms_code", "验证码已失效，请重新获取", code="sms_code_expired")
    limit = settings.sms.code_max_attempts
    tries = await cache.incr(f"sms-code-tries:{phone_cache_key(phone)}", 1, ttl=settings.sms.code_ttl_seconds)
    if tries > limit:
        await cache.delete(f"sms-code:{phone_cache_key(phone)}")
        raise Invalid("sms_code", "验证码错误次数过多，已失效，请重新获取", code="sms_code_locked")
    if hmac.compare_digest(stored, _code_hash(settings, phone, code)):
        if await cache.getdel(f"sms-code:{phone_cache_key(phone)}") == stored:
            await cache.delete(f"sms-code-tries:{phone_cache_key(phone)}")
            return True
        raise Invalid("sms_code", "验证码已失效，请重新获取", code="sms_code_expired")
    if tries >= limit:
        await cache.delete(f"sms-code:{phone_cache_key(phone)}")
        raise Invalid("sms_code", "验证码错误次数过多，已失效，请重新获取", code="sms_code_locked")
    raise Invalid("sms_code", f"验证码不正确，还可尝试{limit - tries}次", code="sms_code_wrong")


# --- What staff and developers see ----------------------------------------------------------------------------------

def _masked_recipient(message: OutboxMessage) -> str:
    if message.channel == "sms":
        return mask_phone(message.recipient)
    if message.channel == "email":
        local, _, domain = message.recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    if message.channel == "notary":
        return message.recipient
    return message.recipient[:6] + "****" if len(message.recipient) > 6 else "****"


def message_view(message: OutboxMessage) -> dict:
    """For staff: never the parameters (a verification code, a signing link), and the phone masked."""
    return {
        "id": str(message.id), "channel": message.channel, "recipient": _masked_recipient(message),
        "template": message.template, "kind": message.kind, "status": message.status, "attempts": message.attempts,
        "last_error": message.last_error, "next_attempt_at": message.next_attempt_at.isoformat(),
        "created_at": message.created_at.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }


async def messages_for_staff(staff, status: str | None = None, channel: str | None = None, limit: int = 50,
                             cursor: str | None = None) -> dict:
    """The messages of the administrator's scope (their authority and those under it; messages about no authority
    at province level only), newest first, by keyset on (created_at, id) (index outbox_message_listing)."""
    require_role(staff, "admin")
    after = decode_cursor(cursor, 2)
    if status is not None and status not in OUTBOX_STATUSES:
        raise Invalid("status", f"status 应为 {'、'.join(OUTBOX_STATUSES)} 之一")
    if channel is not None and channel not in CHANNELS:
        raise Invalid("channel", f"channel 应为 {'、'.join(CHANNELS)} 之一")
    query = OutboxMessage.filter(_in_scope(staff))
    if status:
        query = query.filter(status=status)
    if channel:
        query = query.filter(channel=channel)
    page = query
    if after:
        try:
            created_at = datetime.fromisoformat(after[0])
        except (TypeError, ValueError):
            raise Invalid("cursor", "翻页标记无效，请从第一页重新浏览") from None
        page = query.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=after[1]))
    rows = await page.order_by("-created_at", "-id").limit(limit + 1)
    next_cursor = encode_cursor([rows[limit - 1].created_at.isoformat(), str(rows[limit - 1].id)]) \
        if len(rows) > limit else None
    rows = rows[:limit]
    total, exact = await total_of(query)
    counts = await (OutboxMessage.filter(_in_scope(staff)).annotate(n=Count("id")).group_by("status")
                    .values_list("status", "n"))
    return {
        "total": total, "total_exact": exact, "next_cursor": next_cursor,
        "counts": {name: 0 for name in OUTBOX_STATUSES} | dict(counts),
        "items": [message_view(row) for row in rows],
    }


def _in_scope(staff) -> Q:
    in_scope = Q(authority_code__startswith=scope_prefix(staff.authority))
    return in_scope | Q(authority_code__isnull=True) if level_of(staff.authority.code) == "province" else in_scope


async def dev_sms(phone: str | None = None, limit: int = 100) -> list[dict]:
    """What the development sink received, newest first."""
    query = DevSms.all()
    if phone:
        query = query.filter(phone_index=blind_index(phone))
    rows = await query.order_by("-at", "-id").limit(limit)
    return [{"id": row.out_id, "phone": row.phone, "template": row.template, "params": row.params, "text": row.text,
             "at": row.at.isoformat()} for row in rows]
