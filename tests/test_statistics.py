"""Statistics from the records: every expected figure below was counted by hand from tests/stats_records.py,
following SPEC "Statistics" (submitted, returned, 退件率, 同比, 云帮办 share, first-pass rate, signatures and
hours saved, durations in working hours, 网办率, service-point scans)."""
from __future__ import annotations

import pytest

from tests import stats_records
from tests.helpers import create_staff

JANUARY = {"from": "2026-01-01", "to": "2026-01-31"}


@pytest.fixture
async def city(client):
    await stats_records.seed()
    return await create_staff(client, "stats-admin", role="admin", authority="451400")


async def _summary(client, staff, **params):
    response = await client.get("/api/v1/stats/summary", params=params, headers=staff["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def test_city_january_headline_against_last_year(client, city):
    body = await _summary(client, city, **JANUARY)
    figures = {key: entry["value"] for key, entry in body["figures"].items()}
    # A1 A2 A3 A5 A6 A9 entered review in January (A4 a second before midnight, A7 returned only, A8 elsewhere).
    assert figures["submitted"] == 6
    # A1 A3 A5 and A7 (submitted in December, returned in January).
    assert figures["returned"] == 4
    assert figures["return_rate"] == 66.67
    assert figures["cloud_submitted"] == 3 and figures["cloud_share"] == 50.0  # A1 A2 A6
    assert figures["first_pass"] == 2 and figures["first_pass_rate"] == 33.33  # A2 (lock) and A9 (accept)
    # A1: two returns before its lock × two signatories; A2: no return.
    assert figures["signing_rounds"] == 2 and figures["signatures_saved"] == 4
    assert figures["hours_saved"] == 0.2  # 4 × 3 minutes
    assert "3 分钟" in body["hours_saved_assumption"]

    last = {key: entry["last_year"] for key, entry in body["figures"].items()}
    assert (last["submitted"], last["returned"], last["return_rate"]) == (5, 3, 60.0)
    assert last["first_pass_rate"] == 40.0 and last["cloud_share"] == 0.0
    # (2/3 − 3/5) ÷ 3/5 = +11.11 %
    assert body["figures"]["return_rate"]["yoy"] == 11.11
    assert body["last_year_period"] == {"from": "2025-01-01", "to": "2025-01-31"}
    assert body["figures"]["return_rate"]["definition"].startswith("退件数 ÷ 提交审核件数")


async def test_per_business_type_and_per_county(client, city):
    body = await _summary(client, city, **JANUARY)
    by_type = {row["business_type"]: row for row in body["by_business_type"]}
    # 设立: A1 A3 A9 submitted; A1 A3 A7 returned. Last year L1 L2 L3 submitted, L1 L2 returned.
    assert (by_type["establish"]["submitted"], by_type["establish"]["returned"]) == (3, 3)
    assert by_type["establish"]["return_rate"] == 100.0 and by_type["establish"]["last_year_return_rate"] == 66.67
    assert by_type["establish"]["return_rate_yoy"] == 50.0
    assert by_type["change"]["return_rate"] == 0.0 and by_type["change"]["return_rate_yoy"] is None
    assert by_type["change"]["cloud_share"] == 100.0
    assert by_type["deregister"]["return_rate"] == 100.0 and by_type["deregister"]["return_rate_yoy"] == 0.0
    assert by_type["simple_deregister"]["last_year_return_rate"] is None

    rows = {row["authority"]: row for row in body["by_authority"]}
    assert list(rows) == ["451400", "451402", "451421", "451422", "451423", "451424", "451425", "451481"]
    assert rows["451400"]["name"] == "崇左市（本级）"
    assert (rows["451400"]["submitted"], rows["451400"]["returned"]) == (1, 1)  # A6; A7
    jz = rows["451402"]
    assert (jz["submitted"], jz["returned"], jz["return_rate"]) == (3, 1, 33.33)
    assert (jz["cloud_share"], jz["first_pass"], jz["signatures_saved"]) == (66.67, 2, 4)
    assert jz["last_year_return_rate"] == 100.0 and jz["return_rate_yoy"] == -66.67
    fs = rows["451421"]
    assert (fs["submitted"], fs["returned"], fs["last_year_return_rate"], fs["return_rate_yoy"]) == (2, 2, 33.33, 200.0)
    assert rows["451481"]["submitted"] == 0 and rows["451481"]["return_rate"] is None


async def test_durations_in_working_hours(client, city):
    durations = (await _summary(client, city, **JANUARY))["durations"]
    # Submission → lock: A1 09:00→12:00 = 3 h, A2 09:00→10:00 = 1 h.
    assert durations["submission_to_lock"] | {} == {**durations["submission_to_lock"], "count": 2, "median": 2.0,
                                                    "p90": 2.8}
    # Working hours 09:00–12:00 and 14:30–17:30 (6 h a day; 5 January 2026 on are ordinary working days).
    # Lock → last signature: A1 Wed 12:00 → Thu 10:00 = 3 + 1 h; A2 Mon 10:00 → Tue 09:30 = 2 + 3 + 0.5 h.
    lock = durations["lock_to_signed"]
    assert (lock["count"], lock["median"], lock["p90"]) == (2, 4.75, 5.35)
    # Submission → approval: A1 Mon 09:00 → Fri 10:00 = 4 × 6 + 1 = 25 h, A3 Wed 09:00 → Fri 09:00 = 12 h,
    # A9 Tue 09:00 → Wed 09:00 = 6 h; p90 = 12 + 0.8 × (25 − 12).
    approval = durations["submission_to_approval"]
    assert (approval["count"], approval["median"], approval["p90"]) == (3, 12.0, 22.4)


async def test_filters_scope_and_midnight_boundary(client, city):
    county = await create_staff(client, "stats-fusui", role="helper", authority="451421")
    body = await _summary(client, county, **JANUARY)
    assert body["authority"]["code"] == "451421"
    # A3 and A5 (at 00:00:00 on 1 January); A4 at 23:59:59 on 31 December is last year's December.
    assert body["figures"]["submitted"]["value"] == 2
    assert [row["authority"] for row in body["by_authority"]] == ["451421"]
    outside = await client.get("/api/v1/stats/summary", params={**JANUARY, "authority": "451400"},
                               headers=county["headers"])
    assert outside.status_code == 404 and outside.json()["error"]["field"] == "authority"

    individual = await _summary(client, city, **JANUARY, entity_type="individual_business")
    assert (individual["figures"]["submitted"]["value"], individual["figures"]["returned"]["value"]) == (1, 1)
    one_county = await _summary(client, city, **JANUARY, authority="451402", business_type="establish")
    assert (one_county["figures"]["submitted"]["value"], one_county["figures"]["returned"]["value"]) == (2, 1)
    # The last second of 31 January (A6) counts in January; 00:00:00 on 1 February (A7) in February.
    february = await _summary(client, city, **{"from": "2026-02-01", "to": "2026-02-28"})
    assert february["figures"]["submitted"]["value"] == 1


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-13-01", "to": "2026-01-31"}, "from"),
    ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
    ({**JANUARY, "business_type": "merge"}, "business_type"),
    ({**JANUARY, "entity_type": "llp"}, "entity_type"),
    ({"period": "decade"}, "period"),
])
async def test_bad_parameters_name_their_field(client, city, params, field):
    response = await client.get("/api/v1/stats/summary", params=params, headers=city["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == field


async def test_requires_staff(client, city):
    client.cookies.clear()  # the staff login above left the console cookie in this client
    assert (await client.get("/api/v1/stats/summary", params=JANUARY)).status_code == 401


async def test_monthly_series_against_last_year(client, city):
    response = await client.get("/api/v1/stats/series", headers=city["headers"], params={
        "metric": "return_rate", "interval": "month", "from": "2026-01-01", "to": "2026-02-28"})
    assert response.status_code == 200, response.text
    points = response.json()["points"]
    assert [(p["from"], p["to"]) for p in points] == [("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28")]
    assert (points[0]["value"], points[0]["last_year"], points[0]["yoy"]) == (66.67, 60.0, 11.11)
    assert (points[1]["value"], points[1]["last_year"]) == (0.0, None)  # A7 resubmitted, nothing a year before


async def test_service_point_scans(client, city):
    response = await client.get("/api/v1/stats/points", params=JANUARY, headers=city["headers"])
    body = response.json()
    assert (body["scans"], body["unique_visitors"]) == (7, 5)  # 10 and 31 January; not 31 December
    assert body["items"][0]["name"] == "江州区政务服务中心登记窗口"


async def test_service_point_appointments_and_ratings_only_where_recorded(client, city):
    before = (await client.get("/api/v1/stats/points", params=JANUARY, headers=city["headers"])).json()
    assert before["appointments"] is None and "没有预约记录" in before["notes"]["appointments"]
    assert before["ratings"] is None and "没有评价记录" in before["notes"]["ratings"]

    await stats_records.seed_point_visits()
    body = (await client.get("/api/v1/stats/points", params=JANUARY, headers=city["headers"])).json()
    # V1 V2 V3 booked in January (V4 cancelled, V5 in February, the 南宁 one outside the scope); V3's slot is over.
    assert body["appointments"] == {"booked": 3, "served": 1, "no_show": 2}
    # January: 5 for V1, 1 for the 扶绥县 filing; average 3, one bad.
    assert body["ratings"] == {"count": 2, "bad": 1, "average": 3.0, "of_appointments": 1, "of_filings": 1}
    assert body["notes"] == {"appointments": None, "ratings": None}
    row = body["items"][0]
    assert (row["booked"], row["served"], row["no_show"], row["ratings"], row["rating_average"], row["ratings_bad"]) \
        == (3, 1, 2, 1, 5.0, 0)
    february = (await client.get("/api/v1/stats/points", params={"from": "2026-02-01", "to": "2026-02-28"},
                                  headers=city["headers"])).json()
    assert february["appointments"] == {"booked": 1, "served": 1, "no_show": 0}
    assert (february["ratings"]["count"], february["ratings"]["bad"]) == (1, 1)
    county = await create_staff(client, "stats-fusui", role="admin", authority="451421")
    fusui = (await client.get("/api/v1/stats/points", params=JANUARY, headers=county["headers"])).json()
    assert fusui["appointments"] is None and fusui["ratings"]["of_filings"] == 1  # 扶绥县 has no point

    csv_text = (await client.get("/api/v1/stats/export.csv", params={**JANUARY, "table": "points"},
                                 headers=city["headers"])).text
    assert csv_text.lstrip("\ufeff").splitlines()[:2] == [
        "网点,扫码次数,扫码人数,预约数,已办结,未到场,评价数,平均分,差评数", "江州区政务服务中心登记窗口,7,5,3,1,2,1,5.0,0"]


def _import_offline(settings, path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "YCT_DATABASE__URL": settings.database.url}
    return subprocess.run([sys.executable, "-m", "server", "stats", "import-offline", str(path)], env=env,
                          capture_output=True, text=True, timeout=120)


async def test_online_rate_from_imported_offline_filings(client, city, server, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("登记机关代码,月份,线下办件数\n451402,2026-01,2\n999999,2026-01,1\n451421,2026-13,1\n"
                   "451421,2026-01,-1\n451402,2026-01,3\n", encoding="utf-8")
    result = _import_offline(server.settings, bad)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{bad}:3: 登记机关代码 '999999' 不存在", f"{bad}:4: 月份 '2026-13' 应为 YYYY-MM",
        f"{bad}:5: 线下办件数 '-1' 应为不大于 10000000 的非负整数", f"{bad}:6: 与第 2 行重复（451402 2026-01）"]
    rejected = await _summary(client, city, **JANUARY)
    assert rejected["online"]["rate"] is None and "尚未导入" in rejected["online"]["note"]  # nothing of it was kept

    good = tmp_path / "offline.csv"
    good.write_text("authority_code,month,filings\n451402,2026-01,2\n451421,2026-01,1\n451402,2025-12,50\n"
                    "450102,2026-01,99\n", encoding="utf-8")
    result = _import_offline(server.settings, good)
    assert result.returncode == 0, result.stderr
    online = (await _summary(client, city, **JANUARY))["online"]
    # Six filings entered review online in January; 2 + 1 at 崇左's counters (December and 南宁 not counted).
    assert (online["online"], online["offline"], online["rate"]) == (6, 3, 66.67)
    week = (await _summary(client, city, **{"from": "2026-01-05", "to": "2026-01-09"}))["online"]
    assert week["rate"] is None and "完整月份" in week["note"]


async def test_xlsx_and_csv_hold_the_api_numbers(client, city):
    import csv
    import io

    from openpyxl import load_workbook

    body = await _summary(client, city, **JANUARY)
    response = await client.get("/api/v1/stats/export.xlsx", params=JANUARY, headers=city["headers"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["汇总", "按业务类型", "按登记机关", "月度退件率", "办理时长", "帮办网点", "说明"]
    summary_rows = {row[0]: row for row in book["汇总"].iter_rows(min_row=3, values_only=True)}
    assert summary_rows["退件率"][1:4] == (66.67, 60.0, 11.11)
    assert summary_rows["减少电子签名"][1] == 4 and summary_rows["减少办件时间"][1] == 0.2
    assert book["汇总"]["B5"].number_format == '0.00"%"'  # 退件率 row
    sheet = book["按登记机关"]
    assert [cell.value for cell in sheet[2]][:5] == ["登记机关代码", "登记机关", "提交审核件数", "退件数", "退件率"]
    by_code = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    for row in body["by_authority"]:
        assert by_code[row["authority"]][2:5] == (row["submitted"], row["returned"], row["return_rate"])
    monthly = list(book["月度退件率"].iter_rows(min_row=3, values_only=True))
    assert monthly == [("2026-01-01", "2026-01-31", 66.67, 60.0, 11.11)]

    response = await client.get("/api/v1/stats/export.csv", params={**JANUARY, "table": "business_types"},
                                headers=city["headers"])
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["业务类型", "提交审核件数", "退件数", "退件率"]
    assert rows[1][:4] == ["设立登记", "3", "3", "100.0"]
    bad = await client.get("/api/v1/stats/export.csv", params={**JANUARY, "table": "x"}, headers=city["headers"])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "table"
