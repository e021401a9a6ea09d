"""Registration authorities (登记机关): the division tree shipped as data, and who oversees what."""
from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path

from server.errors import Invalid, NotFound
from server.models.authorities import Authority

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
# Authority names change only when `migrate` loads a renamed division: lists read them from this worker's memory,
# at most NAMES_SECONDS old. code -> (name, remembered until on the monotonic clock)
NAMES_SECONDS = 60
_names: dict[str, tuple[str, float]] = {}


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def parent_code_of(code: str) -> str | None:
    level = level_of(code)
    if level == "province":
        return None
    if level == "city":
        return code[:2] + "0000"
    return code[:4] + "00"


DIVISIONS_FILE = DATA_DIR / "divisions.json"


@lru_cache(maxsize=1)
def national_divisions() -> tuple[tuple[str, str, str], ...]:
    """Every county-level and higher division of China: (code, name, short name), from server/data/divisions.json."""
    return tuple((code, name, short) for code, name, short in
                 json.loads(DIVISIONS_FILE.read_text(encoding="utf-8"))["divisions"])


def shipped_divisions(province: str) -> list[tuple[str, str]]:
    """(code, name) of the province and every city and county in it; empty for a code that is no province."""
    return [(code, name) for code, name, _ in national_divisions() if code[:2] == province]


async def authority_names(codes: set[str]) -> dict[str, str]:
    """code -> name of these authorities (an unknown code is left out)."""
    moment = time.monotonic()
    names = {code: entry[0] for code in codes if (entry := _names.get(code)) is not None and entry[1] > moment}
    missing = codes - names.keys()
    if missing:
        for code, name in await Authority.filter(code__in=missing).values_list("code", "name"):
            names[code] = name
            _names[code] = (name, moment + NAMES_SECONDS)
    return names


async def load_divisions(province: str) -> int:
    """Insert or rename every division of the province; idempotent. Parents come before children."""
    divisions = sorted(shipped_divisions(province), key=lambda item: (level_of(item[0]) != "province", level_of(item[0]) == "county", item[0]))
    existing = {a.code: a for a in await Authority.filter(code__startswith=province)}
    codes = {code for code, _ in divisions}
    created = 0
    for code, name in divisions:
        current = existing.get(code)
        if current is None:
            parent = parent_code_of(code)
            if parent is not None and parent not in codes:
                # 省直辖县级行政区划 and a municipality's districts hang straight under the province.
                parent = code[:2] + "0000"
            await Authority.create(code=code, name=name, level=level_of(code), parent_id=parent)
            created += 1
        elif current.name != name:
            current.name = name
            await current.save(update_fields=["name"])
            _names.pop(code, None)
    return created


def scope_prefix(authority: Authority | str) -> str:
    """Codes an authority oversees share this prefix: a city sees its counties, a province everything."""
    code = authority if isinstance(authority, str) else authority.code
    level = level_of(code)
    return code[:2] if level == "province" else code[:4] if level == "city" else code


def city_code(code: str) -> str:
    """The 设区的市 of an authority: 'the same registration authority' for name conflicts."""
    return code if level_of(code) == "province" else code[:4] + "00"


async def get_authority(code: str, field: str = "authority_code") -> Authority:
    if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
        raise Invalid(field, "登记机关代码应为6位行政区划代码")
    authority = await Authority.get_or_none(code=code)
    if authority is None:
        raise Invalid(field, f"登记机关 {code} 不存在")
    return authority


async def require_authority(code: str) -> Authority:
    authority = await Authority.get_or_none(code=code)
    if authority is None:
        raise NotFound("登记机关不存在")
    return authority
