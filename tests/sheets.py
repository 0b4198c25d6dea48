"""Writing 12345 export sheets (CSV and Excel) for import tests."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from engine.analysis.ticket_import import COLUMNS

HEADER = list(COLUMNS)


def sheet_row(ticket_no: str, received: str = "2026-11-02 09:30:00", **overrides: Any) -> dict[str, Any]:
    """One row as the 12345 platform exports it: a valid, contacted, solved, satisfied callback."""
    row = {"工单编号": ticket_no, "来电时间": received, "来电人": "李四", "来电号码": "13912345678",
           "发生地址": "城南街道龙锦苑东五区3号楼", "一级分类": "城市管理", "二级分类": "环境卫生",
           "三级分类": "垃圾清运",
           "主要内容": "小区垃圾桶满溢无人清运，气味难闻。", "承办单位": "城南街道城管科", "处理结果": "已协调清运",
           "截止时间": "2026-11-09 09:30:00", "数据来源": "12345热线", "是否有效回访": "是", "是否联系": "是",
           "是否解决": "是", "是否满意": "满意", "是否保留": "是", "七有五性": "宜居性", "每月一题": "",
           "村/社区": "龙锦苑社区", "工单性质": "主办"}
    return row | overrides


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> Path:
    header = header or HEADER
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[row.get(name, "") for name in header] for row in rows])
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> Path:
    from openpyxl import Workbook

    header = header or HEADER
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(name, "") or None for name in header])
    book.save(path)
    return path
