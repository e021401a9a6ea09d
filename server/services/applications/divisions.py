"""行政区划 as enterprise names use them: every county-level and higher division of China, by full and short name.

The data is server/data/divisions.json (built by scripts/build_divisions.py). A name may write a division in full
(崇左市) or short (崇左); one short name can stand for several divisions (朝阳: 北京市朝阳区, 朝阳市, 长春市朝阳区).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from server.services import authorities


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    short: str
    parent: str | None

    @property
    def level(self) -> str:
        return authorities.level_of(self.code)

    @property
    def is_city_district(self) -> bool:
        """A 市辖区 (规定第七条): a county-level 区 of a 设区的市 or of a municipality; 林区/特区 are no 市辖区."""
        return (self.level == "county" and self.name.endswith("区") and not self.name.endswith(("林区", "特区"))
                and (authorities.level_of(self.parent) == "city" or self.parent in _MUNICIPALITIES))


# 直辖市: their districts hang straight under the province-level code.
_MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})


@lru_cache(maxsize=1)
def all_divisions() -> dict[str, Division]:
    rows = authorities.national_divisions()
    codes = {code for code, _, _ in rows}
    table = {}
    for code, name, short in rows:
        level = authorities.level_of(code)
        if level == "province":
            parent = None
        elif level == "city" or code[:4] + "00" not in codes:
            # A county directly under its province (省直辖县级行政区划, a municipality's districts) has no city.
            parent = code[:2] + "0000"
        else:
            parent = code[:4] + "00"
        table[code] = Division(code, name, short, parent)
    return table


def division(code: str) -> Division | None:
    return all_divisions().get(code)


@lru_cache(maxsize=1)
def aliases() -> dict[str, tuple[str, ...]]:
    """Every way a name may write a division → the codes it can stand for (full names first)."""
    table: dict[str, list[str]] = {}
    for item in all_divisions().values():
        table.setdefault(item.name, []).append(item.code)
    for item in all_divisions().values():
        if item.short != item.name and item.code not in table.setdefault(item.short, []):
            table[item.short].append(item.code)
    return {alias: tuple(codes) for alias, codes in table.items()}


@lru_cache(maxsize=1)
def alias_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(alias) for alias in aliases()}, reverse=True))


def ancestry(code: str) -> tuple[str, ...]:
    """The division and every division above it, most specific first."""
    chain = []
    current = division(code)
    while current is not None:
        chain.append(current.code)
        current = division(current.parent) if current.parent else None
    return tuple(chain)


def is_within(code: str, ancestor: str) -> bool:
    """Whether `code` is `ancestor` or lies inside it."""
    return ancestor in ancestry(code)


def named(text: str) -> tuple[Division, ...]:
    """The divisions whose full or short name is exactly this text."""
    return tuple(all_divisions()[code] for code in aliases().get(text, ()))


def leading_chain(text: str, authority_code: str) -> tuple[tuple[Division, ...], str]:
    """The divisions a name starts with (广西崇左市江州区…), each inside the one before, and the rest of the name.

    The first is read as the division of the applicant's own authority (or one above it) where the text allows
    that reading; a later one only counts when it lies inside the one before it, so 崇左市江南科技 keeps 江南 in
    the 字号. At least one character is always left over.
    """
    chain: list[Division] = []
    rest = text
    own = set(ancestry(authority_code))
    matched = True
    while matched:
        matched = False
        for length in alias_lengths():
            if len(rest) <= length or rest[:length] not in aliases():
                continue
            candidates = aliases()[rest[:length]]
            if chain:
                inside = [code for code in candidates if code != chain[-1].code and is_within(code, chain[-1].code)]
                if not inside:
                    continue
                pick = inside[0]
            else:
                pick = next((code for code in candidates if code in own), None) or next(
                    (code for code in candidates if code[:2] == authority_code[:2]), candidates[0])
            chain.append(all_divisions()[pick])
            rest, matched = rest[length:], True
            break
    return tuple(chain), rest


def whole_chain(text: str, authority_code: str) -> tuple[Division, ...] | None:
    """The text read entirely as nested divisions (the bracketed part of 云帆（崇左市江州区）科技), or None."""
    chain, rest = leading_chain(text + "\0", authority_code)
    return chain if chain and rest == "\0" else None
