"""The dashboard's tables as XLSX (openpyxl: Chinese headers, number formats) and CSV, with the same numbers as the API."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from server.services.statistics.definitions import FIGURES, PERIOD_NOTE
from server.vocabulary import StatisticsTable

COUNT = "#,##0"
PERCENT = '0.00"%"'
HOURS = "0.00"
HEADLINE = ("submitted", "returned", "return_rate", "cloud_submitted", "cloud_share", "first_pass", "first_pass_rate",
            "signing_rounds", "signatures_saved", "hours_saved")
ROW_COLUMNS = (
    ("submitted", "提交审核件数", COUNT), ("returned", "退件数", COUNT), ("return_rate", "退件率", PERCENT),
    ("last_year_return_rate", "去年同期退件率", PERCENT), ("return_rate_yoy", "退件率同比", PERCENT),
    ("cloud_submitted", "云帮办提交件数", COUNT), ("cloud_share", "云帮办占比", PERCENT),
    ("first_pass", "一次通过件数", COUNT), ("first_pass_rate", "一次通过率", PERCENT),
    ("signing_rounds", "签名轮次", COUNT), ("signatures_saved", "减少电子签名（人次）", COUNT),
    ("hours_saved", "减少办件时间（小时）", HOURS),
)


def _format(key: str) -> str:
    unit = FIGURES.get(key, {}).get("unit")
    return PERCENT if unit == "%" else HOURS if unit in ("小时", "工作小时") else COUNT


def tables(summary: dict, monthly: dict | None) -> dict[str, tuple[list[tuple[str, str]], list[list]]]:
    """Each table as (columns [(title, number format)], rows)."""
    out = {}
    out["summary"] = ([("指标", "@"), ("本期", ""), ("去年同期", ""), ("同比", PERCENT), ("口径", "@")], [
        [FIGURES[key]["label"], summary["figures"][key]["value"], summary["figures"][key]["last_year"],
         summary["figures"][key]["yoy"], FIGURES[key]["definition"]] for key in HEADLINE])
    online = summary["online"]
    out["summary"][1].append([FIGURES["online_rate"]["label"], online.get("rate"), None, None,
                              online.get("note") or FIGURES["online_rate"]["definition"]])
    columns = [(title, fmt) for _, title, fmt in ROW_COLUMNS]
    out["business_types"] = ([("业务类型", "@"), *columns],
                             [[row["label"], *(row[key] for key, _, _ in ROW_COLUMNS)]
                              for row in summary["by_business_type"]])
    out["authorities"] = ([("登记机关代码", "@"), ("登记机关", "@"), *columns],
                          [[row["authority"], row["name"], *(row[key] for key, _, _ in ROW_COLUMNS)]
                           for row in summary["by_authority"]])
    if monthly is not None:
        out["monthly"] = ([("起", "@"), ("止", "@"), ("退件率", PERCENT), ("去年同期退件率", PERCENT), ("同比", PERCENT)],
                          [[p["from"], p["to"], p["value"], p["last_year"], p["yoy"]] for p in monthly["points"]])
    out["durations"] = ([("时长", "@"), ("件数", COUNT), ("中位数（工作小时）", HOURS), ("第90百分位数（工作小时）", HOURS),
                         ("口径", "@")],
                        [[entry["label"], entry["count"], entry["median"], entry["p90"], entry["definition"]]
                         for entry in summary["durations"].values()])
    # Appointment and rating columns only where those records exist (else the page's note says why).
    points = summary["points"]
    point_columns = [("scans", "扫码次数", COUNT), ("unique_visitors", "扫码人数", COUNT)]
    if points["appointments"]:
        point_columns += [("booked", "预约数", COUNT), ("served", "已办结", COUNT), ("no_show", "未到场", COUNT)]
    if points["ratings"]:
        point_columns += [("ratings", "评价数", COUNT), ("rating_average", "平均分", HOURS), ("ratings_bad", "差评数", COUNT)]
    out["points"] = ([("网点", "@"), *((title, fmt) for _, title, fmt in point_columns)],
                     [[row["name"], *(row[key] for key, _, _ in point_columns)] for row in points["items"]])
    return out


def title_of(summary: dict) -> str:
    filters = summary["filters"]
    kinds = "·".join(filter(None, (filters.get("business_type_label"), filters.get("entity_type_label"))))
    return (f"{summary['authority']['name']} 登记业务统计 {summary['period']['from']} 至 {summary['period']['to']}"
            + (f"（{kinds}）" if kinds else ""))


def workbook(summary: dict, monthly: dict | None) -> bytes:
    book = Workbook()
    book.remove(book.active)
    bold, head_fill = Font(bold=True), PatternFill("solid", fgColor="EEF1F5")
    for key, (columns, rows) in tables(summary, monthly).items():
        sheet = book.create_sheet(StatisticsTable(key).label)
        sheet.append([title_of(summary)])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([title for title, _ in columns])
        for cell in sheet[2]:
            cell.font, cell.fill = bold, head_fill
        for row in rows:
            sheet.append(row)
        for index, (title, fmt) in enumerate(columns, start=1):
            letter = get_column_letter(index)
            wide = fmt == "@" and title in ("口径",)
            sheet.column_dimensions[letter].width = 60 if wide else max(12, len(title) * 2 + 2)
            for cell in sheet[letter][2:]:
                if fmt and fmt != "@":
                    cell.number_format = fmt
                if wide:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        if key == "summary":  # one figure a row: its own format in the 本期 and 去年同期 columns
            for row_cells, figure in zip(sheet.iter_rows(min_row=3, max_col=3), (*HEADLINE, "online_rate")):
                for cell in row_cells[1:]:
                    cell.number_format = _format(figure)
        sheet.freeze_panes = "A3"
    notes = book.create_sheet("说明")
    notes.append(["指标", "口径"])
    for cell in notes[1]:
        cell.font = bold
    for entry in FIGURES.values():
        notes.append([entry["label"], entry["definition"]])
    notes.append(["统计期间", PERIOD_NOTE])
    notes.append(["减少办件时间", summary["hours_saved_assumption"]])
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = 18, 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(summary: dict, monthly: dict | None, table: str) -> str:
    columns, rows = tables(summary, monthly)[table]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for title, _ in columns])
    writer.writerows([["" if value is None else value for value in row] for row in rows])
    # With a BOM, Excel opens the Chinese headers correctly.
    return "\ufeff" + out.getvalue()
