"""The outbox: written in the caller's transaction, delivered once by whichever sender claims it, surviving a
killed sender, held (never dropped) by per-phone limits; WeChat subscribe messages; the staff and dev views."""
import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from server.app import create_app
from server.models.notifications import DevSms, OutboxMessage
from server.clock import now
from server.services.notifications.messages import enqueue_sms, enqueue_wechat
from server.services.notifications.outbox import OutboxSender, deliver_due
from server.sms import SmsMessage
from server.sms.dev_sink import DevSinkProvider
from tests.helpers import create_staff, delivered_sms

ROOT = Path(__file__).resolve().parent.parent
RESULT = {"name": "云帆（崇左）科技有限公司", "business": "设立登记", "result": "已核准"}
# A 事后确认 notice: its class keeps the providers' own per-phone limits (1 a minute).
NOTICE = {"name": "云帆（崇左）科技有限公司", "business": "设立登记", "hash": "3f2a9c1d", "signers": "张三于2026-11-23 10:00"}


def phone(n: int) -> str:
    return f"139{n:08d}"


async def test_sms_enqueued_in_a_transaction_reaches_the_sink_with_its_text(client, server):
    async with in_transaction() as connection:
        row = await enqueue_sms(phone(1), "application_result", RESULT, connection=connection)

    [sms] = await delivered_sms(client, server)
    assert sms["id"] == str(row.id) and sms["phone"] == phone(1) and sms["template"] == "application_result"
    assert sms["params"] == RESULT
    assert sms["text"] == "您提交的「云帆（崇左）科技有限公司」设立登记申请已核准。"
    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "sent" and stored.attempts == 1 and stored.sent_at is not None


async def test_background_sender_of_the_server_delivers_on_its_own(client, server):
    row = await enqueue_sms(phone(8), "application_result", RESULT)
    server.app.ctx.outbox.wake()
    for _ in range(100):
        listed = (await client.get("/dev/sms")).json()
        if listed:
            break
        await asyncio.sleep(0.05)
    assert [sms["id"] for sms in listed] == [str(row.id)]


async def test_message_of_a_rolled_back_transaction_is_never_sent(client, server):
    class Abandoned(Exception):
        pass

    try:
        async with in_transaction() as connection:
            await enqueue_sms(phone(2), "application_result", RESULT, connection=connection)
            raise Abandoned()
    except Abandoned:
        pass
    assert await delivered_sms(client, server) == []
    assert await OutboxMessage.all().count() == 0


async def test_dev_sms_lists_newest_first_and_filters_by_phone(client, server):
    for n in range(3):
        await enqueue_sms(phone(10 + n), "application_result", {**RESULT, "result": f"第{n}条"})
        await deliver_due(server.app.ctx)
    listed = await delivered_sms(client, server)
    assert [sms["phone"] for sms in listed] == [phone(12), phone(11), phone(10)]
    assert [sms["phone"] for sms in await delivered_sms(client, server, phone(11))] == [phone(11)]
    assert (await client.get("/dev/sms", params={"limit": "many"})).json()["error"]["field"] == "limit"


async def test_enqueue_refuses_unknown_template_or_missing_parameter():
    with pytest.raises(ValueError, match="unknown SMS template"):
        await enqueue_sms(phone(3), "no_such_template", {})
    with pytest.raises(ValueError, match="result"):
        await enqueue_sms(phone(3), "application_result", {"name": "x", "business": "y"})


async def test_second_message_to_a_phone_is_held_by_the_limit_then_delivered(client, server, paused_outbox):
    first = await enqueue_sms(phone(4), "signed_notice", NOTICE)
    second = await enqueue_sms(phone(4), "signed_notice", {**NOTICE, "signers": "李四于2026-11-23 10:05"})
    await deliver_due(server.app.ctx)

    assert [sms["id"] for sms in await delivered_sms(client, server)] == [str(first.id)]
    held = await OutboxMessage.get(id=second.id)
    assert held.status == "pending" and held.attempts == 0 and "phone_limit" in held.last_error
    assert 30 <= (held.next_attempt_at - now()).total_seconds() <= 60

    # A minute later: the window has freed and the held message goes out.
    await server.app.ctx.cache.clear()
    await OutboxMessage.filter(id=second.id).update(next_attempt_at=now())
    assert [sms["id"] for sms in await delivered_sms(client, server)] == [str(second.id), str(first.id)]
    assert (await OutboxMessage.get(id=second.id)).status == "sent"


