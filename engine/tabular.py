"""Writes rows to CSV or Excel files, streaming, for exports staff open in spreadsheet programs."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from engine.errors import InvalidData

Progress = Callable[[int], None] | None
# A sheet holds 1,048,576 rows, one of them the header.
EXCEL_MAX_ROWS = 1_048_575
# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_csv(path: Path, header: list[str], rows: Iterable[list[Any]], progress: Progress = None,
              guard_formulas: bool = False) -> int:
    """UTF-8 with a byte order mark, so Excel shows Chinese correctly; returns the number of rows."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_guarded(v) for v in row] if guard_formulas else row)
            count += 1
            if progress:
                progress(1)
    return count


def write_xlsx(path: Path, header: list[str], rows: Iterable[list[Any]], progress: Progress = None,
               max_rows: int = EXCEL_MAX_ROWS) -> int:
    """A write-only workbook (constant memory); every cell is stored as text, never as a formula."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("导出")
    sheet.append(header)
    count = 0
    for row in rows:
        if count == max_rows:
            sheet.close()  # finish the sheet's stream, or its generator fails when collected
            raise InvalidData(f"Excel 每个工作表最多 {max_rows} 行数据，请缩小查询范围或导出为 CSV",
                              {"path": ["行数超出 Excel 上限。"]})
        sheet.append([_text_cell(sheet, value) for value in row])
        count += 1
        if progress:
            progress(1)
    book.save(path)
    return count


def _guarded(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _text_cell(sheet: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell
