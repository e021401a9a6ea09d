"""seed-demo for 码上导办: a few service points of 崇左市 and the guide content their QR pages show."""
from __future__ import annotations

from server.config import Settings
from server.models.guides import GuideItem, ServicePoint
from server.services.guides.points import landing_url, new_code

DEMO_POINTS = [
    ("崇左市政务服务中心市场主体登记专窗", "registration_window", "451400", "崇左市江州区石景林路6号市民服务中心一楼", "0771-7961234"),
    ("中国农业银行崇左分行营业部帮办点", "bank_branch", "451402", "崇左市江州区友谊大道12号", "0771-7832345"),
    ("崇左万达广场帮办服务点", "mall", "451402", "崇左市江州区城南路万达广场一层服务台", "0771-7833456"),
    ("江州镇便民服务中心帮办点", "village", "451402", "崇左市江州区江州镇政府大院", "0771-7834567"),
]
DEMO_GUIDES = [
    ("video", "企业开办一窗通网上操作演示", {"external_url": "https://www.gxzf.gov.cn/"}),
    ("guide", "个体工商户设立登记办事指南",
     {"body": "1. 申请人只需携带身份证，到就近帮办网点或在“一窗通”小程序办理。\n"
              "2. 通过实名认证后，由帮办人员全程帮办代办。\n3. 材料齐全、符合法定形式的，3个工作日内办结，不收费。"}),
]


async def seed_demo_guides(settings: Settings) -> list[str]:
    """Idempotent: points and content are added only once, by name."""
    lines = []
    for name, type_, authority, address, hotline in DEMO_POINTS:
        point = await ServicePoint.get_or_none(name=name)
        if point is None:
            point = await ServicePoint.create(
                code=new_code(), name=name, type=type_, authority_id=authority, address=address, hotline=hotline,
                opening_hours="周一至周五 9:00-12:00，14:30-17:30", has_sign=True, has_computer=True, has_staff=True,
                has_guide=True, has_hotline=True, has_public_notice=True)
        lines.append(f"service point  {name}  {landing_url(settings, point)}")
    for kind, title, extra in DEMO_GUIDES:
        if not await GuideItem.exists(title=title):
            await GuideItem.create(kind=kind, title=title, authority_id="451400", **extra)
    lines.append("posters: python -m server posters")
    return lines
