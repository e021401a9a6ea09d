"""The one-time-notice data (一次性告知): what each business and entity type needs, read from server/data/materials.yaml.

The same functions drive an application's `missing` list and the printed 一次性告知单, so the two never disagree.
"""
from __future__ import annotations

from functools import lru_cache

from server.models.applications import BUSINESS_TYPES, ENTITY_TYPES
from server.vocabulary import BusinessType, EntityType, IdType, PartyKind, PartyRole, materials_data as _data


def _check(business_type: str, entity_type: str) -> None:
    if business_type not in BUSINESS_TYPES:
        raise ValueError(f"unknown business type {business_type!r}")
    if entity_type not in ENTITY_TYPES:
        raise ValueError(f"unknown entity type {entity_type!r}")


def business_info(business_type: str) -> dict:
    """{name, time_limit, basis} of a business type (设立登记: 3个工作日内办结 …)."""
    return {"name": BusinessType(business_type).label, **_data()["business_types"][business_type]}


def change_items() -> dict[str, str]:
    """What a change application may record as changed: item code → Chinese label."""
    return dict(_data()["change_items"])


def _layered(section: str, business_type: str, entity_type: str) -> dict:
    by_business = _data()[section].get(business_type, {})
    merged = dict(by_business.get("_all", {}))
    merged.update(by_business.get(entity_type, {}))
    return merged


def form_fields(business_type: str, entity_type: str) -> tuple[dict, ...]:
    """The form fields (application.entity) of this business and entity type, in order.

    Each: {field, label, type, required, and the type's limits (max_length, min, max, options)}.
    Fields not listed here are refused when an applicant sends them.
    """
    return tuple(dict(spec) for spec in _form_fields(business_type, entity_type))


@lru_cache(maxsize=64)
def _form_fields(business_type: str, entity_type: str) -> tuple[dict, ...]:
    _check(business_type, entity_type)
    types = _data()["field_types"]
    return tuple({"field": field, **types[field], "required": need == "required"}
                 for field, need in _layered("fields", business_type, entity_type).items() if need != "absent")


def party_rules(business_type: str, entity_type: str) -> dict[str, dict]:
    """role → {min, max, persons_only?, shares_total?}: how many parties of each role the form needs."""
    _check(business_type, entity_type)
    return {role: dict(rule) for role, rule in _layered("parties", business_type, entity_type).items()}


def required_materials(business_type: str, entity_type: str) -> tuple[dict, ...]:
    """The materials (attachments) of this business and entity type, the basis of the 一次性告知单.

    Each: {kind, name, signer, basis, when?} — `kind` is the attachment kind an applicant uploads, `name` its
    Chinese name, `signer` who signs or seals it, `basis` the legal provision, `when` (optional) the condition
    on the parties under which it is needed: "has_person_party" or "has_enterprise_investor".
    The business type's time limit is business_info(business_type)["time_limit"]. Callers get fresh dicts.
    """
    return tuple(dict(item) for item in _required_materials(business_type, entity_type))


@lru_cache(maxsize=64)
def _required_materials(business_type: str, entity_type: str) -> tuple[dict, ...]:
    _check(business_type, entity_type)
    by_business = _data()["materials"].get(business_type, {})
    by_kind: dict[str, dict] = {}
    for entry in [*by_business.get("_all", []), *by_business.get(entity_type, [])]:
        by_kind[entry["kind"]] = dict(entry)
    return tuple(by_kind.values())


def is_generated(item: dict, entity: dict | None) -> bool:
    """Whether the system makes this material from the form (so nothing is uploaded): `generated: always`, or
    `generated: <form field>` when the applicant set that field (the 章程 from the model text)."""
    generated = item.get("generated")
    return generated == "always" or (bool(generated) and (entity or {}).get(generated) is True)


def attachment_kinds() -> dict[str, str]:
    """Every attachment kind an applicant may upload → its Chinese name (never one the system always generates)."""
    kinds: dict[str, str] = {}
    for by_business in _data()["materials"].values():
        for entries in by_business.values():
            for entry in entries:
                if entry.get("generated") != "always":
                    kinds.setdefault(entry["kind"], entry["name"])
    return kinds


def form_contract(business_type: str, entity_type: str) -> dict:
    """What the mini-program renders the form of this business and entity type from (GET /api/v1/forms/…): the
    fields of application.entity, the party roles with their counts, the attachments to upload and the documents
    the system generates. The same data the server validates against and lists as `missing`."""
    fields = [{"key": spec["field"], **{key: value for key, value in spec.items() if key != "field"}}
              for spec in form_fields(business_type, entity_type)]
    rules = party_rules(business_type, entity_type)
    party_roles = []
    for role in PartyRole:
        rule = rules.get(role.value, {})
        if rule.get("max") == 0:
            continue
        enterprise_allowed = role == PartyRole.INVESTOR and not rule.get("persons_only")
        party_roles.append({
            "role": role.value, "label": role.label, "min": rule.get("min", 0), "max": rule.get("max"),
            "kinds": [PartyKind.PERSON.value, *([PartyKind.ENTERPRISE.value] if enterprise_allowed else [])],
            "id_types": list(IdType.values()), "shares_total": rule.get("shares_total"),
        })
    attachments, generated = [], []
    for item in required_materials(business_type, entity_type):
        if item.get("generated") == "always":
            generated.append({"kind": item["kind"], "label": item["name"], "when_field": None})
            continue
        if item.get("generated"):
            generated.append({"kind": item["kind"], "label": item["name"], "when_field": item["generated"]})
        condition = condition_label(item.get("when"))
        note = item["signer"] if condition is None else f"{condition}；{item['signer']}"
        if item.get("generated"):
            note = f"勾选“{field_label(item['generated'])}”的无需上传；{note}"
        attachments.append({"kind": item["kind"], "label": item["name"], "required": condition is None,
                            "when": item.get("when"), "note": note, "basis": item["basis"]})
    return {"business_type": business_type, "business_label": BusinessType(business_type).label,
            "entity_type": entity_type, "entity_label": EntityType(entity_type).label,
            "fields": fields, "party_roles": party_roles, "attachments": attachments, "generated_documents": generated}


def condition_label(when: str | None) -> str | None:
    """A material's `when` condition as the applicant reads it (涉及自然人的提交); None for an unconditional one."""
    return _data()["conditions"][when] if when else None


def application_field_label(field: str) -> str | None:
    """The Chinese label of one of the application's own fields (name, credit_code, …); None for any other key."""
    return _data()["application_fields"].get(field)


def field_label(field: str) -> str | None:
    """The Chinese label of a form field (application.entity key); None for a key the forms do not know."""
    spec = _data()["field_types"].get(field)
    return spec["label"] if spec else None


def readable_entity(business_type: str, entity_type: str, entity: dict | None) -> list[tuple[str, str, str]]:
    """The filled form fields as a person reads them, in form order: (key, Chinese label, text) with the unit
    (100 万元), 是/否, and each change as before → after."""
    entity = entity or {}
    items = change_items()
    rows = []
    for spec in form_fields(business_type, entity_type):
        value = entity.get(spec["field"])
        if value is None or value == "":
            continue
        if spec["type"] == "changes":
            text = "；".join(f"{items.get(c['item'], c['item'])}：{c.get('before') or '（无）'} → {c['after']}"
                             for c in value)
        elif spec["type"] == "boolean":
            text = "是" if value else "否"
        else:
            text = f"{value} {spec['unit']}" if spec.get("unit") else str(value)
        rows.append((spec["field"], spec["label"], text))
    return rows
