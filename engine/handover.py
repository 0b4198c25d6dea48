"""Contract end: export everything in open formats, then purge callers' personal data.

The export folder holds one file per table (CSV for flat tables, JSON Lines where rows hold documents),
the attachments, and manifest.json with each file's row count and SHA-256. The export is recorded in
the audit trail with the manifest's SHA-256; a purge only proceeds against such a recorded, intact and
still current export, and records its own counts and that manifest hash in the trail.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Table, func, or_, select, update

from engine import audit
from engine.audit import AuditEntry
from engine.audit_query import head_id
from engine.audit_verify import ChainReport, verify_export
from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import (
    Alert,
    AuditEvent,
    ComplaintGroup,
    ComplaintGroupTicket,
    Deployment,
    DutyShift,
    Evidence,
    Incident,
    IncidentTicket,
    Instance,
    TaskRecord,
    Ticket,
    TicketSignature,
)
from engine.privacy import PERSONAL_FIELDS, Actor
from engine.tabular import Progress, write_csv

if TYPE_CHECKING:
    from engine.service import Engine

MANIFEST = "manifest.json"
ATTACHMENTS = "attachments"
# Replaces the intake hash, which covers the caller's name and phone and so could be used to guess them.
PURGED_INTAKE_HASH = "purged"
# Reads leave rows with a ticket id but change nothing an export holds.
_READ_EVENTS = ("personal_data.read", "personal_data.exported")
_PURGE_BATCH = 1000
_AUDIT = AuditEvent.__table__
_TICKETS = Ticket.__table__

# (file, table, how rows are written)
_TABLES: tuple[tuple[str, Table, str], ...] = (
    ("tickets.csv", _TICKETS, "csv"),
    ("tasks.csv", TaskRecord.__table__, "csv"),
    ("audit_events.csv", _AUDIT, "csv"),
    ("instances.jsonl", Instance.__table__, "jsonl"),
    ("deployments.jsonl", Deployment.__table__, "jsonl"),
    *((f"{model.__tablename__}.csv", model.__table__, "csv") for model in (
        ComplaintGroup, ComplaintGroupTicket, Incident, IncidentTicket, Evidence, Alert, DutyShift)),
)

# A progress bar for one part of the work: (label, total) -> context giving an "advance by n" function.
Bars = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@dataclass(frozen=True)
class ExportSummary:
    folder: Path
    manifest_sha256: str
    rows: dict[str, int]
    attachments: int


@dataclass(frozen=True)
class PurgeSummary:
    tickets: int
    manifest_sha256: str
    audit_id: int


def export_all(engine: Engine, actor: Actor, folder: Path, attachments: Path | None = None,
               bars: Bars | None = None) -> ExportSummary:
    """Write every table and the attachments to `folder` (new or empty) from one consistent snapshot."""
    _require_admin(actor, "全量导出")
    bars = bars or _no_bars
    if folder.exists() and any(folder.iterdir()):
        raise InvalidData(f"导出目录 {folder} 不为空，请指定新目录", {"folder": ["目录不为空。"]})
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds callers' data: owner only
    files: dict[str, dict[str, Any]] = {}
    with _snapshot(engine) as conn:
        head = conn.execute(select(_AUDIT.c.id, _AUDIT.c.hash).order_by(_AUDIT.c.id.desc()).limit(1)).first()
        for name, table, kind in _TABLES:
            total = conn.scalar(select(func.count()).select_from(table))
            with bars(name, total) as advance:
                rows = _write_table(conn, table, folder / name, kind, advance)
            files[name] = {"rows": rows, **_digest(folder / name)}
    files |= _copy_attachments(attachments, folder / ATTACHMENTS, bars)
    manifest = {"format": 1, "exported_at": engine.clock().isoformat(), "exported_by": actor.name,
                "audit_head": {"id": head.id, "hash": head.hash} if head else None, "files": files}
    (folder / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    manifest_sha = _digest(folder / MANIFEST)["sha256"]
    rows = {name: entry["rows"] for name, entry in files.items() if entry["rows"] is not None}
    attached = sum(1 for entry in files.values() if entry["rows"] is None)
    _record(engine, AuditEntry("data.exported", actor.name, data={
        "manifest_sha256": manifest_sha, "rows": rows, "attachments": attached}))
    return ExportSummary(folder, manifest_sha, rows, attached)


def purge_personal_data(engine: Engine, actor: Actor, folder: Path, bars: Bars | None = None) -> PurgeSummary:
    """Remove callers' names and phones from every ticket, once `folder` holds a recorded, intact export.

    Refused (nothing changes) when the folder has no manifest, the manifest or a file differs from what
    was exported, the export is not in the audit trail, or tickets changed after it.
    """
    _require_admin(actor, "清除个人信息")
    manifest, manifest_sha = _check_export_files(folder)
    now = engine.clock()
    with engine.db.transaction() as conn:
        audit.lock_chain(conn)  # no command commits a change between the checks and the purge
        export_row = _export_record(conn, manifest_sha)
        _check_no_changes_since(conn, (manifest["audit_head"] or {}).get("id", 0))
        purged = _purge_tickets(conn, bars or _no_bars)
        entry = AuditEntry("personal_data.purged", actor.name, data={
            "tickets": purged, "fields": list(PERSONAL_FIELDS), "manifest_sha256": manifest_sha,
            "export_audit_id": export_row})
        audit.append(conn, [entry], now)
        audit_id = head_id(conn)
    return PurgeSummary(purged, manifest_sha, audit_id)


def verify_export_folder(folder: Path, progress: Progress = None) -> ChainReport:
    """Check an export on its own, e.g. after the database is gone: every file as the manifest lists it,
    the exported audit chain sound, and ending at the head the export recorded."""
    manifest, _ = _check_export_files(folder)
    report = verify_export(folder / "audit_events.csv", progress)
    head = manifest.get("audit_head")
    if report.ok and head and (report.head_id, report.head_hash) != (head["id"], head["hash"]):
        return replace(report, broken_id=head["id"], problem=f"导出的审计记录没有以清单记载的第 {head['id']} 条结尾")
    return report


# -- export ------------------------------------------------------------------------------------------

@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction over all tables; REPEATABLE READ on PostgreSQL (SQLite reads are snapshots)."""
    options = {"isolation_level": "REPEATABLE READ"} if not engine.db.is_sqlite else {}
    with engine.db.engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def _write_table(conn: Connection, table: Table, path: Path, kind: str, advance: Callable[[int], None]) -> int:
    order = list(table.primary_key.columns)
    result = conn.execution_options(yield_per=1000).execute(select(table).order_by(*order))
    names = list(result.keys())
    if kind == "csv":
        rows = ([_cell(value) for value in row] for row in result)
        return write_csv(path, names, rows, advance)
    return _write_jsonl(path, (dict(zip(names, row, strict=True)) for row in result), advance)


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]], advance: Callable[[int], None]) -> int:
    count = 0
    with path.open("wb") as handle:
        for row in rows:
            if isinstance(row.get("state"), str):
                row["state"] = orjson.loads(row["state"])  # stored JSON: keep it readable, not quoted
            handle.write(orjson.dumps(row) + b"\n")
            count += 1
            advance(1)
    return count


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _copy_attachments(source: Path | None, target: Path, bars: Bars) -> dict[str, dict[str, Any]]:
    target.mkdir()
    paths = sorted(p for p in source.rglob("*") if p.is_file()) if source and source.is_dir() else []
    files = {}
    with bars(ATTACHMENTS, len(paths)) as advance:
        for path in paths:
            copy = target / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            files[copy.relative_to(target.parent).as_posix()] = {"rows": None, **_digest(copy)}
            advance(1)
    return files


