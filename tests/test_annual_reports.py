"""年报 (seed 003): report status imported with line-numbered errors; on each reminder date (default 1 March, 1 May,
1 June, 20 June) one SMS per unreported active entity, never to one that reported, spread over the working day per
city; the 年报公示率 per authority; the helpers' follow-up list with phones masked."""
import subprocess
import sys
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.models.annual_reports import AnnualReportReminder
from server.models.notifications import OutboxMessage
from server.services.annual_reports import reminders, reports
from server.services.applications.registry import upsert_entity
from server.services.notifications.outbox import deliver_due
from tests.helpers import create_staff, valid_credit_code

CST = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 8) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=CST)


async def _entities():
    """Five unreported 崇左 entities with a liaison phone, one that reported, one cancelled, one without a phone, and
    one in 南宁 (another city)."""
    codes = {}
    for index in range(5):
        codes[f"unreported{index}"] = await _entity(f"崇左未报{index}号商贸有限公司", f"MA5KU00{index}", "451402",
                                                    f"1380000100{index}")
    codes["reported"] = await _entity("崇左已报商贸有限公司", "MA5KR001", "451402", "13800002001")
    codes["cancelled"] = await _entity("崇左注销商贸有限公司", "MA5KC001", "451402", "13800002002", status="cancelled")
    codes["no_phone"] = await _entity("崇左无号商贸有限公司", "MA5KN001", "451402", None)
    codes["nanning"] = await _entity("南宁未报商贸有限公司", "MA5KU010", "450102", "13800003001")
    return codes


async def _entity(name, body, authority, phone, status="registered"):
    code = valid_credit_code(authority, body)
    await upsert_entity(name, code, authority, "llc", status, liaison_phone=phone)
    return code


