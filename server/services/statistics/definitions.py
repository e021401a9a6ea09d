"""Every figure's definition, written once: the README quotes them, the API returns them, the page shows them."""
from __future__ import annotations

from zoneinfo import ZoneInfo

# Timeline actions the figures count (server/services/applications/lifecycle.py names them).
SUBMIT_ACTIONS = ("submit_cloud", "submit_general")
RETURN_ACTION = "return"
PASS_ACTIONS = ("approve_lock", "accept")
# The decisions that end a submission's first pass, one way or the other.
DECISION_ACTIONS = (*PASS_ACTIONS, RETURN_ACTION)

# Periods are Beijing-time calendar days (PERIOD_NOTE); the rollups are kept by the same days.
ZONE = ZoneInfo("Asia/Shanghai")

FIGURES: dict[str, dict[str, str]] = {
    "submitted": {
        "label": "提交审核件数",
        "unit": "件",
        "definition": "期间内进入审核（云帮办提交或一般流程提交）的申请，同一申请期间内多次提交只计一次。",
    },
    "returned": {
        "label": "退件数",
        "unit": "件",
        "definition": "期间内被登记机关退回修改至少一次的申请，同一申请多次退回只计一次。",
    },
    "return_rate": {
        "label": "退件率",
        "unit": "%",
        "definition": "退件数 ÷ 提交审核件数。同比 = （本期退件率 − 去年同期退件率）÷ 去年同期退件率。",
    },
    "cloud_submitted": {
        "label": "云帮办提交件数",
        "unit": "件",
        "definition": "期间内至少一次通过云帮办（免签名）提交审核的申请。",
    },
    "cloud_share": {
        "label": "云帮办占比",
        "unit": "%",
        "definition": "云帮办提交件数 ÷ 提交审核件数。",
    },
    "first_pass": {
        "label": "一次通过件数",
        "unit": "件",
        "definition": "期间内提交审核的申请中，其期间内首次提交后的第一个审核决定是云帮办通过（锁定）或受理、而非退回的件数。",
    },
    "first_pass_rate": {
        "label": "一次通过率",
        "unit": "%",
        "definition": "一次通过件数 ÷ 提交审核件数。",
    },
    "signatures_saved": {
        "label": "减少电子签名",
        "unit": "人次",
        "definition": "期间内每件经云帮办全部签名后提交的申请：锁定前被退回的轮数 × 该申请的有权签字人数（一般流程下每退回一轮全部签字人需重新签名），逐件相加。",
    },
    "signing_rounds": {
        "label": "签名轮次",
        "unit": "轮",
        "definition": "期间内经云帮办全部签名后提交的申请，每件只需签名一轮。",
    },
    "hours_saved": {
        "label": "减少办件时间",
        "unit": "小时",
        "definition": "减少电子签名人次 × 每人次签名所需分钟数（系统配置，默认 3 分钟）÷ 60。",
    },
    "online_rate": {
        "label": "网办率",
        "unit": "%",
        "definition": "网上提交审核件数 ÷（网上提交审核件数 + 导入的线下办件数），按期间内的整月计算；线下数按登记机关和月份导入，不分业务类型。",
    },
    "submission_to_lock": {
        "label": "提交至锁定",
        "unit": "工作小时",
        "definition": "期间内每次云帮办通过（锁定）距其前一次云帮办提交的工作时长（工作日工作时间内计时）。工作时长按分钟计（不足半分钟舍去，满半分钟计一分钟）。",
    },
    "lock_to_signed": {
        "label": "锁定至全部签名",
        "unit": "工作小时",
        "definition": "期间内经云帮办全部签名后提交的申请，自锁定至最后一个签名的工作时长。工作时长按分钟计（不足半分钟舍去，满半分钟计一分钟）。",
    },
    "submission_to_approval": {
        "label": "提交至核准",
        "unit": "工作小时",
        "definition": "期间内核准的申请，自首次提交审核至核准的工作时长。中位数与第90百分位数按相邻排位线性插值。工作时长按分钟计（不足半分钟舍去，满半分钟计一分钟）。",
    },
    "scans": {
        "label": "扫码次数",
        "unit": "次",
        "definition": "辖区内帮办网点二维码在期间内被扫描的次数。",
    },
    "unique_visitors": {
        "label": "扫码人数",
        "unit": "人",
        "definition": "每个网点每天扫码的不同访客数，按天相加（同一人不同日各计一次）。",
    },
    "appointments_booked": {
        "label": "预约数",
        "unit": "次",
        "definition": "辖区内帮办网点预约时段开始于期间内的预约，已取消的不计。",
    },
    "appointments_served": {
        "label": "已办结",
        "unit": "次",
        "definition": "其中到场签到并由帮办员标记办结的预约。",
    },
    "appointments_no_show": {
        "label": "未到场",
        "unit": "次",
        "definition": "其中时段结束仍未签到的预约。",
    },
    "ratings": {
        "label": "评价数",
        "unit": "条",
        "definition": "期间内收到的好差评（网点预约服务与登记申请办理），按评价时间计；平均分为1–5分的算术平均。",
    },
    "ratings_bad": {
        "label": "差评数",
        "unit": "条",
        "definition": "其中1分或2分的评价，每条须在3个工作日内书面回复。",
    },
}

PERIOD_NOTE = "期间按北京时间自然日计算，起止日期均含；去年同期为前一年相同月日（2月29日对应2月28日）。"


def label(key: str) -> str:
    return FIGURES[key]["label"]


def definition(key: str) -> str:
    return FIGURES[key]["definition"]


def hours_saved_assumption(minutes_per_signature: float) -> str:
    return f"按每人次电子签名约 {minutes_per_signature:g} 分钟估算"
