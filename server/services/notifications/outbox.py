"""The outbox sender: claims due messages with a guarded write, delivers them, records the outcome.

Every server worker runs one. A claim is one conditional UPDATE (status pending and due, or 'sending' with an
expired lease) under SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so with several workers or hosts exactly
one sender holds a message; every later write is guarded by its claim token. No database connection is held
while a provider is called. A message whose outcome is unknown (its sender died, or a call timed out) is first
looked up at the provider by its id, which went out as the provider's idempotency / session context, and sent
again only if the provider does not have it: a crash neither loses nor doubles an SMS. WeChat's subscribe API has
no idempotency key and no way to ask what it received, so a subscribe message whose outcome is unknown is sent
again: the one window for a repeat is between WeChat's answer and our write of it.
"""
from __future__ import annotations

import asyncio
import logging
import random
import secrets
from datetime import timedelta

from sanic import Sanic
from tortoise.expressions import F, Q
from tortoise.expressions import Expression
from tortoise.transactions import in_transaction

from server.cache import Cache
from server.config import Settings
from server.metrics import record_outcome
from server.models.documents import NotaryReceipt
from server.models.notifications import OutboxMessage
from server.models.signing import EvidenceEntry
from server.notary import NotaryClient, make_notary_client
from server.clock import now
from server.services.applications.identifiers import mask_phone
from server.mail import MailSender
from server.services.notifications.messages import (
    EMAIL_SUBJECTS,
    SECRET_PARAMS,
    render,
    subscribe_template_id,
    take_phone_quota,
    take_phone_quotas,
    template_params,
)
from server.sms import (
    DeliveryError,
    PermanentFailure,
    SmsMessage,
    SmsProvider,
    TemporaryFailure,
    Throttled,
    make_sms_provider,
)
from server.wechat import RATE_LIMITED, SUBSCRIPTION_REFUSED, SYSTEM_BUSY, WeChatError, WeChatGateway

log = logging.getLogger("yct.outbox")


class RecipientRefused(DeliveryError):
    """WeChat 43101: the user has not (or no longer) subscribed to this message. Final, never retried."""


# WeChat answers worth another try: busy, rate limited, token expired (wechatpy refreshes it), unreachable.
_WECHAT_TEMPORARY = {SYSTEM_BUSY, RATE_LIMITED, 40001, 42001, 45009, None}


def _wechat_failure(exc: WeChatError) -> DeliveryError:
    code = "wechat" if exc.errcode is None else str(exc.errcode)
    if exc.errcode == SUBSCRIPTION_REFUSED:
        return RecipientRefused(code, "用户未订阅该消息（43101）")
    if exc.errcode in _WECHAT_TEMPORARY:
        return TemporaryFailure(code, exc.errmsg)
    return PermanentFailure(code, exc.errmsg)


