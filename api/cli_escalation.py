"""`jiesu duty …`, `jiesu escalation …` and `jiesu alerts deliver`: the roster, incidents and the alert outbox."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import click

from api.cli import _engine_command
from engine.localtime import staff_text
from engine.privacy import Actor
from engine.service import Engine
from engine.workdays import LOCAL_TZ


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD：{text}") from exc


@click.group("duty")
def duty_group() -> None:
    """The duty roster (值班表): dates, shifts and levels."""


@duty_group.command("add")
@click.argument("day", callback=lambda _c, _p, v: _day(v))
@click.argument("shift")
@click.option("--level", type=int, default=1, show_default=True, help="1 duty officer, 2 leader on duty, …")
@click.option("--person", required=True, help="Name of the person on duty.")
@click.option("--email", default=None, help="Where e-mail alerts go.")
@_engine_command
def duty_add(engine: Engine, actor: Actor, day: date, shift: str, level: int, person: str, email: str | None) -> None:
    """Put PERSON on duty for SHIFT of DAY (Beijing date), e.g. 2026-11-20 白班."""
    shift_id = engine.escalations.add_duty(day, shift, level, person, email, actor)
    click.echo(f"已安排值班（编号 {shift_id}）：{day} {shift} {level} 级 {person}")


@duty_group.command("remove")
@click.argument("shift_id", type=int)
@_engine_command
def duty_remove(engine: Engine, actor: Actor, shift_id: int) -> None:
    """Take a roster entry off."""
    engine.escalations.remove_duty(shift_id, actor)
    click.echo(f"已取消值班安排 {shift_id}")


@duty_group.command("list")
@click.option("--from", "first", default=None, help="First Beijing date (default: today).")
@click.option("--to", "last", default=None, help="Last Beijing date (default: a week after the first).")
@_engine_command
def duty_list(engine: Engine, actor: Actor, first: str | None, last: str | None) -> None:
    """The roster between two Beijing dates."""
    start = _day(first) if first else engine.clock().astimezone(LOCAL_TZ).date()
    rows = engine.escalations.roster(start, _day(last) if last else start + timedelta(days=6))
    for row in rows:
        click.echo(f"{row['id']:>5}  {row['duty_date']} {row['shift']:<4} {row['level_label']:<6} {row['person']:<8} "
                   f"{row['span']}  {row['email'] or '-'}")
    click.echo(f"共 {len(rows)} 条值班安排")


@click.group("escalation")
def escalation_group() -> None:
    """Group complaints and public-opinion incidents (群诉、舆情)."""


@escalation_group.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only incidents still being handled.")
@_engine_command
def escalation_list(engine: Engine, actor: Actor, open_only: bool) -> None:
    """Incidents, newest first."""
    rows = engine.escalations.incidents(open_only)
    for row in rows:
        opened = staff_text(row["created_at"])[:16]
        click.echo(f"{row['id']:>5}  {row['kind_label']}  {row['status_label']:<4} {opened}  "
                   f"{row['ticket_count']} 件  {row['title']}")
    click.echo(f"共 {len(rows)} 起事件")


@escalation_group.command("show")
@click.argument("incident_id", type=int)
@_engine_command
def escalation_show(engine: Engine, actor: Actor, incident_id: int) -> None:
    """An incident with its tickets, alerts, acknowledgment, steps and evidence, as JSON."""
    click.echo(json.dumps(engine.escalations.incident(incident_id), ensure_ascii=False, indent=2, default=str))


@escalation_group.command("flag")
@click.argument("ticket_no")
@click.option("--reason", required=True, help="Why this is a public-opinion incident.")
@_engine_command
def escalation_flag(engine: Engine, actor: Actor, ticket_no: str, reason: str) -> None:
    """Flag a public-opinion incident (舆情) from a ticket; the duty officer is alerted."""
    incident_id = engine.escalations.flag(ticket_no, reason, actor)
    click.echo(f"已标记舆情事件 {incident_id}，已通知当班值班员")


@escalation_group.command("evidence")
@click.argument("incident_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_engine_command
def escalation_evidence(engine: Engine, actor: Actor, incident_id: int, path: Path) -> None:
    """Upload an evidence file (photo, document) for an incident's on-site check."""
    row = engine.escalations.add_evidence(incident_id, path.name, path.read_bytes(), actor)
    click.echo(f"已上传 {row['filename']}（{row['size']} 字节，SHA-256 {row['sha256'][:12]}…）")


@click.group("alerts")
def alerts_group() -> None:
    """The alert outbox."""


@alerts_group.command("deliver")
@_engine_command
def alerts_deliver(engine: Engine, actor: Actor) -> None:
    """Send the alerts that are due now (the scheduler does this by itself)."""
    result = engine.escalations.deliver_alerts()
    click.echo(f"已发送 {result.sent} 条，失败 {result.failed} 条（失败的将按退避间隔重试）")