def _csv(tmp_path, text: str, name: str = "reports.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_import_reports_line_numbered_errors_and_keeps_good_lines(server, clock, tmp_path):
    clock.set(at("2027-02-01"))
    codes = await _entities()
    path = _csv(tmp_path, "credit_code,year,reported_on\n"
                          f"{codes['reported']},2026,2027-01-15\n"
                          "91451402XXXXXXXXXX,2026,\n"
                          f"{codes['nanning']},2027,\n"
                          f"{codes['nanning']},2026,2026-03-01\n"
                          f"{codes['reported']},2026,2027-01-15\n")
    report = await reports.import_file(path)
    assert report.read == 5 and report.imported == 2
    assert [number for number, _ in report.errors] == [3, 4, 5]
    assert report.errors[0][1].startswith("credit_code") and report.errors[1][1].startswith("year")
    assert report.errors[2][1].startswith("reported_on")
    bad_header = await reports.import_file(_csv(tmp_path, "code;year\n", "bad-header.csv"))
    assert bad_header.errors[0][0] == 1

    env = {**os.environ, "YCT_DATABASE__URL": server.settings.database.url}
    cli = subprocess.run([sys.executable, "-m", "server", "annual-reports", "import", str(path)], env=env,
                         capture_output=True, text=True, timeout=120)
    # (the command runs on the real clock: a year not yet over is refused there too)
    assert cli.returncode == 1 and f"{path}:3: credit_code" in cli.stderr


async def test_each_date_sends_once_per_unreported_entity_and_never_to_one_that_reported(client, server, clock,
                                                                                           tmp_path):
    settings, cache = server.settings, server.app.ctx.cache
    clock.set(at("2027-01-10"))
    codes = await _entities()
    await reports.import_file(_csv(tmp_path, f"credit_code,year\n{codes['reported']},2026\n"))

    clock.set(at("2027-02-28"))
    assert (await reminders.schedule(settings, cache))["scheduled"] == 0  # not a reminder date
    clock.set(at("2027-03-01"))
    first = await reminders.schedule(settings, cache)
    assert first == {"date": "2027-03-01", "year": 2026, "scheduled": 6}
    assert (await reminders.schedule(settings, cache))["scheduled"] == 0  # at most once per date

    rows = {r.credit_code: r for r in await AnnualReportReminder.all()}
    assert set(rows) == {codes[f"unreported{i}"] for i in range(5)} | {codes["nanning"]}
    # 崇左's reminders spread over its working day (09:00–17:00): six candidates with a phone, five due.
    chongzuo = sorted(r.send_at.astimezone(CST) for r in rows.values() if r.city_code == "451400")
    assert chongzuo[0] == at("2027-03-01", 9) and chongzuo[-1] < at("2027-03-01", 17)
    assert len(set(chongzuo)) == 5 and chongzuo[-1] - chongzuo[0] >= timedelta(hours=5)
    assert rows[codes["nanning"]].send_at.astimezone(CST) == at("2027-03-01", 9)

    # Nothing leaves before its time; by the end of the working day all of them have gone.
    await deliver_due(server.app.ctx)
    assert await OutboxMessage.filter(template="annual_report_reminder", status="sent").count() == 0
    clock.set(at("2027-03-01", 17))
    await deliver_due(server.app.ctx)
    sent = await client.get("/dev/sms")
    texts = {m["phone"]: m["text"] for m in sent.json() if m["template"] == "annual_report_reminder"}
    assert set(texts) == {f"1380000100{i}" for i in range(5)} | {"13800003001"}
    assert "2026年度年度报告" in texts["13800001000"] and "6月30日" in texts["13800001000"]
    assert "13800002001" not in texts  # reported

    # 1 May: one reported in between is left out; the rest are reminded once more.
    await reports.import_file(_csv(tmp_path, f"credit_code,year\n{codes['unreported0']},2026\n"))
    clock.set(at("2027-05-01"))
    assert (await reminders.schedule(settings, cache))["scheduled"] == 5
    assert await AnnualReportReminder.filter(credit_code=codes["unreported0"]).count() == 1
    # Run late on a reminder date, the rest of the working day is used; after hours, the next morning.
    clock.set(at("2027-06-01", 15))
    await reminders.schedule(settings, cache)
    june = [r.send_at.astimezone(CST) for r in await AnnualReportReminder.filter(reminder_date="2027-06-01")]
    assert min(june) == at("2027-06-01", 15) and max(june) < at("2027-06-01", 17)
    clock.set(at("2027-06-20", 18))
    await reminders.schedule(settings, cache)
    late = [r.send_at.astimezone(CST) for r in await AnnualReportReminder.filter(reminder_date="2027-06-20")]
    assert min(late) == at("2027-06-21", 9)


async def test_publication_rate_per_authority_and_the_follow_up_list(client, server, clock, tmp_path):
    clock.set(at("2027-04-01", 10))
    codes = await _entities()
    await reports.import_file(_csv(tmp_path, f"credit_code,year\n{codes['reported']},2026\n"
                                             f"{codes['unreported0']},2026\n"))
    helper = await create_staff(client, "annual-helper", "helper", "451400")
    rates = await client.get("/api/v1/annual-reports/rates", params={"year": 2026}, headers=helper["headers"])
    assert rates.status_code == 200, rates.text
    [jiangzhou] = rates.json()["authorities"]
    # 江州区: seven registered entities (cancelled ones are not active), two reported.
    assert (jiangzhou["authority_code"], jiangzhou["active"], jiangzhou["reported"]) == ("451402", 7, 2)
    assert jiangzhou["rate"] == round(2 / 7, 4) and jiangzhou["authority_name"] == "江州区"
    assert (await client.get("/api/v1/annual-reports/rates", params={"year": 2027},
                             headers=helper["headers"])).status_code == 422

    listed = (await client.get("/api/v1/annual-reports/unreported", headers=helper["headers"])).json()
    assert listed["year"] == 2026 and listed["total"] == 5
    phones = {item["liaison_phone_masked"] for item in listed["items"]}
    assert "138****1001" in phones and not any("0000100" in (p or "") for p in phones)
    outside = await client.get("/api/v1/annual-reports/unreported", params={"authority": "450102"},
                               headers=helper["headers"])
    assert outside.status_code == 422 and outside.json()["error"]["field"] == "authority"


async def test_liaison_phone_comes_from_the_registry_import_and_from_approved_filings(client, server, tmp_path):
    from server.models.names import RegisteredEntity
    from server.services.applications.registry import import_file
    from tests.test_licenses import _approved

    kept, bad = valid_credit_code("451402", "MA5KL001"), valid_credit_code("451402", "MA5KL002")
    path = tmp_path / "registry.jsonl"
    path.write_text(
        f'{{"name": "崇左联络商贸有限公司", "credit_code": "{kept}", "authority_code": "451402", "entity_type": "llc", '
        f'"status": "registered", "liaison_phone": "13912345678"}}\n'
        f'{{"name": "崇左错号商贸有限公司", "credit_code": "{bad}", "authority_code": "451402", "entity_type": "llc", '
        f'"status": "registered", "liaison_phone": "12345"}}\n', encoding="utf-8")
    report = await import_file(path)
    assert report.imported == 1 and report.errors[0][0] == 2 and report.errors[0][1].startswith("liaison_phone")
    # A later line without the phone keeps the one known.
    path.write_text(f'{{"name": "崇左联络商贸有限公司", "credit_code": "{kept}", "authority_code": "451402", '
                    f'"entity_type": "llc", "status": "registered"}}\n', encoding="utf-8")
    await import_file(path)
    assert (await RegisteredEntity.get(credit_code=kept)).liaison_phone == "13912345678"

    reviewer = await create_staff(client, "liaison-reviewer", "reviewer", "451402")
    app_id, _ = await _approved(client, server, reviewer)
    from server.models.applications import Application

    approved = await Application.get(id=app_id)
    # The filing's 联络员 is 王芳 (13900002222).
    assert (await RegisteredEntity.get(credit_code=approved.credit_code)).liaison_phone == "13900002222"
