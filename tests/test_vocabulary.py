"""The one vocabulary: every code has one Chinese label, taken from materials.yaml, and the labels SPEC names."""
import re

import yaml

from server.vocabulary import MATERIALS_FILE, VOCABULARY, BusinessType, EntityType, PartyRole

_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_code_has_a_chinese_label():
    for enum_class in VOCABULARY:
        for member in enum_class:
            assert _CJK.search(member.label), f"{enum_class.__name__}.{member.name}"


def test_labels_come_from_materials_yaml():
    data = yaml.safe_load(MATERIALS_FILE.read_text(encoding="utf-8"))["vocabulary"]
    assert data["entity_type"]["llc"] == EntityType.LLC.label
    assert data["party_role"]["legal_rep"] == PartyRole.LEGAL_REP.label


def test_the_business_and_entity_types_are_specs():
    # SPEC "Business and entity types", and seed 000's 一般注销 (never a bare 注销登记).
    assert [member.label for member in EntityType] == ["有限责任公司", "股份有限公司", "个人独资企业", "合伙企业",
                                                       "农民专业合作社", "个体工商户", "分公司"]
    assert BusinessType.DEREGISTER.label == "一般注销登记"
    assert BusinessType.SIMPLE_DEREGISTER.label == "简易注销登记"


def test_an_unknown_code_has_the_given_fallback():
    assert BusinessType.label_of("nonsense", "?") == "?"
    assert BusinessType.label_of(None) == ""