async def test_two_senders_deliver_each_message_exactly_once(server, paused_outbox):
    ids = {str((await enqueue_sms(phone(100 + n), "application_result", RESULT)).id) for n in range(120)}
    ctx = server.app.ctx
    other_host = OutboxSender(server.settings.model_copy(update={"outbox": server.settings.outbox.model_copy(
        update={"concurrency": 7})}), ctx.cache, DevSinkProvider(), None)

    handled = await asyncio.gather(deliver_due(ctx), other_host.deliver_due())

    assert sum(handled) == 120
    assert set(await DevSms.all().values_list("out_id", flat=True)) == ids
    assert set(await DevSms.all().values_list("received_count", flat=True)) == {1}
    assert await OutboxMessage.filter(status="sent").count() == 120


async def test_message_left_sending_by_a_dead_sender_is_reconciled_not_resent(client, server, paused_outbox):
    accepted = await enqueue_sms(phone(5), "application_result", RESULT)
    never_sent = await enqueue_sms(phone(6), "application_result", RESULT)
    # The dead sender had claimed both; the sink accepted the first just before the crash.
    await OutboxMessage.filter(id__in=[accepted.id, never_sent.id]).update(
        status="sending", attempts=1, claim_token="dead", lease_until=now() - timedelta(seconds=1))
    await DevSinkProvider().send(SmsMessage(id=str(accepted.id), phone=phone(5), template="application_result",
                                            params=RESULT, text="…"))

    await deliver_due(server.app.ctx)

    assert await OutboxMessage.filter(status="sent").count() == 2
    assert sorted(await DevSms.all().values_list("out_id", "received_count")) == sorted(
        [(str(accepted.id), 1), (str(never_sent.id), 1)])


async def test_lease_not_yet_expired_is_left_to_its_sender(server, paused_outbox):
    row = await enqueue_sms(phone(7), "application_result", RESULT)
    await OutboxMessage.filter(id=row.id).update(status="sending", attempts=1, claim_token="alive",
                                                 lease_until=now() + timedelta(seconds=30))
    assert await deliver_due(server.app.ctx) == 0
    assert (await OutboxMessage.get(id=row.id)).claim_token == "alive"


async def test_final_states_never_move_back(server, paused_outbox):
    rows = [await enqueue_sms(phone(20 + n), "application_result", RESULT) for n in range(3)]
    for row, status in zip(rows, ("sent", "failed", "refused")):
        await OutboxMessage.filter(id=row.id).update(status=status, next_attempt_at=now() - timedelta(hours=1))
    assert await deliver_due(server.app.ctx) == 0
    assert await DevSms.all().count() == 0
    assert sorted(await OutboxMessage.all().values_list("status", flat=True)) == ["failed", "refused", "sent"]


# How long a child process may take before the test calls it hung (not a timing assertion): a child starts Python,
# loads the server and connects, which took over 60 s at nice 19 beside a load test at normal priority.
CHILD_GUARD_SECONDS = 300