class OutboxSender:
    def __init__(self, settings: Settings, cache: Cache, sms: SmsProvider, wechat: WeChatGateway | None,
                 notary: NotaryClient | None = None, mail: MailSender | None = None):
        self.settings = settings
        self.cache = cache
        self.sms = sms
        self.wechat = wechat
        self.notary = notary
        self.mail = mail
        # One pass at a time in this process: deliver_due() called by a test waits for the loop's pass to end.
        self._pass = asyncio.Lock()
        self._task: asyncio.Task | None = None
        # Provider calls in flight, per provider (outbox.provider_concurrency, else outbox.concurrency).
        self._slots: dict[str, asyncio.Semaphore] = {}
        # Per-phone limits counted for the round in one batch: message id → seconds to wait (0: counted).
        self._quota_waits: dict = {}
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    # --- the loop ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="outbox-sender")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Finish the message in hand (up to grace_seconds), then stop; what is left stays in the outbox."""
        if self._task is None:
            return
        self._stopping.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except asyncio.TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        self._stopping.clear()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.deliver_due()
            except Exception:
                log.exception("outbox pass failed; trying again after the poll interval")
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox.poll_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    # --- one pass ---------------------------------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Deliver every message due now, round after round; how many this pass handled."""
        async with self._pass:
            handled = 0
            while not self._stopping.is_set():
                claimed = await self._claim()
                if not claimed:
                    break
                await self._take_quotas(claimed)
                outcomes = await asyncio.gather(*(self._deliver_in_slot(row) for row in claimed))
                self._quota_waits.clear()
                await self._record(claimed, outcomes)
                handled += len(claimed)
            return handled

    async def _claim(self) -> list[OutboxMessage]:
        """At most `batch_size` rows in one guarded UPDATE; the round sends them within their lease."""
        cfg = self.settings.outbox
        moment = now()
        token = secrets.token_hex(16)
        due = Q(status="pending", next_attempt_at__lte=moment) | Q(status="sending", lease_until__lt=moment)
        async with in_transaction() as connection:
            # Codes first, then transactional messages, notices last: a queue of notices never delays a link.
            candidates = await (OutboxMessage.filter(due).order_by("priority", "next_attempt_at").limit(cfg.batch_size)
                                .select_for_update(skip_locked=True).only("id").using_db(connection))
            if not candidates:
                return []
            # The guard: a row another sender claimed since the SELECT no longer matches `due` and is left alone.
            await OutboxMessage.filter(due, id__in=[row.id for row in candidates]).using_db(connection).update(
                status="sending", claim_token=token, lease_until=moment + timedelta(seconds=cfg.lease_seconds),
                attempts=F("attempts") + 1)
        # In the claim's order: the round counts quotas and takes sending slots in list order, so a link claimed
        # beside notices must come first here too (rows come back in storage order otherwise).
        return await OutboxMessage.filter(claim_token=token, status="sending").order_by("priority", "next_attempt_at")

    async def _take_quotas(self, rows: list[OutboxMessage]) -> None:
        """The per-phone limits of the round's first attempts at SMS, counted together (later attempts first ask the
        provider whether it already has the message, and only then count)."""
        first = [row for row in rows if row.channel == "sms" and row.attempts == 1 and not row.quota_counted]
        if first:
            waits = await take_phone_quotas(self.cache, self.settings, [(row.recipient, row.kind) for row in first])
            self._quota_waits.update((row.id, wait) for row, wait in zip(first, waits))

    def _provider(self, row: OutboxMessage) -> str:
        return self.settings.sms.provider if row.channel == "sms" else row.channel

    async def _deliver_in_slot(self, row: OutboxMessage) -> dict:
        provider = self._provider(row)
        if provider not in self._slots:
            cfg = self.settings.outbox
            self._slots[provider] = asyncio.Semaphore(cfg.provider_concurrency.get(provider, cfg.concurrency))
        async with self._slots[provider]:
            return await self._deliver(row)

    async def _deliver(self, row: OutboxMessage) -> dict:
        """One message to its provider; the row's next state (written later, with the whole round's)."""
        try:
            senders = {"sms": self._send_sms, "wechat": self._send_wechat, "email": self._send_email,
                       "notary": self._send_notary}
            provider_id = await senders[row.channel](row)
        except Throttled as exc:
            return self._held(row, exc.retry_after, f"{exc.code}: {exc.message}")
        except RecipientRefused as exc:
            return self._final(row, "refused", f"{exc.code}: {exc.message}")
        except PermanentFailure as exc:
            return self._final(row, "failed", f"{exc.code}: {exc.message}")
        except TemporaryFailure as exc:
            return self._retry_or_fail(row, f"{exc.code}: {exc.message}")
        except Exception as exc:
            log.exception("outbox message %s: unexpected error", row.id)
            return self._retry_or_fail(row, f"internal: {exc.__class__.__name__}")
        return {"status": "sent", "sent_at": now(), "provider_message_id": provider_id, "params": self._scrubbed(row)}

    # --- the channels -----------------------------------------------------------------------------------------------

    async def _send_sms(self, row: OutboxMessage) -> str | None:
        try:
            message = SmsMessage(id=str(row.id), phone=row.recipient, template=row.template, params=row.params,
                                 text=render(row.template, row.params), param_order=template_params(row.template),
                                 created_at=row.created_at)
        except (KeyError, IndexError, ValueError) as exc:
            raise PermanentFailure("bad_template", f"短信模板或参数无效：{exc}") from None
        if row.attempts > 1:
            # An earlier attempt may have reached the provider (sender died, call timed out): ask before resending.
            accepted = await self.sms.find(message)
            if accepted is not None:
                log.info("outbox message %s to %s: the provider already had it", row.id, mask_phone(row.recipient))
                return accepted.provider_id
        if row.attempts > self.settings.outbox.max_attempts:
            raise PermanentFailure("attempts_exhausted", "发送尝试次数已用完")
        if not row.quota_counted:
            wait = self._quota_waits.pop(row.id) if row.id in self._quota_waits else \
                await take_phone_quota(self.cache, self.settings, row.recipient, row.kind)
            if wait:
                raise Throttled("phone_limit", "该号码已达发送频率上限，顺延发送", wait)
            row.quota_counted = True
        accepted = await self.sms.send(message)
        return accepted.provider_id

    async def _send_email(self, row: OutboxMessage) -> str:
        if self.mail is None:
            raise PermanentFailure("email_disabled", "email.enabled 未开启")
        if row.attempts > self.settings.outbox.max_attempts:
            raise PermanentFailure("attempts_exhausted", "发送尝试次数已用完")
        try:
            text = render(row.template, row.params)
        except (KeyError, IndexError, ValueError) as exc:
            raise PermanentFailure("bad_template", f"邮件模板或参数无效：{exc}") from None
        return await self.mail.send(str(row.id), row.recipient, EMAIL_SUBJECTS.get(row.template, "一窗通通知"), text)

    async def _send_wechat(self, row: OutboxMessage) -> str | None:
        if self.wechat is None:
            raise TemporaryFailure("wechat_unavailable", "微信接口未配置")
        template_id = subscribe_template_id(self.settings, row.template)
        if not template_id:
            raise PermanentFailure("template_not_configured", f"wechat.subscribe_templates 未配置模板 {row.template}")
        if row.attempts > self.settings.outbox.max_attempts:
            raise PermanentFailure("attempts_exhausted", "发送尝试次数已用完")
        data = {key: {"value": value} for key, value in row.params.items()}
        try:
            result = await self.wechat.send_subscribe_message(row.recipient, template_id, data, row.page)
        except WeChatError as exc:
            raise _wechat_failure(exc) from None
        return str(result.get("msgid")) if result.get("msgid") is not None else None

    async def _send_notary(self, row: OutboxMessage) -> str:
        """One evidence entry to the notary's data centre, with the chain head as of now; its receipt is kept."""
        if self.notary is None:
            raise TemporaryFailure("notary_disabled", "notary.enabled 未开启，公证推送暂缓")
        if row.attempts > self.settings.outbox.max_attempts:
            raise PermanentFailure("attempts_exhausted", "发送尝试次数已用完")
        head = await EvidenceEntry.all().order_by("-seq").first().values("seq", "entry_hash")
        record = {**row.params, "chain_head": head}
        receipt = await self.notary.push(record, str(row.id))
        await NotaryReceipt.get_or_create(seq=int(row.params["seq"]), defaults={
            "application_id": row.params["application_id"], "entry_hash": row.params["entry_hash"],
            "receipt_id": receipt})
        return receipt

    # --- recording the outcome (every write guarded by the claim) ---------------------------------------------------

    async def _record(self, rows: list[OutboxMessage], outcomes: list[dict]) -> None:
        """One transaction for the round: the rows still ours are locked, then written with one statement per shape
        of outcome (executemany: pipelined on PostgreSQL). A crash before it commits leaves the rows 'sending':
        once their lease runs out they are looked up at the provider, so nothing is sent twice."""
        if not rows:
            return
        async with in_transaction() as connection:
            # The guard: rows whose lease ran out and that another sender claimed meanwhile are no longer ours.
            ours = set(await OutboxMessage.filter(id__in=[row.id for row in rows], status="sending",
                                                  claim_token=rows[0].claim_token)
                       .select_for_update().using_db(connection).values_list("id", flat=True))
            shapes: dict[tuple[str, ...], list[tuple[OutboxMessage, dict]]] = {}
            for row, fields in zip(rows, outcomes):
                if row.id not in ours:
                    log.warning("outbox message %s changed while we delivered it (our lease ran out); "
                                "outcome not recorded", row.id)
                    continue
                if any(isinstance(value, Expression) for value in fields.values()):
                    # A held message gives its attempt back (attempts - 1): rare, written on its own.
                    await OutboxMessage.filter(id=row.id, claim_token=row.claim_token).using_db(connection).update(
                        claim_token=None, lease_until=None, **fields)
                else:
                    shapes.setdefault(tuple(sorted(fields)), []).append((row, fields))
                outcome = fields["status"] if fields["status"] != "pending" else (
                    "held" if "attempts" in fields else "retry")
                record_outcome(row.channel, self._provider(row), row.kind, outcome)
            for columns, items in shapes.items():
                await connection.execute_many(_update_statement(connection, columns), [
                    [_db_value(column, fields[column]) for column in columns] + [str(row.id), row.claim_token]
                    for row, fields in items])

    @staticmethod
    def _scrubbed(row: OutboxMessage) -> dict:
        secret = SECRET_PARAMS.get(row.template, ())
        return {key: ("******" if key in secret else value) for key, value in row.params.items()}

    def _final(self, row: OutboxMessage, status: str, error: str) -> dict:
        log.warning("outbox message %s (%s %s) %s: %s", row.id, row.channel, row.template, status, error)
        return {"status": status, "last_error": error, "params": self._scrubbed(row)}

    @staticmethod
    def _held(row: OutboxMessage, wait: float, reason: str) -> dict:
        """Held by a per-phone limit: back in line when the window frees; the attempt is given back."""
        return {"status": "pending", "next_attempt_at": now() + timedelta(seconds=wait),
                "attempts": F("attempts") - 1, "last_error": reason}

    def _retry_or_fail(self, row: OutboxMessage, error: str) -> dict:
        cfg = self.settings.outbox
        if row.attempts >= cfg.max_attempts:
            return self._final(row, "failed", f"{error}（已尝试{row.attempts}次）")
        delay = min(cfg.retry_max_seconds, cfg.retry_base_seconds * 2 ** (row.attempts - 1))
        delay *= random.uniform(0.8, 1.0)  # spread retries so a provider outage does not end in one burst
        # The quota of this attempt stays counted, so the retry does not pay it twice.
        return {"status": "pending", "next_attempt_at": now() + timedelta(seconds=delay), "last_error": error,
                "quota_counted": row.quota_counted}


