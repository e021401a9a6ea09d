"""The registry of existing entities: upsert for approvals, the JSON Lines import (CLI), idempotence, bad lines."""
import asyncio
import json
import os
import subprocess
import sys

from server.models.names import RegisteredEntity, RetiredName
from server.services.applications.registry import import_file, upsert_entity
from tests.helpers import valid_credit_code


def line(name, code, authority="451402", entity_type="llc", status="registered", **extra):
    return json.dumps({"name": name, "credit_code": code, "authority_code": authority, "entity_type": entity_type,
                       "status": status, **extra}, ensure_ascii=False)


async def test_upsert_parses_and_stores_the_name_parts():
    code = valid_credit_code("451402", "AB000001")
    entity = await upsert_entity("云帆（崇左）网络科技有限公司", code, "451402", "llc", "registered")
    stored = await RegisteredEntity.get(credit_code=code)
    assert (stored.trade_name, stored.industry, stored.org_form, stored.city_code) == ("云帆", "网络科技", "有限公司", "451400")
    assert entity.id == stored.id and stored.trade_pinyin == "yun fan"


async def test_upsert_by_credit_code_updates_and_retires_a_changed_name():
    code = valid_credit_code("451402", "AB000002")
    await upsert_entity("崇左云帆科技有限公司", code, "451402", "llc", "registered")
    await upsert_entity("崇左海川科技有限公司", code, "451402", "llc", "registered")
    assert await RegisteredEntity.filter(credit_code=code).count() == 1
    assert (await RegisteredEntity.get(credit_code=code)).name == "崇左海川科技有限公司"
    assert await RetiredName.filter(name="崇左云帆科技有限公司").count() == 1


async def test_import_keeps_good_lines_and_reports_bad_ones_by_number(tmp_path):
    good = [line(f"崇左云帆{i}号科技有限公司".replace(str(i), "一二三"[i]), valid_credit_code("451402", f"AB00010{i}"))
            for i in range(3)]
    bad = [
        "{not json",
        line("崇左坏码科技有限公司", "91451402AB0001011X"),
        line("崇左无类科技有限公司", valid_credit_code("451402", "AB000201"), entity_type="bank"),
        line("崇左无态科技有限公司", valid_credit_code("451402", "AB000202"), status="sleeping"),
        line("", valid_credit_code("451402", "AB000203")),
        line("崇左无处科技有限公司", valid_credit_code("451402", "AB000204"), authority="4514"),
        line("崇左多余科技有限公司", valid_credit_code("451402", "AB000205"), colour="red"),
        "[1, 2]",
    ]
    path = tmp_path / "registry.jsonl"
    path.write_text("\n".join([good[0], *bad, good[1], "", good[2]]) + "\n", encoding="utf-8")
    report = await import_file(path)
    assert report.imported == 3 and report.read == 11
    assert [number for number, _ in report.errors] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert "credit_code" in report.errors[1][1] and "entity_type" in report.errors[2][1]
    assert await RegisteredEntity.all().count() == 3
    again = await import_file(path)
    assert again.imported == 3 and await RegisteredEntity.all().count() == 3 and await RetiredName.all().count() == 0


async def test_import_with_cancellation_date(tmp_path):
    code = valid_credit_code("451402", "AB000301")
    path = tmp_path / "r.jsonl"
    path.write_text(line("崇左云帆科技有限公司", code, status="cancelled", status_date="2026-01-02") + "\n", encoding="utf-8")
    await import_file(path)
    stored = await RegisteredEntity.get(credit_code=code)
    assert stored.status == "cancelled" and stored.status_date.date().isoformat() == "2026-01-02"


async def test_registry_import_command(tmp_path, server):
    path = tmp_path / "cli.jsonl"
    path.write_text(line("崇左云帆科技有限公司", valid_credit_code("451402", "AB000401")) + "\n{bad\n", encoding="utf-8")
    env = {**os.environ, "YCT_DATABASE__URL": server.settings.database.url}
    result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server", "registry", "import", str(path)],
                                     capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert f"{path}:2:" in result.stderr and "1 imported, 1 rejected" in result.stdout
    assert await RegisteredEntity.filter(name="崇左云帆科技有限公司").count() == 1
    missing = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server", "registry", "import",
                                                       str(tmp_path / "nope.jsonl")], capture_output=True, text=True,
                                      env=env, timeout=120)
    assert missing.returncode == 2 and "not found" in missing.stderr


async def test_reimporting_an_undated_cancellation_keeps_its_first_date(tmp_path):
    code = valid_credit_code("451402", "AB000501")
    path = tmp_path / "undated.jsonl"
    path.write_text(line("崇左云帆科技有限公司", code, status="cancelled") + "\n", encoding="utf-8")
    await import_file(path)
    first = (await RegisteredEntity.get(credit_code=code)).status_date
    await asyncio.sleep(0.05)
    await import_file(path)
    await upsert_entity("崇左云帆科技有限公司", code, "451402", "llc", "cancelled")
    assert (await RegisteredEntity.get(credit_code=code)).status_date == first


async def test_import_carries_investors_and_a_line_without_them_keeps_what_is_known(tmp_path):
    code = valid_credit_code("451402", "AB000601")
    investor = {"name": "崇左市海川投资有限公司", "credit_code": valid_credit_code("451402", "AB000602")}
    path = tmp_path / "investors.jsonl"
    path.write_text("\n".join([
        line("崇左云帆科技有限公司", code, investors=[investor, {"name": "李明"}]),
        line("崇左坏投科技有限公司", valid_credit_code("451402", "AB000603"),
             investors=[{"name": "某公司", "credit_code": "91451402AB0001011X"}]),
        line("崇左无名科技有限公司", valid_credit_code("451402", "AB000604"), investors=[{"credit_code": None}]),
        line("崇左非列科技有限公司", valid_credit_code("451402", "AB000605"), investors="崇左市海川投资有限公司"),
    ]) + "\n", encoding="utf-8")
    report = await import_file(path)
    assert report.imported == 1 and [number for number, _ in report.errors] == [2, 3, 4]
    assert "investors[0].credit_code" in report.errors[0][1] and "investors[0].name" in report.errors[1][1]
    stored = await RegisteredEntity.get(credit_code=code)
    assert stored.investors == [investor, {"name": "李明", "credit_code": None}]
    path.write_text(line("崇左云帆科技有限公司", code) + "\n", encoding="utf-8")
    await import_file(path)
    assert (await RegisteredEntity.get(credit_code=code)).investors == stored.investors
