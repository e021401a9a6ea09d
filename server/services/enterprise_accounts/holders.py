"""What an approved legal-person account opens (seed 001): 变更 and 注销 filings for its enterprise."""
from __future__ import annotations

from tortoise.expressions import Q

from server.crypto import blind_index
from server.errors import Forbidden
from server.models.accounts import Applicant
from server.models.enterprise_accounts import EnterpriseAccount

ACCOUNT_REQUIRED = ("办理变更、注销登记须先注册该企业的法人账号：由法定代表人本人在“法人注册”中注册并人脸核验，"
                    "或由代理人注册、法定代表人在48小时内人脸核验并电子签署授权委托书，经登记机关审核通过后即可办理。")

class AccountRequired(Forbidden):
    code = "enterprise_account_required"


async def require_account_holder(applicant_id: int, credit_code: str) -> EnterpriseAccount:
    """变更 and 注销 need an approved account for the entity held by the applicant: its registrant (the legal
    representative or their authorised agent), or the legal representative logged in with their own phone."""
    applicant = await Applicant.get_or_none(id=applicant_id)
    holder = Q(applicant_id=applicant_id)
    if applicant is not None and applicant.phone:
        holder |= Q(legal_rep_phone_index=blind_index(applicant.phone))
    account = await EnterpriseAccount.filter(holder, credit_code=credit_code, status="approved").first()
    if account is None:
        raise AccountRequired(ACCOUNT_REQUIRED, field="credit_code")
    return account