def _update_statement(connection, columns: tuple[str, ...]) -> str:
    """UPDATE of one outcome shape, guarded by the claim, with the placeholders of the connection's dialect."""
    postgres = connection.capabilities.dialect == "postgres"
    mark = (lambda n: f"${n}") if postgres else (lambda n: "?")
    assignments = ", ".join(f'"{column}" = {mark(n)}' for n, column in enumerate(columns, start=1))
    return (f'UPDATE "outbox_message" SET "claim_token" = NULL, "lease_until" = NULL, {assignments} '
            f'WHERE "id" = {mark(len(columns) + 1)} AND "status" = \'sending\' AND "claim_token" = {mark(len(columns) + 2)}')


def _db_value(column: str, value):
    return OutboxMessage._meta.fields_map[column].to_db_value(value, OutboxMessage)


async def deliver_due(app_ctx) -> int:
    """Deliver what is due now with this app's sender (tests await this instead of waiting for the loop)."""
    return await app_ctx.outbox.deliver_due()


def install_sender(app: Sanic) -> None:
    """The SMS provider from config (a wrong setting stops the start), and in development the sender started with
    the server; in production `python -m server worker` processes send and web workers only serve."""
    settings: Settings = app.ctx.settings
    app.ctx.sms = make_sms_provider(settings)

    @app.after_server_start
    async def start_outbox_sender(app: Sanic):
        app.ctx.notary = make_notary_client(settings)
        app.ctx.outbox = OutboxSender(settings, app.ctx.cache, app.ctx.sms, app.ctx.wechat, app.ctx.notary,
                                      _mail_sender(app, settings))
        if settings.outbox.enabled and settings.mode == "development":
            app.ctx.outbox.start()

    @app.before_server_stop
    async def stop_outbox_sender(app: Sanic):
        await app.ctx.outbox.stop()
        if app.ctx.notary is not None:
            await app.ctx.notary.close()
        if getattr(app.ctx, "mail_server", None) is not None:
            app.ctx.mail_server.stop()


def _mail_sender(app: Sanic, settings: Settings) -> MailSender | None:
    """SMTP to email.host; without one (development), to the stand-in this process starts."""
    if not settings.email.enabled:
        return None
    if settings.email.host:
        return MailSender(settings, settings.email.host, settings.email.port or 25)
    if not settings.email.mount_mock:
        return None
    from mailmock import MailServer

    app.ctx.mail_server = MailServer(app.ctx.mail_state)
    app.ctx.mail_server.start()
    return MailSender(settings, app.ctx.mail_server.host, app.ctx.mail_server.port)
