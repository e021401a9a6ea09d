"""行业或者经营特点 in enterprise names, by the 国民经济行业分类 (GB/T 4754-2017).

规定第九条: the industry a name states follows the enterprise's main business and the national classification, or,
where the classification has no word for it, the usage of the trade. So the terms a name may use are
- every 大类/中类/小类 name of the classification (server/data/gbt4754_2017.txt) that reads as a term (谷物种植,
  餐饮业 and its short form 餐饮, 软件开发 …; not the catch-alls such as 其他… or lists joined by 、/和/及);
- the short forms used in names, each mapped to its classes (names.yaml `industry_terms`: 科技, 商贸, 建筑工程 …);
- terms a registration authority accepts locally (names.yaml `local_industry_terms`, same shape).
Two terms are the same industry (规定第十七条 "同行业") when their classes share a 大类.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from server.services.applications.name_words import word_lists

CLASSIFICATION_FILE = Path(__file__).resolve().parents[2] / "data" / "gbt4754_2017.txt"
# 门类 S and T (党政机关、国家机构、群众团体、国际组织) are no industry an enterprise may name.
_NOT_FOR_ENTERPRISES = ("S", "T")
_NOT_A_TERM = re.compile(r"其他|未列明|未包括|[、和及与等（(]")
_TRIMMED_ENDINGS = ("业", "服务", "制造")


@dataclass(frozen=True)
class IndustryClass:
    code: str
    name: str

    @property
    def level(self) -> str:
        return "门类" if self.code.isalpha() else {2: "大类", 3: "中类", 4: "小类"}[len(self.code)]

    def public(self) -> dict:
        return {"code": self.code, "name": self.name, "level": self.level}


@lru_cache(maxsize=1)
def classification() -> tuple[dict[str, IndustryClass], dict[str, tuple[str, ...]]]:
    """(code → class, 门类 letter → its 大类 codes), read once from the data file."""
    classes: dict[str, IndustryClass] = {}
    sections: dict[str, list[str]] = {}
    section = ""
    for line in CLASSIFICATION_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        code, name = line.split(" ", 1)
        classes[code] = IndustryClass(code, name)
        if code.isalpha():
            section = code
            sections[section] = []
        elif len(code) == 2:
            sections[section].append(code)
    return classes, {letter: tuple(codes) for letter, codes in sections.items()}


def divisions_of(code: str) -> frozenset[str]:
    """The 大类 a class code covers: a 门类 all of its own, a 中类/小类 the one it belongs to."""
    _, sections = classification()
    return frozenset(sections[code]) if code.isalpha() else frozenset({code[:2]})


def _section_of(code: str) -> str:
    _, sections = classification()
    return next(letter for letter, codes in sections.items() if code[:2] in codes)


@dataclass(frozen=True)
class Term:
    """An industry term with the classes it stands for; no classes = 跨行业综合经营 (实业), any industry."""

    text: str
    codes: tuple[str, ...]
    source: str  # "classification" | "short_form" | "local"

    @property
    def divisions(self) -> frozenset[str]:
        return frozenset().union(*(divisions_of(code) for code in self.codes)) if self.codes else frozenset()

    def classes(self) -> list[dict]:
        table, _ = classification()
        return [table[code].public() for code in self.codes]


def _classification_terms() -> dict[str, set[str]]:
    table, _ = classification()
    terms: dict[str, set[str]] = {}
    for code, item in table.items():
        if code.isalpha() or _section_of(code) in _NOT_FOR_ENTERPRISES or _NOT_A_TERM.search(item.name):
            continue
        forms = {item.name}
        forms.update(item.name[: -len(ending)] for ending in _TRIMMED_ENDINGS if item.name.endswith(ending))
        for form in forms:
            # 笔的制造 → 笔的 is no term.
            if len(form) >= 2 and not form.endswith("的"):
                terms.setdefault(form, set()).add(code)
    return terms


def _checked_codes(term: str, codes, section: str) -> tuple[str, ...]:
    table, _ = classification()
    if not isinstance(codes, list) or any(str(code) not in table for code in codes):
        raise ValueError(f"names.yaml {section}: “{term}” must map to a list of GB/T 4754-2017 codes "
                         f"(门类 letter or 2/3/4-digit code), got {codes!r}")
    return tuple(str(code) for code in codes)


@lru_cache(maxsize=1)
def terms() -> dict[str, Term]:
    """Every industry term a name may use → what it stands for; a local term overrides a short form of that text."""
    table = {text: Term(text, tuple(sorted(codes)), "classification") for text, codes in _classification_terms().items()}
    words = word_lists()
    for section, source in (("industry_terms", "short_form"), ("local_industry_terms", "local")):
        for text, codes in (words.get(section) or {}).items():
            table[str(text)] = Term(str(text), _checked_codes(str(text), codes, section), source)
    return table


@lru_cache(maxsize=1)
def term_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(text) for text in terms()}, reverse=True))


def split_industry(rest: str) -> tuple[str, str]:
    """(字号, 行业): the longest term the rest ends with, then any terms right before it (旅游+文化传媒), as long as a
    字号 of two characters is left; with no term, the whole rest is the 字号."""
    table, lengths = terms(), term_lengths()
    industry = ""
    while True:
        room = len(rest) - (2 if industry else 1)
        found = next((length for length in lengths if length <= room and rest[-length:] in table), None)
        if found is None:
            return rest, industry
        rest, industry = rest[:-found], rest[-found:] + industry


@lru_cache(maxsize=4096)
def classify(industry: str) -> Term | None:
    """The term an industry phrase is judged by: the phrase itself, else its longest known ending (旅游文化传媒 → 文化传媒)."""
    if not industry:
        return None
    table = terms()
    for start in range(len(industry)):
        if industry[start:] in table:
            return table[industry[start:]]
    return None


def same_industry(a: str, b: str) -> bool:
    """规定第十七条 "同行业": equal terms, or terms whose classes share a 大类. A name with no industry term, or with a
    term for 跨行业综合经营 (实业), is compared with every industry; an unknown phrase only with itself."""
    if not a or not b or a == b:
        return True
    term_a, term_b = classify(a), classify(b)
    if term_a is None or term_b is None:
        return False
    if not term_a.codes or not term_b.codes:
        return True
    return bool(term_a.divisions & term_b.divisions)
