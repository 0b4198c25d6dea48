"""`jiesu audit verify|query|export`, `jiesu export-all` and `jiesu purge`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from api.cli import _engine_command
from engine import audit_query, handover
from engine.audit_export import export_audit
from engine.audit_query import AuditFilter
from engine.audit_verify import ChainReport, expected_rows, verify_trail
from engine.errors import EngineError
from engine.factory import attachments_dir
from engine.localtime import parse_staff_time, staff_text
from engine.privacy import Actor
from engine.service import Engine


@contextmanager
def _bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    with tqdm(total=total, desc=label, unit="行") as bar:
        yield bar.update


def _time_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    try:
        return parse_staff_time(value) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filters every audit query takes; times are Beijing time unless they name an offset."""
    options = (
        click.option("--ticket", "ticket_no", default=None, help="Ticket number."),
        click.option("--instance", "instance_id", type=int, default=None, help="Process instance id."),
        click.option("--task", "task_id", default=None, help="Task id."),
        click.option("--by", "by_actor", default=None, help="Who acted."),
        click.option("--event", default=None, help="Event name, e.g. task.completed."),
        click.option("--since", callback=_time_option, default=None, help="From (inclusive), e.g. 2026-11-20."),
        click.option("--until", callback=_time_option, default=None, help="Before (exclusive)."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _build_filter(engine: Engine, ticket_no: str | None, instance_id: int | None, task_id: str | None,
                  by_actor: str | None, event: str | None, since: datetime | None,
                  until: datetime | None) -> AuditFilter:
    ticket_id = None
    if ticket_no is not None:
        with engine.db.engine.connect() as conn:
            ticket_id = audit_query.ticket_id_for(conn, ticket_no)
    return AuditFilter(ticket_id, instance_id, task_id, by_actor, event, since, until)


@click.group("audit")
def audit_group() -> None:
    """Audit trail: verify the hash chain, query, export."""


def _anchor_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    row_id, _, digest = value.partition(":")
    if not row_id.isdigit() or len(digest) != 64:
        raise click.BadParameter("格式应为 记录编号:哈希，即上次校验输出的最后一条")
    return int(row_id), digest


@audit_group.command("verify")
@click.option("--expect", "anchor", callback=_anchor_option, default=None,
              help="ID:HASH printed by an earlier check; it must still be in the chain (detects a cut-off end).")
@_engine_command
def verify(engine: Engine, actor: Actor, anchor: tuple[int, str] | None) -> None:
    """Check the whole hash chain; name the first broken row."""
    with engine.db.engine.connect() as conn:
        total = expected_rows(conn)
    with tqdm(total=total, desc="校验审计链", unit="行") as bar:
        report = verify_trail(engine, actor, anchor, progress=bar.update)
    _report(report, anchor_hint=True)


def _report(report: ChainReport, anchor_hint: bool) -> None:
    if not report.ok:
        click.echo(f"审计链已损坏：{report.problem}（此前 {report.checked} 条完好）", err=True)
        sys.exit(1)
    click.echo(f"审计链完好：共 {report.checked} 条")
    if anchor_hint and report.head_id is not None:
        click.echo(f"请留存最后一条，下次校验时核对：--expect {report.head_id}:{report.head_hash}")


@audit_group.command("verify-export")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_export(folder: Path) -> None:
    """Check a folder written by export-all on its own: files, audit chain, recorded head (no database)."""
    try:
        with tqdm(desc="校验导出的审计链", unit="行") as bar:
            report = handover.verify_export_folder(folder, progress=bar.update)
    except EngineError as exc:
        click.echo(f"错误：{exc.message}", err=True)
        sys.exit(1)
    _report(report, anchor_hint=False)


@audit_group.command("query")
@_filter_options
@click.option("--after", type=int, default=None, help="Cursor: the last id of the previous page.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--oldest-first", is_flag=True, help="Oldest first (default: newest first).")
@_engine_command
def query(engine: Engine, actor: Actor, after: int | None, limit: int, oldest_first: bool, **filters: Any) -> None:
    """One page of audit rows matching the filters."""
    page = audit_query.audit_page(engine, actor, _build_filter(engine, **filters), after, limit,
                                  newest_first=not oldest_first)
    for row in page.rows:
        data = json.dumps(row["data"], ensure_ascii=False, sort_keys=True, default=str)
        click.echo(f"{row['id']}  {staff_text(row['at'])}  {row['actor']}  {row['event_label']}"
                   f"（{row['event']}）  {row['ticket_no'] or '-'}  {data}")
    more = f"；下一页：--after {page.next_after}" if page.has_more else ""
    click.echo(f"本页 {len(page.rows)} 条{more}")


@audit_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_filter_options
@click.option("--role", "roles", multiple=True,
              help="Export as a reader of these roles (callers' data unmasked only for roles allowed to see it).")
@_engine_command
def export(engine: Engine, actor: Actor, path: Path, roles: tuple[str, ...], **filters: Any) -> None:
    """Export matching audit rows to PATH (.csv or .xlsx)."""
    reader = Actor(actor.name, frozenset(roles)) if roles else actor
    flt = _build_filter(engine, **filters)
    with engine.db.engine.connect() as conn:
        total = audit_query.count(conn, flt, audit_query.head_id(conn))
    with tqdm(total=total, desc="导出审计记录", unit="行") as bar:
        result = export_audit(engine, reader, flt, path, progress=bar.update)
    shown = ""
    if result.unmasked_tickets:
        shown = f"，其中 {result.unmasked_tickets} 件工单的来电人信息未遮蔽（已记入审计）"
    click.echo(f"已导出 {result.rows} 条到 {result.path}{shown}")


@click.command("export-all")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@_engine_command
def export_all(engine: Engine, actor: Actor, folder: Path) -> None:
    """Contract end: write every table and the attachments to FOLDER with a manifest."""
    summary = handover.export_all(engine, actor, folder, attachments_dir(), bars=_bar)
    for name, rows in summary.rows.items():
        click.echo(f"{name}：{rows} 行")
    click.echo(f"附件 {summary.attachments} 个；清单 SHA-256 {summary.manifest_sha256}（已记入审计）")


@click.command("purge")
@click.option("--export", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder written by export-all.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_engine_command
def purge(engine: Engine, actor: Actor, folder: Path, yes: bool) -> None:
    """Contract end: remove callers' names and phones from all tickets, after a recorded export."""
    if not yes:
        click.confirm("将永久清除所有工单的来电人姓名和电话，不可恢复。确认继续？", abort=True)
    summary = handover.purge_personal_data(engine, actor, folder, bars=_bar)
    click.echo(f"已清除 {summary.tickets} 件工单的个人信息；审计记录第 {summary.audit_id} 条，"
               f"导出清单 SHA-256 {summary.manifest_sha256}")
