"""The one-time-notice data: every business and entity type has its materials, fields and party rules."""
import pytest

from server.services.applications import materials

BUSINESS = ["establish", "change", "deregister", "simple_deregister"]
ENTITIES = ["llc", "joint_stock", "sole_proprietorship", "partnership", "cooperative", "individual_business", "branch"]


@pytest.mark.parametrize("business_type", BUSINESS)
@pytest.mark.parametrize("entity_type", ENTITIES)
def test_every_combination_lists_materials_with_signer_and_basis(business_type, entity_type):
    items = materials.required_materials(business_type, entity_type)
    # 登记申请书: always generated from the form (signed online), never uploaded.
    assert [item.get("generated") for item in items if item["kind"] == "application_form"] == ["always"]
    assert all(item["name"] and item["signer"] and item["basis"].startswith("《") for item in items)
    assert len({item["kind"] for item in items}) == len(items)
    assert materials.form_fields(business_type, entity_type)
    assert "legal_rep" in materials.party_rules(business_type, entity_type)
    assert "3个工作日" in materials.business_info(business_type)["time_limit"]


def test_individual_business_simple_deregistration_has_no_public_notice_fields():
    fields = {spec["field"] for spec in materials.form_fields("simple_deregister", "individual_business")}
    assert "notice_start" not in fields and "notice_end" not in fields
    llc_fields = {spec["field"] for spec in materials.form_fields("simple_deregister", "llc")}
    assert {"notice_start", "notice_end", "objections_raised"} <= llc_fields


def test_entity_type_entries_replace_shared_ones_of_the_same_kind():
    forms = [item for item in materials.required_materials("establish", "individual_business")
             if item["kind"] == "application_form"]
    assert [item["name"] for item in forms] == ["个体工商户登记申请书"]


def test_callers_cannot_change_the_shared_data():
    materials.required_materials("establish", "llc")[0]["name"] = "changed"
    materials.form_fields("establish", "llc")[0]["label"] = "changed"
    assert materials.required_materials("establish", "llc")[0]["name"] != "changed"
    assert materials.form_fields("establish", "llc")[0]["label"] != "changed"


def test_unknown_types_are_refused():
    with pytest.raises(ValueError):
        materials.required_materials("merge", "llc")
    with pytest.raises(ValueError):
        materials.form_fields("establish", "bank")
