"""Import of 12345 ticket sheets as historical tickets, in one transaction, idempotent per sheet.

Imported tickets live in the `tickets` table beside engine tickets, marked origin="import", with status
"archived" and no workflow instance: they are records of work done elsewhere, counted by the analysis
but never worked on here. A sheet row whose number belongs to an engine ticket updates only the
callback outcome the district recorded (the assessment uses the district's record); the engine keeps
everything else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, String, bindparam, insert, select, update

from engine import audit
from engine.audit import AuditEntry
from engine.errors import InvalidData
from engine.models import SheetImport, Ticket
from engine.privacy import Actor
from engine.service import Engine

from .sheet import check_columns, read_sheet, text

Progress = Callable[[Iterable[Any], str], Iterable[Any]]  # (items, what is being done) -> the same items
KIND = "tickets"
ARCHIVED = "archived"
_CHUNK = 2000
_MAX_SHOWN_ERRORS = 20

# Sheet column -> ticket column, in the order the 12345 platform exports them.
COLUMNS = {
    "工单编号": "ticket_no", "来电时间": "received_at", "来电人": "caller_name", "来电号码": "caller_phone",
    "发生地址": "address", "一级分类": "category_l1", "二级分类": "category_l2", "三级分类": "category_l3",
    "主要内容": "content", "承办单位": "lead_unit", "处理结果": "handling_result", "截止时间": "deadline_at",
    "数据来源": "source", "是否有效回访": "valid_callback", "是否联系": "contacted", "是否解决": "solved",
    "是否满意": "satisfaction", "是否保留": "exempted", "七有五性": "policy_tags", "每月一题": "monthly_theme",
    "村/社区": "community", "工单性质": "handling_role",
}
# What the district's callback record decides, also for tickets handled in the engine.
CALLBACK_FIELDS = ("valid_callback", "contacted", "solved", "satisfaction", "exempted")
_YES_NO = {"是": True, "否": False}
_SATISFACTION = ("满意", "基本满意", "不满意", "未评价")
_HANDLING_ROLES = ("主办", "协办")
_TAG_SPLIT = re.compile(r"[、,，;；\s]+")


@dataclass(frozen=True)
class ImportResult:
    filename: str
    rows: int
    created: int
    updated: int
    unchanged: int
    already_imported: bool


def import_tickets(engine: Engine, path: Path, actor: Actor,
                   progress: Progress = lambda items, _what: items) -> ImportResult:
    """Check and write the rows in one transaction, batch by batch; any error rolls all of it back."""
    sheet = read_sheet(path)
    index = check_columns(sheet, tuple(COLUMNS), tuple(COLUMNS))
    now = engine.clock()
    with engine.db.transaction() as conn:
        if conn.scalar(select(SheetImport.id).where(SheetImport.kind == KIND,
                                                    SheetImport.content_hash == sheet.content_hash)) is not None:
            return ImportResult(sheet.filename, 0, 0, 0, 0, True)
        import_id = conn.scalar(insert(SheetImport).values(
            kind=KIND, filename=sheet.filename[:255], content_hash=sheet.content_hash, rows=0,
            imported_at=now, imported_by=actor.name).returning(SheetImport.id))
        checker = _Checker(_RowParser(engine.rules.at(now.date()), index))
        rows, created, updated = 0, 0, 0
        for batch in checker.batches(progress(sheet.rows(), "导入")):
            if not checker.errors:  # after the first error, only keep checking to report every problem
                c, u = _write_chunk(conn, batch, import_id, now)
                rows, created, updated = rows + len(batch), created + c, updated + u
        checker.raise_errors(sheet.filename)
        conn.execute(update(SheetImport).where(SheetImport.id == import_id).values(rows=rows))
        # Counts and file identity only: the sheet's personal data stays in the tickets' own columns.
        audit.append(conn, [AuditEntry("sheet.imported", actor.name, data={
            "kind": KIND, "filename": sheet.filename, "content_hash": sheet.content_hash, "rows": rows,
            "created": created, "updated": updated})], now)
    return ImportResult(sheet.filename, rows, created, updated, rows - created - updated, False)


class _Checker:
    """Parses numbered rows into batches and collects every error with its row number."""

    def __init__(self, parser: _RowParser):
        self.parser = parser
        self.errors: list[str] = []
        self.seen: dict[str, int] = {}

    def batches(self, numbered: Iterable[tuple[int, tuple[Any, ...]]]) -> Iterator[list[dict[str, Any]]]:
        batch = []
        for number, raw in numbered:
            row = self._check(number, raw)
            if row is not None:
                batch.append(row)
            if len(batch) == _CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    def raise_errors(self, filename: str) -> None:
        if not self.errors:
            return
        shown = "\n".join(self.errors[:_MAX_SHOWN_ERRORS])
        more = f"\n……另有 {len(self.errors) - _MAX_SHOWN_ERRORS} 处错误" if len(self.errors) > _MAX_SHOWN_ERRORS else ""
        raise InvalidData(f"文件 {filename} 有 {len(self.errors)} 处错误，未导入任何数据：\n{shown}{more}")

    def _check(self, number: int, raw: tuple[Any, ...]) -> dict[str, Any] | None:
        row, problems = self.parser.parse(raw)
        if row is not None and row["ticket_no"] in self.seen:
            problems.append(f"工单编号 {row['ticket_no']} 与第 {self.seen[row['ticket_no']]} 行重复")
        if problems:
            self.errors += [f"第 {number} 行：{message}" for message in problems]
            return None
        self.seen[row["ticket_no"]] = number
        return row


class _RowParser:
    """Turns one sheet row into ticket columns, or into messages that say what is wrong."""

    def __init__(self, rules: dict[str, Any], index: dict[str, int]):
        self.positions = [(field, index[name]) for name, field in COLUMNS.items()]
        self.zone = ZoneInfo(rules["timezone"])
        self.policy_tags = set(rules["policy_tags"])
        self.limits = {column.name: column.type.length for column in Ticket.__table__.columns
                       if isinstance(column.type, String) and column.type.length and column.name in _LABELS}

    def parse(self, raw: tuple[Any, ...]) -> tuple[dict[str, Any] | None, list[str]]:
        size = len(raw)
        cells = {field: _cell(raw[position]) if position < size else None for field, position in self.positions}
        errors: list[str] = []
        row = {field: self._convert(field, value, errors) for field, value in cells.items()}
        for field, limit in self.limits.items():
            if isinstance(row.get(field), str) and len(row[field]) > limit:
                errors.append(f"{_label(field)}超过 {limit} 个字")
        if not row["ticket_no"]:
            errors.append("工单编号为空")
        if row["received_at"] is None and not any("来电时间" in e for e in errors):
            errors.append("来电时间为空")
        row["intake_hash"] = hashlib.sha256("\x1f".join(str(v) for v in cells.values()).encode()).hexdigest()
        return (None if errors else row), errors

    def _convert(self, field: str, value: str | None, errors: list[str]) -> Any:
        converter = _CONVERTERS.get(field)
        if converter is None or value is None:
            return [] if field == "policy_tags" else value
        try:
            return converter(self, value)
        except ValueError as exc:
            errors.append(f"{_label(field)}“{value}”{exc}")
            return None

    def _time(self, value: str) -> datetime:
        try:
            local = datetime.fromisoformat(value.replace("/", "-"))
        except ValueError:
            raise ValueError("不是有效时间，应写成 2026-11-20 09:30") from None
        aware = local if local.tzinfo else local.replace(tzinfo=self.zone)
        return aware.astimezone(UTC)

    def _yes_no(self, value: str) -> bool:
        if value not in _YES_NO:
            raise ValueError("应填“是”或“否”")
        return _YES_NO[value]

    def _kept(self, value: str) -> bool:
        return not self._yes_no(value)  # 是否保留 = 否 means the ticket was exempted (剔除)

    def _satisfaction(self, value: str) -> str:
        if value not in _SATISFACTION:
            raise ValueError(f"应为{'、'.join(_SATISFACTION)}之一")
        return value

    def _tags(self, value: str) -> list[str]:
        tags = [tag for tag in _TAG_SPLIT.split(value) if tag]
        unknown = [tag for tag in tags if tag not in self.policy_tags]
        if unknown:
            raise ValueError(f"含有未定义的标签 {'、'.join(unknown)}")
        return tags

    def _handling_role(self, value: str) -> str:
        if value not in _HANDLING_ROLES:
            raise ValueError("应为“主办”或“协办”")
        return value


_CONVERTERS = {
    "received_at": _RowParser._time, "deadline_at": _RowParser._time, "valid_callback": _RowParser._yes_no,
    "contacted": _RowParser._yes_no, "solved": _RowParser._yes_no, "exempted": _RowParser._kept,
    "satisfaction": _RowParser._satisfaction, "policy_tags": _RowParser._tags,
    "handling_role": _RowParser._handling_role,
}
_LABELS = {field: name for name, field in COLUMNS.items()}


def _cell(value: Any) -> str | None:
    """Fast path for CSV, where every cell is already text."""
    if type(value) is str:
        return value.strip() or None
    return text(value)


def _label(field: str) -> str:
    return _LABELS.get(field, field)


_TICKETS = Ticket.__table__
_EXISTING = select(_TICKETS.c.id, _TICKETS.c.ticket_no, _TICKETS.c.origin, _TICKETS.c.intake_hash,
                   *(_TICKETS.c[f] for f in CALLBACK_FIELDS)).where(
    _TICKETS.c.ticket_no.in_(bindparam("numbers", expanding=True)))
_UPDATE_IMPORTED = update(_TICKETS).where(_TICKETS.c.id == bindparam("b_id"))
_UPDATE_CALLBACK = update(_TICKETS).where(_TICKETS.c.id == bindparam("b_id")).values(
    {field: bindparam(f"b_{field}") for field in (*CALLBACK_FIELDS, "updated_at")})


def _write_chunk(conn: Connection, rows: list[dict[str, Any]], import_id: int, now: datetime) -> tuple[int, int]:
    existing = {r.ticket_no: r for r in conn.execute(_EXISTING, {"numbers": [row["ticket_no"] for row in rows]})}
    new = [_new_ticket(row, import_id, now) for row in rows if row["ticket_no"] not in existing]
    if new:
        conn.execute(insert(_TICKETS), new)
    changed_imports, changed_callbacks = [], []
    for row in rows:
        found = existing.get(row["ticket_no"])
        if found is None:
            continue
        if found.origin == "import" and found.intake_hash != row["intake_hash"]:
            values = {**_sheet_values(row, import_id), "updated_at": now}
            changed_imports.append({"b_id": found.id, **{f"b_{key}": value for key, value in values.items()}})
        elif found.origin != "import" and _callback_changed(found, row):
            changed_callbacks.append({"b_id": found.id, "b_updated_at": now,
                                      **{f"b_{field}": _keep(row[field], getattr(found, field))
                                         for field in CALLBACK_FIELDS}})
    if changed_imports:
        columns = [key.removeprefix("b_") for key in changed_imports[0] if key != "b_id"]
        conn.execute(_UPDATE_IMPORTED.values({column: bindparam(f"b_{column}") for column in columns}),
                     changed_imports)
    if changed_callbacks:
        conn.execute(_UPDATE_CALLBACK, changed_callbacks)
    return len(new), len(changed_imports) + len(changed_callbacks)


def _keep(new: Any, old: Any) -> Any:
    """An empty cell in the sheet does not erase what the engine recorded."""
    return old if new is None else new


def _callback_changed(found: Any, row: dict[str, Any]) -> bool:
    return any(row[field] is not None and row[field] != getattr(found, field) for field in CALLBACK_FIELDS)


def _sheet_values(row: dict[str, Any], import_id: int) -> dict[str, Any]:
    return {**row, "source": row["source"] or "未注明", "address": row["address"] or "",
            "content": row["content"] or "", "import_id": import_id}


def _new_ticket(row: dict[str, Any], import_id: int, now: datetime) -> dict[str, Any]:
    return {**_sheet_values(row, import_id), "origin": "import", "status": ARCHIVED, "current_step": None,
            "request_type": None, "sla_level": None, "tags": [], "assist_units": [], "closed_at": None,
            "created_at": now, "updated_at": now}
