"""What the generated documents say, taken from the locked snapshot alone: 登记申请书 per business type, and the
有限责任公司章程 from the model text (章程范本) when the applicant chose it.

Pure data (titles, labelled fields, tables, articles, signatories), no layout: render.py lays it out. ID numbers
and phones are masked, because every signatory can open these documents through a link.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from server.services.applications import materials
from server.services.applications.identifiers import mask_id_number, mask_phone
from server.services.signing.signatories import signatories_of
from server.vocabulary import BusinessType, DocumentKind, EntityType, IdType, PartyOrigin, PartyRole, SigningMethod

APPLICATION_FORM = DocumentKind.APPLICATION_FORM.value
ARTICLES = DocumentKind.ARTICLES_OF_ASSOCIATION.value
# The form field by which an LLC applicant chooses the model articles instead of uploading their own.
ARTICLES_CHOICE = "articles_from_model"

DECLARATION = ("本申请人和签字人承诺：提交的申请书和其他申请材料真实、合法、有效，复印件与原件一致，"
               "所填内容不含虚假信息，并对因材料虚假所引发的一切后果依法承担相应责任。")
SIMPLE_DEREGISTER_PROMISE = ("全体投资人承诺：本主体申请注销登记前未发生债权债务或者已将债权债务清偿完结，"
                             "未发生或者已结清清偿费用、职工工资、社会保险费用、法定补偿金、应缴纳税款（滞纳金、罚款），"
                             "不存在未办结的法律责任；如违背承诺，愿依法承担相应法律责任。")


@dataclass(frozen=True)
class Fields:
    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Text:
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Signatory:
    identity: tuple
    name: str
    roles: str
    method: str


@dataclass(frozen=True)
class Document:
    kind: str
    title: str
    subtitle: str
    blocks: tuple = ()
    signatories: tuple[Signatory, ...] = ()
    signing_note: str = ""

    def all_text(self) -> list[str]:
        """Every string the document prints (to choose its fonts)."""
        out = [self.title, self.subtitle, self.signing_note]
        for block in self.blocks:
            out.append(block.title)
            if isinstance(block, Fields):
                out += [text for row in block.rows for text in row]
            elif isinstance(block, Table):
                out += list(block.header) + [text for row in block.rows for text in row]
            else:
                out += list(block.paragraphs)
        out += [f"{s.name}{s.roles}{s.method}" for s in self.signatories]
        return out


def identity(party: dict) -> tuple:
    """Who a party is across the snapshot, the signing requests and the signatures."""
    if party.get("kind") == "enterprise":
        return ("enterprise", party.get("credit_code") or party.get("name"))
    return ("person", (party.get("id_number") or party.get("name") or "").upper())


def _number(value) -> str:
    return format(Decimal(str(value)).normalize(), "f") if value not in (None, "") else ""


def _contribution(capital, share) -> str:
    if capital in (None, "") or share in (None, ""):
        return ""
    return _number((Decimal(str(capital)) * Decimal(str(share)) / 100).quantize(Decimal("0.0001")))


def _value(spec: dict, value) -> str:
    if value is None or value == "":
        return "（未填写）"
    if spec["type"] == "boolean":
        return "是" if value else "否"
    text = _number(value) if spec["type"] == "decimal" else str(value)
    return f"{text} {spec['unit']}" if spec.get("unit") else text


def _signatories(snapshot: dict) -> tuple[Signatory, ...]:
    parties = [SimpleNamespace(id=index, position=index, **{key: party.get(key) for key in (
        "role", "kind", "name", "id_type", "id_number", "origin", "credit_code")})
               for index, party in enumerate(snapshot.get("parties", []))]
    labels = {role: PartyRole(role).label for role in ("investor", "legal_rep")}
    result = []
    for entry in signatories_of(parties):
        if not entry["required"]:
            continue
        party = snapshot["parties"][int(entry["party_id"])]
        result.append(Signatory(identity(party), party["name"], "、".join(labels[role] for role in entry["roles"]),
                                SigningMethod(entry["method"]).label))
    return tuple(result)


def _person_id(party: dict) -> str:
    if party.get("kind") == "enterprise":
        return f"{PartyOrigin.label_of(party.get('origin'), '')} 统一社会信用代码 {party.get('credit_code') or ''}".strip()
    label = IdType.label_of(party.get("id_type"), "证件")
    return f"{label} {mask_id_number(party.get('id_number')) or ''}".strip()


def _investors(snapshot: dict, with_amounts: bool) -> Table | None:
    investors = [p for p in snapshot.get("parties", []) if p.get("role") == "investor"]
    if not investors:
        return None
    capital = (snapshot.get("entity") or {}).get("registered_capital") or \
        (snapshot.get("entity") or {}).get("contributed_capital")
    if with_amounts:
        rows = tuple((p["name"], _person_id(p), _contribution(capital, p.get("share_percent")),
                      f"{_number(p.get('share_percent'))}%" if p.get("share_percent") else "") for p in investors)
        return Table("股东（发起人、出资人）", ("姓名或名称", "证件类型及号码", "出资额（万元）", "出资比例"), rows,
                     (0.24, 0.42, 0.18, 0.16))
    rows = tuple((p["name"], _person_id(p)) for p in investors)
    return Table("投资人（合伙人、成员）", ("姓名或名称", "证件类型及号码"), rows, (0.35, 0.65))


def _people(snapshot: dict) -> Table | None:
    roles = ("legal_rep", "director", "supervisor", "manager", "finance_officer", "liaison")
    people = sorted((p for p in snapshot.get("parties", []) if p.get("role") in roles),
                    key=lambda p: roles.index(p["role"]))
    if not people:
        return None
    rows = tuple((PartyRole(p["role"]).label, p["name"], _person_id(p), mask_phone(p.get("phone")) or "")
                 for p in people)
    return Table("法定代表人、董事、监事、经理、财务负责人、联络员", ("职务", "姓名", "证件类型及号码", "联系电话"), rows,
                 (0.3, 0.16, 0.36, 0.18))


def application_form(snapshot: dict, reference: str, authority_name: str) -> Document:
    """The 登记申请书 of this business type, with every section the national form carries for it."""
    business_type, entity_type = snapshot["business_type"], snapshot["entity_type"]
    entity = snapshot.get("entity") or {}
    entity_label = EntityType(entity_type).label
    basics = [("名称", snapshot.get("name") or "（未填写）"), ("主体类型", entity_label)]
    if snapshot.get("credit_code"):
        basics.append(("统一社会信用代码", snapshot["credit_code"]))
    basics.append(("登记机关", authority_name))
    for spec in materials.form_fields(business_type, entity_type):
        if spec["type"] == "changes" or spec["field"] == ARTICLES_CHOICE:
            continue
        basics.append((spec["label"], _value(spec, entity.get(spec["field"]))))
    blocks: list = [Fields("登记事项", tuple(basics))]
    if business_type == "change":
        items = materials.change_items()
        rows = tuple((items.get(c["item"], c["item"]), c.get("before") or "", c.get("after") or "")
                     for c in entity.get("changes") or [])
        blocks.append(Table("变更事项", ("变更项目", "变更前", "变更后"), rows, (0.22, 0.39, 0.39)))
    investors = _investors(snapshot, entity_type in ("llc", "joint_stock"))
    if investors:
        blocks.append(investors)
    people = _people(snapshot)
    if people:
        blocks.append(people)
    promises = [DECLARATION]
    if business_type == "simple_deregister":
        promises.append(SIMPLE_DEREGISTER_PROMISE)
    blocks.append(Text("申请人承诺", tuple(promises)))
    # 有限责任公司设立登记申请书, …一般注销登记申请书: the business type's one label, as the seeds name it.
    title = f"{entity_label}{BusinessType(business_type).label}申请书"
    return Document(APPLICATION_FORM, title, f"申请编号 {reference}", tuple(blocks), _signatories(snapshot),
                    "以下有权签字人通过人脸核验后手写签名，或以企业电子印章、电子营业执照签署；签名即确认本申请书及全部申请材料。")


def offers_model_articles(snapshot: dict) -> bool:
    return (snapshot.get("business_type") == "establish" and snapshot.get("entity_type") == "llc"
            and (snapshot.get("entity") or {}).get(ARTICLES_CHOICE) is True)


def _organ(count: int, board: str, single: str, none: str) -> str:
    if count >= 3:
        return board
    if count >= 1:
        return single
    return none


def articles(snapshot: dict, reference: str) -> Document:
    """有限责任公司章程 from the model text, filled from the form: shareholders, capital, contributions, governance."""
    entity = snapshot.get("entity") or {}
    name = snapshot.get("name") or "（未填写）"
    parties = snapshot.get("parties", [])
    by_role = {role: [p["name"] for p in parties if p.get("role") == role]
               for role in ("legal_rep", "director", "supervisor", "manager")}
    directors, supervisors, managers = by_role["director"], by_role["supervisor"], by_role["manager"]
    legal_rep = "、".join(by_role["legal_rep"]) or "（未填写）"
    capital = _number(entity.get("registered_capital"))
    board = _organ(len(directors), f"公司设董事会，成员{len(directors)}人（{'、'.join(directors)}），由股东会选举产生，任期三年，"
                                   "任期届满可连选连任。董事会对股东会负责，行使《中华人民共和国公司法》第六十七条规定的职权。",
                   f"公司不设董事会，设董事一名，由{'、'.join(directors)}担任，行使《中华人民共和国公司法》规定的董事会职权。",
                   "公司不设董事会，设董事一名，由股东会选举产生，行使《中华人民共和国公司法》规定的董事会职权。")
    supervision = _organ(len(supervisors), f"公司设监事会，成员{len(supervisors)}人（{'、'.join(supervisors)}），"
                                           "其中职工代表的比例不低于三分之一，行使《中华人民共和国公司法》第七十八条规定的职权。",
                         f"公司不设监事会，设监事一名，由{'、'.join(supervisors)}担任，行使《中华人民共和国公司法》规定的监事会职权。",
                         "经全体股东一致同意，公司不设监事。")
    manager = (f"公司设经理，由{'、'.join(managers)}担任，由董事会（董事）决定聘任或者解聘，根据公司章程的规定或者董事会的授权行使职权。"
               if managers else "公司不设经理。")
    chapters = (
        Text("第一章 总则", (
            "第一条 为规范公司的组织和行为，保护公司、股东、职工和债权人的合法权益，依据《中华人民共和国公司法》"
            "（以下简称《公司法》）和有关法律、法规的规定，制定本章程。",
            f"第二条 公司名称：{name}。",
            f"第三条 公司住所：{entity.get('address') or '（未填写）'}。",
            f"第四条 公司营业期限：{entity.get('operating_term') or '（未填写）'}。")),
        Text("第二章 经营范围", (f"第五条 公司经营范围：{entity.get('business_scope') or '（未填写）'}。",)),
        Text("第三章 注册资本", (f"第六条 公司注册资本：人民币{capital or '（未填写）'}万元。",)),
        Text("第四章 股东的姓名或者名称、出资额、出资方式和出资日期", (
            "第七条 股东的姓名或者名称、认缴出资额及出资比例见下表。股东以货币出资，"
            "全体股东认缴的出资额自公司成立之日起五年内缴足（《公司法》第四十七条）。",)),
        _investors(snapshot, True) or Text("股东", ("（未填写股东）",)),
        Text("", ("第八条 股东应当按期足额缴纳各自认缴的出资额；股东未按期足额缴纳出资的，应当对给公司造成的损失承担赔偿责任。",)),
        Text("第五章 公司的机构及其产生办法、职权、议事规则", (
            "第九条 股东会由全体股东组成，是公司的权力机构，行使《公司法》第五十九条规定的职权。",
            "第十条 股东会会议由股东按照出资比例行使表决权。股东会作出修改公司章程、增加或者减少注册资本的决议，以及公司合并、分立、"
            "解散或者变更公司形式的决议，应当经代表三分之二以上表决权的股东通过；作出其他决议，应当经代表过半数表决权的股东通过。",
            f"第十一条 {board}",
            f"第十二条 {manager}",
            f"第十三条 {supervision}")),
        Text("第六章 法定代表人", (
            f"第十四条 公司的法定代表人由代表公司执行公司事务的董事或者经理担任，由{legal_rep}担任。",)),
        Text("第七章 股权转让", (
            "第十五条 股东之间可以相互转让其全部或者部分股权。股东向股东以外的人转让股权的，应当将股权转让的数量、价格、支付方式和期限等"
            "事项书面通知其他股东，其他股东在同等条件下有优先购买权（《公司法》第八十四条）。",)),
        Text("第八章 附则", (
            "第十六条 本章程与法律、行政法规相抵触的，以法律、行政法规的规定为准。",
            "第十七条 本章程自全体股东签署之日起生效，一式两份，公司留存一份，登记机关备案一份。")),
    )
    investors = {identity(p) for p in parties if p.get("role") == "investor"}
    signers = tuple(s for s in _signatories(snapshot) if s.identity in investors)
    return Document(ARTICLES, f"{name}章程", f"依据有限责任公司章程范本生成 · 申请编号 {reference}", chapters, signers,
                    "全体股东签署（自然人股东签名，法人股东盖章）。")


def documents_for(snapshot: dict, reference: str, authority_name: str) -> list[Document]:
    """Every document generated for this snapshot, 申请书 first."""
    result = [application_form(snapshot, reference, authority_name)]
    if offers_model_articles(snapshot):
        result.append(articles(snapshot, reference))
    return result