def _digest(path: Path) -> dict[str, Any]:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return {"sha256": sha.hexdigest(), "bytes": path.stat().st_size}


def _record(engine: Engine, entry: AuditEntry) -> None:
    now = engine.clock()
    with engine.db.transaction() as conn:
        audit.append(conn, [entry], now)


# -- purge -------------------------------------------------------------------------------------------

def _check_export_files(folder: Path) -> tuple[dict[str, Any], str]:
    """The manifest and its SHA-256, once every file it lists is there unchanged."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise Conflict(f"{folder} 中没有导出清单 {MANIFEST}：请先执行全量导出（jiesu export-all）")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"].items()
    except (ValueError, KeyError, AttributeError) as exc:
        raise Conflict(f"导出清单 {manifest_path} 无法读取：{exc}") from exc
    for name, entry in files:
        path = folder / name
        if not path.is_file() or _digest(path)["sha256"] != entry["sha256"]:
            raise Conflict(f"导出文件 {name} 缺失或与清单不符，导出不完整")
    return manifest, _digest(manifest_path)["sha256"]


def _export_record(conn: Connection, manifest_sha: str) -> int:
    """The id of the audit row that recorded this export."""
    found = conn.scalar(select(_AUDIT.c.id).where(_AUDIT.c.event == "data.exported")
                        .where(_AUDIT.c.data["manifest_sha256"].as_string() == manifest_sha)
                        .order_by(_AUDIT.c.id.desc()).limit(1))
    if found is None:
        raise Conflict("审计记录中没有这次导出（清单哈希不符）：请使用本系统 jiesu export-all 生成的导出")
    return found


def _check_no_changes_since(conn: Connection, snapshot_head: int) -> None:
    """Refuse when a ticket changed after the export's snapshot, even while the export was being written.

    Appends are serialised until commit, so exactly the rows above the snapshot's last id came later.
    """
    first_change = conn.scalar(select(func.min(_AUDIT.c.id)).where(
        _AUDIT.c.id > snapshot_head, _AUDIT.c.ticket_id.is_not(None), _AUDIT.c.event.not_in(_READ_EVENTS)))
    if first_change is not None:
        raise Conflict(f"导出之后工单又有变动（审计记录第 {first_change} 条起），请重新导出后再清除个人信息")


def _purge_tickets(conn: Connection, bars: Bars) -> int:
    holds_data = or_(_TICKETS.c.caller_name.is_not(None), _TICKETS.c.caller_phone.is_not(None))
    ids = conn.scalars(select(_TICKETS.c.id).where(holds_data).order_by(_TICKETS.c.id)).all()
    with bars("清除个人信息", len(ids)) as advance:
        for start in range(0, len(ids), _PURGE_BATCH):
            chunk = ids[start:start + _PURGE_BATCH]
            conn.execute(update(_TICKETS).where(_TICKETS.c.id.in_(chunk))
                         .values(caller_name=None, caller_phone=None, intake_hash=PURGED_INTAKE_HASH))
            advance(len(chunk))
    # Keyed hashes of callers' phones (group detection) go too: they single out a caller as well.
    conn.execute(update(TicketSignature.__table__).where(TicketSignature.caller_hash.is_not(None))
                 .values(caller_hash=None))
    return len(ids)


def _no_bars(_label: str, _total: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda _n: None)


def _require_admin(actor: Actor, what: str) -> None:
    if "admin" not in actor.roles:
        raise Forbidden(f"只有系统管理员可以执行{what}")
