"""Reading 12345 export sheets (CSV or Excel) into header + row tuples, with errors staff can act on."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine.errors import InvalidData

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Sheet:
    """A sheet's header and rows, and the hash of its bytes (re-importing the same file is a no-op)."""

    filename: str
    content_hash: str
    header: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def read_sheet(path: Path) -> Sheet:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in EXCEL_SUFFIXES:
        rows = _excel_rows(data, path.name)
    elif path.suffix.lower() == ".csv":
        rows = _csv_rows(data, path.name)
    else:
        raise InvalidData(f"文件 {path.name} 的格式不支持：请提供 .xlsx 或 .csv 文件")
    header = next(rows, None)
    if header is None:
        raise InvalidData(f"文件 {path.name} 是空的")
    header = tuple(str(name).strip() if name is not None else "" for name in header)
    body = [row for row in rows if any(cell not in (None, "") for cell in row)]
    return Sheet(path.name, digest, header, body)


def check_columns(sheet: Sheet, expected: tuple[str, ...], required: tuple[str, ...]) -> dict[str, int]:
    """Column name -> index; unknown, duplicate or missing columns are named in one error."""
    problems = []
    unknown = [name or "（空列名）" for name in sheet.header if name not in expected]
    duplicate = sorted({name for name in sheet.header if name and sheet.header.count(name) > 1})
    missing = [name for name in required if name not in sheet.header]
    if unknown:
        problems.append(f"无法识别的列：{'、'.join(unknown)}")
    if duplicate:
        problems.append(f"重复的列：{'、'.join(duplicate)}")
    if missing:
        problems.append(f"缺少的列：{'、'.join(missing)}")
    if problems:
        raise InvalidData(f"文件 {sheet.filename} 的列不符合要求。" + "；".join(problems))
    return {name: index for index, name in enumerate(sheet.header)}


def text(value: Any) -> str | None:
    """A cell as stripped text; empty cells are None. Excel gives numbers for digit-only codes."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    stripped = str(value).strip()
    return stripped or None


def _csv_rows(data: bytes, filename: str) -> Iterator[tuple[Any, ...]]:
    # The 12345 platform exports UTF-8 with BOM; files saved from Chinese Excel are GB18030.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            decoded = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidData(f"文件 {filename} 的编码无法识别：请另存为 UTF-8 编码的 CSV")
    return (tuple(row) for row in csv.reader(io.StringIO(decoded, newline="")))


def _excel_rows(data: bytes, filename: str) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook  # imported here: only Excel imports pay for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InvalidData(f"文件 {filename} 不是有效的 Excel 文件：{exc}") from exc
    return book.worksheets[0].iter_rows(values_only=True)
