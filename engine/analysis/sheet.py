"""Reading 12345 export sheets (CSV or Excel) as a header and a stream of rows, with errors staff can act on.

Rows are streamed from the file, never held all at once: a city-wide export has a million rows.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine.errors import InvalidData

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
# The 12345 platform exports UTF-8 with BOM; files saved from Chinese Excel are GB18030.
_ENCODINGS = ("utf-8-sig", "gb18030")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Sheet:
    """A sheet's header, its body rows on demand, and the hash of its bytes (same file again: a no-op)."""

    filename: str
    content_hash: str
    header: tuple[str, ...]
    _open: Callable[[], Iterator[tuple[Any, ...]]]  # every row of the file, header first

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Body rows with their row number in the file (the header is row 1); blank rows are skipped."""
        rows = self._open()
        next(rows, None)
        for number, row in enumerate(rows, start=2):
            if any(cell not in (None, "") for cell in row):
                yield number, row


def read_sheet(path: Path) -> Sheet:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        opener = _excel_opener(path)
    elif suffix == ".csv":
        opener = _csv_opener(path)
    else:
        raise InvalidData(f"文件 {path.name} 的格式不支持：请提供 .xlsx 或 .csv 文件")
    header = next(opener(), None)
    if header is None:
        raise InvalidData(f"文件 {path.name} 是空的")
    return Sheet(path.name, digest, tuple(str(name).strip() if name is not None else "" for name in header), opener)


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
    elif isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    stripped = str(value).strip()
    return stripped or None


def _csv_opener(path: Path) -> Callable[[], Iterator[tuple[Any, ...]]]:
    encoding = _encoding(path)

    def rows() -> Iterator[tuple[Any, ...]]:
        with path.open(encoding=encoding, newline="") as handle:
            yield from csv.reader(handle)

    return rows


def _encoding(path: Path) -> str:
    """The first encoding the whole file decodes in, checked block by block."""
    for encoding in _ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while block := handle.read(_BLOCK):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InvalidData(f"文件 {path.name} 的编码无法识别：请另存为 UTF-8 编码的 CSV")


def _excel_opener(path: Path) -> Callable[[], Iterator[tuple[Any, ...]]]:
    from openpyxl import load_workbook  # imported here: only Excel imports pay for it

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise InvalidData(f"文件 {path.name} 不是有效的 Excel 文件：{exc}") from exc
        try:
            yield from book.worksheets[0].iter_rows(values_only=True)
        finally:
            book.close()

    return rows