def _child(env: dict, *args: str):
    return asyncio.create_subprocess_exec(sys.executable, "-m", "tests.outbox_child", *args, cwd=ROOT, env=env,
                                          stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_sender_killed_mid_round_then_restarted_loses_nothing_and_sends_nothing_twice(server, paused_outbox):
    ids = {str((await enqueue_sms(phone(200 + n), "application_result", RESULT)).id) for n in range(40)}
    env = {**os.environ, "YCT_DATABASE__URL": server.settings.database.url,
           "YCT_CACHE__URL": server.settings.cache.url, "PYTHONPATH": str(ROOT)}

    killed = await _child(env, "13")
    _, stderr = await asyncio.wait_for(killed.communicate(), CHILD_GUARD_SECONDS)
    assert killed.returncode == -signal.SIGKILL, stderr.decode()

    # The moment of death: 13 accepted by the sink (plus up to 3 more in flight beside it, concurrency 4 in the
    # child), at least one of them accepted but not yet marked sent.
    accepted = set(await DevSms.all().values_list("out_id", flat=True))
    assert 13 <= len(accepted) <= 16
    unmarked = await OutboxMessage.filter(status="sending").values_list("id", flat=True)
    assert accepted & {str(message_id) for message_id in unmarked}
    assert await OutboxMessage.filter(status="sent").count() < len(accepted)

    await asyncio.sleep(1.1)  # the dead sender's lease (1 s in the child) runs out
    restarted = await _child(env)
    stdout, stderr = await asyncio.wait_for(restarted.communicate(), CHILD_GUARD_SECONDS)
    assert restarted.returncode == 0, stderr.decode()

    assert await OutboxMessage.filter(status="sent").count() == 40
    assert set(await DevSms.all().values_list("out_id", flat=True)) == ids
    assert set(await DevSms.all().values_list("received_count", flat=True)) == {1}


def _worker(env: dict):
    return asyncio.create_subprocess_exec(sys.executable, "-m", "server", "worker", cwd=ROOT, env=env,
                                          stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _until_sent(count: int, attempts: int = 1200) -> int:
    for _ in range(attempts):
        sent = await OutboxMessage.filter(status="sent").count()
        if sent >= count:
            return sent
        await asyncio.sleep(0.1)
    return await OutboxMessage.filter(status="sent").count()


async def _until_claimed(child) -> bool:
    """True once some message is being sent (or already sent), False if the child ended or the guard ran out."""
    for _ in range(CHILD_GUARD_SECONDS * 10):
        if await OutboxMessage.filter(status__in=("sending", "sent")).exists():
            return True
        if child.returncode is not None:
            return False
        await asyncio.sleep(0.1)
    return False


async def test_worker_process_sends_and_stops_gracefully_on_sigterm(server, paused_outbox):
    ids = {str((await enqueue_sms(phone(300 + n), "application_result", RESULT)).id) for n in range(10)}
    env = {**os.environ, "YCT_DATABASE__URL": server.settings.database.url,
           "YCT_CACHE__URL": server.settings.cache.url, "YCT_OUTBOX__POLL_SECONDS": "0.2"}
    worker = await _worker(env)
    assert await _until_sent(10) == 10
    worker.send_signal(signal.SIGTERM)
    stdout, stderr = await asyncio.wait_for(worker.communicate(), CHILD_GUARD_SECONDS)
    assert worker.returncode == 0, stderr.decode()
    assert "outbox worker stopped" in stdout.decode()
    assert set(await DevSms.all().values_list("out_id", flat=True)) == ids


async def test_two_workers_one_killed_mid_round_lose_nothing_and_send_nothing_twice(server, paused_outbox):
    if not server.settings.database.url.startswith("postgres"):
        pytest.skip("several sender processes on one database: PostgreSQL (SKIP LOCKED claims)")
    ids = {str((await enqueue_sms(phone(400 + n), "application_result", RESULT)).id) for n in range(80)}
    env = {**os.environ, "YCT_DATABASE__URL": server.settings.database.url,
           "YCT_CACHE__URL": server.settings.cache.url, "PYTHONPATH": str(ROOT),
           "YCT_OUTBOX__POLL_SECONDS": "0.2", "YCT_OUTBOX__LEASE_SECONDS": "2", "YCT_OUTBOX__CONCURRENCY": "4"}
    # The child dies by SIGKILL after the sink accepted its 13th message, while the worker beside it keeps sending.
    # The worker starts once the child holds its claim: started together, a worker that loads faster could claim
    # all 80 first and leave the child nothing to die on.
    killed = await _child(env, "13")
    survivor = None
    try:
        assert await _until_claimed(killed), "the child never claimed a message"
        survivor = await _worker(env)
        _, stderr = await asyncio.wait_for(killed.communicate(), CHILD_GUARD_SECONDS)
        assert killed.returncode == -signal.SIGKILL, stderr.decode()

        assert await _until_sent(80) == 80  # the survivor takes over the dead one's rows once their lease ran out
        survivor.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(survivor.communicate(), CHILD_GUARD_SECONDS)
        assert survivor.returncode == 0, stderr.decode()
    finally:
        # A sender left running would deliver the next tests' messages to its own sink.
        for process in (killed, survivor):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
    assert set(await DevSms.all().values_list("out_id", flat=True)) == ids
    assert set(await DevSms.all().values_list("received_count", flat=True)) == {1}


# --- WeChat subscribe messages -----------------------------------------------------------------------------------

async def test_subscribe_message_reaches_wechat_with_its_template_id_data_and_page(client, server):
    row = await enqueue_wechat("openid-alice", "review_result", {"thing1": "云帆科技设立登记", "phrase2": "已退回"},
                               page="pages/progress/index?id=1")
    await deliver_due(server.app.ctx)

    [sent] = (await client.get("/_mock/wx/subscribe-messages")).json()
    assert sent["touser"] == "openid-alice" and sent["template_id"] == "dev-review_result"
    assert sent["data"] == {"thing1": {"value": "云帆科技设立登记"}, "phrase2": {"value": "已退回"}}
    assert sent["page"] == "pages/progress/index?id=1"
    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "sent" and stored.provider_message_id == "1"


async def test_user_who_refused_subscription_is_recorded_and_not_retried(client, server):
    await client.post("/_mock/wx/refuse-subscription", json={"openid": "openid-bob"})
    row = await enqueue_wechat("openid-bob", "review_result", {"thing1": "x"})
    await deliver_due(server.app.ctx)
    await OutboxMessage.filter(id=row.id).update(next_attempt_at=now() - timedelta(hours=1))
    assert await deliver_due(server.app.ctx) == 0

    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "refused" and stored.attempts == 1 and "43101" in stored.last_error
    assert (await client.get("/_mock/wx/subscribe-messages")).json() == []


async def test_wechat_rate_limit_is_retried_with_backoff_then_delivered(client, server, paused_outbox):
    server.wx.fail_next["subscribe_send"] = [45011]
    row = await enqueue_wechat("openid-carol", "review_result", {"thing1": "x"})
    await deliver_due(server.app.ctx)
    waiting = await OutboxMessage.get(id=row.id)
    assert waiting.status == "pending" and waiting.attempts == 1 and waiting.last_error.startswith("45011")
    assert 4 <= (waiting.next_attempt_at - now()).total_seconds() <= 10

    await OutboxMessage.filter(id=row.id).update(next_attempt_at=now())
    await deliver_due(server.app.ctx)
    assert (await OutboxMessage.get(id=row.id)).status == "sent"
    assert len((await client.get("/_mock/wx/subscribe-messages")).json()) == 1


async def test_wechat_template_without_configured_id_fails_in_production(server, paused_outbox):
    production = server.settings.model_copy(update={"wechat": server.settings.wechat.model_copy(
        update={"mount_mock": False, "subscribe_templates": {"review_result": "tmpl-real-id"}})})
    ctx = server.app.ctx
    sender = OutboxSender(production, ctx.cache, ctx.sms, ctx.wechat)
    unknown = await enqueue_wechat("openid-dave", "no_such_template", {"thing1": "x"})
    known = await enqueue_wechat("openid-dave", "review_result", {"thing1": "x"})
    await sender.deliver_due()

    assert (await OutboxMessage.get(id=unknown.id)).status == "failed"
    assert (await OutboxMessage.get(id=known.id)).status == "sent"
    assert server.wx.sent_subscribe_messages[-1]["template_id"] == "tmpl-real-id"


async def test_retries_are_bounded_then_the_message_fails(server, paused_outbox):
    quick = server.settings.model_copy(update={"outbox": server.settings.outbox.model_copy(
        update={"max_attempts": 3, "retry_base_seconds": 0.001})})
    ctx = server.app.ctx
    server.wx.fail_next["subscribe_send"] = [45011] * 4
    row = await enqueue_wechat("openid-erin", "review_result", {"thing1": "x"})
    sender = OutboxSender(quick, ctx.cache, ctx.sms, ctx.wechat)
    for _ in range(3):
        await asyncio.sleep(0.01)
        await sender.deliver_due()

    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "failed" and stored.attempts == 3 and "已尝试3次" in stored.last_error


# --- Staff and development views ---------------------------------------------------------------------------------

async def test_admin_lists_messages_with_masked_phones_and_filters_by_status(client, server, paused_outbox):
    admin = await create_staff(client, "admin1", role="admin")
    await enqueue_sms("13912345678", "signed_notice", NOTICE, authority="451402")
    await deliver_due(server.app.ctx)
    await enqueue_sms("13912345678", "signed_notice", NOTICE, authority="451402")
    await deliver_due(server.app.ctx)

    listed = (await client.get("/api/v1/admin/messages", headers=admin["headers"])).json()
    assert listed["total"] == 2 and listed["counts"]["sent"] == 1 and listed["counts"]["pending"] == 1
    assert {item["kind"] for item in listed["items"]} == {"notice"}
    assert {item["recipient"] for item in listed["items"]} == {"139****5678"}
    assert "13912345678" not in str(listed) and "params" not in listed["items"][0]

    pending = (await client.get("/api/v1/admin/messages", params={"status": "pending"},
                                headers=admin["headers"])).json()
    [item] = pending["items"]
    assert item["status"] == "pending" and item["attempts"] == 0 and "phone_limit" in item["last_error"]


async def test_admin_message_pages_follow_the_cursor(client, server, paused_outbox):
    admin = await create_staff(client, "admin1", role="admin")
    for index in range(5):
        await enqueue_sms(f"1391234567{index}", "application_result", RESULT, authority="451402")
    everything = (await client.get("/api/v1/admin/messages", headers=admin["headers"])).json()
    assert everything["total"] == 5 and everything["next_cursor"] is None
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/admin/messages", params=params, headers=admin["headers"])).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["id"] for item in everything["items"]]  # each once, newest first
    bad = await client.get("/api/v1/admin/messages", params={"cursor": "WyJ4IiwieSJd"}, headers=admin["headers"])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"


async def test_admin_messages_are_scoped_to_the_admins_authority_and_those_under_it(client, paused_outbox):
    """The probe: GET /api/v1/admin/messages showed another authority's messages to an admin."""
    await enqueue_sms("13912345670", "application_result", RESULT, authority="451402")  # 江州区, under 崇左市
    await enqueue_sms("13912345671", "application_result", RESULT, authority="450102")  # 南宁市兴宁区
    await enqueue_sms("13912345672", "application_result", RESULT)  # about no authority
    seen = {}
    for username, authority in (("chongzuo", "451400"), ("jiangzhou", "451402"), ("nanning", "450100"),
                                ("province", "450000")):
        admin = await create_staff(client, username, role="admin", authority=authority)
        listed = (await client.get("/api/v1/admin/messages", headers=admin["headers"])).json()
        seen[username] = sorted(item["recipient"] for item in listed["items"])
        assert listed["total"] == len(listed["items"]) == sum(listed["counts"].values())
    assert seen == {"chongzuo": ["139****5670"], "jiangzhou": ["139****5670"], "nanning": ["139****5671"],
                    "province": ["139****5670", "139****5671", "139****5672"]}


async def test_admin_messages_refuse_other_roles_and_bad_filters(client):
    reviewer = await create_staff(client, "reviewer1", role="reviewer")
    assert (await client.get("/api/v1/admin/messages", headers=reviewer["headers"])).status_code == 403
    client.cookies.clear()  # the console cookie from the login above
    assert (await client.get("/api/v1/admin/messages")).status_code == 401
    admin = await create_staff(client, "admin2", role="admin")
    bad = await client.get("/api/v1/admin/messages", params={"status": "lost"}, headers=admin["headers"])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    bad = await client.get("/api/v1/admin/messages", params={"limit": "0"}, headers=admin["headers"])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "limit"


def test_dev_sms_is_not_mounted_with_a_real_provider(settings):
    aliyun = settings.model_copy(update={"sms": settings.sms.model_copy(update={
        "provider": "aliyun", "access_key_id": "key-id", "access_key_secret": "secret"})})
    paths = {route.path for route in create_app(aliyun, name="yct_aliyun").router.routes}
    assert "api/v1/mp/sms-code" in paths and "dev/sms" not in paths
    assert "dev/sms" in {route.path for route in create_app(settings, name="yct_sink").router.routes}
