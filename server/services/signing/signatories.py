"""Who must sign (有效签名判定, seed 000 附件 2/3): the signatories of an application and how each signs.

The parties with signing authority are the investors (投资人/股东) and the legal representative or person in
charge (法定代表人/负责人/经营者/执行事务合伙人), for every business and entity type. Directors, supervisors,
managers, liaisons and finance officers are named in the materials but sign nothing here: their appointment is
decided by the investors' resolution, which the investors sign. One person holding two roles (an investor who is
also the legal representative) signs once; the entry lists all their roles.

For each signatory:
1. natural person with a 居民身份证 → required, by face verification (method face);
2. natural person with any other ID → no signature needed (method none);
3. enterprise registered in the home province (config home_province) → required, electronic seal (e_seal) or
   electronic business license (e_license), its choice when signing;
4. enterprise registered elsewhere → required, electronic business license (e_license). A foreign enterprise
   (origin foreign) is treated the same way, although such an application is not eligible for 云帮办 at all.
The origin is what the applicant declares; the credit code's division only serves as a hint (home_mismatch).
"""
from __future__ import annotations

from server.models.applications import Application, Party

SIGNING_ROLES = ("investor", "legal_rep")


def enterprise_methods(origin: str | None) -> tuple[str, ...]:
    """Rule 3 and 4 (seed 000 附件3): a home-province enterprise chooses its e-seal or its e-license; any other, the
    e-license. The first is what the signatory list shows."""
    return ("e_seal", "e_license") if origin == "home_province" else ("e_license",)


def signing_method(party: Party) -> str:
    if party.kind == "enterprise":
        return enterprise_methods(party.origin)[0]
    return "face" if party.id_type == "resident_id" else "none"


def _identity(party: Party) -> tuple:
    if party.kind == "enterprise":
        return ("enterprise", party.credit_code or f"party:{party.id}")
    return ("person", party.id_type, (party.id_number or "").upper() or f"party:{party.id}")


def signatories_of(parties: list[Party], home_province: str | None = None) -> list[dict]:
    """The signatories among these parties, in form order, one entry per person or enterprise."""
    by_identity: dict[tuple, dict] = {}
    for party in sorted(parties, key=lambda p: p.position):
        if party.role not in SIGNING_ROLES:
            continue
        entry = by_identity.get(_identity(party))
        if entry is not None:
            if party.role not in entry["roles"]:
                entry["roles"].append(party.role)
            continue
        method = signing_method(party)
        entry = {
            "party_id": str(party.id), "name": party.name, "role": party.role, "roles": [party.role],
            "kind": party.kind, "required": method != "none", "method": method,
        }
        if home_province and party.kind == "enterprise" and party.origin == "home_province" and party.credit_code:
            # Positions 3–4 of a credit code are the registering province: a hint that the declared origin is off.
            entry["home_mismatch"] = party.credit_code[2:4] != home_province
        by_identity[_identity(party)] = entry
    return list(by_identity.values())


async def required_signatories(application: Application, home_province: str, connection=None) -> list[dict]:
    """Every signatory of the application ({party_id, name, role, roles, kind, required, method}), required or not."""
    parties = await Party.filter(application_id=application.id).using_db(connection).order_by("position")
    return signatories_of(parties, home_province)
