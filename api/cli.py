"""The `jiesu` command line: every command is one engine call."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from engine import demo, notices, queries, recurring, scheduler
from engine.errors import EngineError
from engine.factory import open_engine, workflows_dir
from engine.longlived import freeze_startup_objects
from engine.privacy import Actor
from engine.roles import ROLES
from engine.service import Engine
from engine.workdays import LOCAL_TZ


def _cli_actor(name: str | None) -> Actor:
    # The command line is for operators with database access; they act with every role.
    return Actor(name or f"cli:{getpass.getuser()}", frozenset({"admin"}))


def _engine_command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Open the engine, pass it in, and turn engine errors into a Chinese message and exit code 1."""

    @click.option("--actor", "actor_name", default=None, help="Name recorded in the audit trail.")
    @click.option("--database-url", default=None, envvar="JIESU_DATABASE_URL", help="SQLAlchemy URL.")
    @functools.wraps(func)
    def wrapper(actor_name: str | None, database_url: str | None, **kwargs: Any) -> None:
        engine = open_engine(database_url)
        try:
            func(engine, _cli_actor(actor_name), **kwargs)
        except EngineError as exc:
            click.echo(f"错误：{exc.message}", err=True)
            for field, messages in exc.field_errors.items():
                click.echo(f"  {field}: {'；'.join(messages)}", err=True)
            sys.exit(1)
        finally:
            engine.db.dispose()

    return wrapper


def _json_option(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"不是合法的 JSON：{exc}") from exc


@click.group()
def main() -> None:
    """Jiesu: 接诉即办工单流程引擎."""


@main.command()
@_engine_command
def init(engine: Engine, actor: Actor) -> None:
    """Create or migrate the database and deploy workflows/."""
    engine.db.migrate()
    for result in engine.deploy_dir(workflows_dir(), actor):
        state = "已部署新版本" if result.created else "内容未变"
        click.echo(f"{result.process_id} v{result.version}：{state}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_engine_command
def deploy(engine: Engine, actor: Actor, path: Path) -> None:
    """Deploy one BPMN file (its forms are taken from the form definitions)."""
    result = engine.deploy(path.read_bytes(), path.name, actor)
    click.echo(f"{result.process_id} v{result.version}：{'已部署新版本' if result.created else '内容未变'}")


@main.command("demo")
@_engine_command
def demo_command(engine: Engine, actor: Actor) -> None:
    """Seed sample tickets at several stages (fictional callers)."""
    _seed_demo(engine, actor)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Create the database, deploy workflows/, add sample tickets and users.")
@click.option("--no-scheduler", is_flag=True, help="Do not fire timers here (another process runs `jiesu worker`).")
@_engine_command
def serve(engine: Engine, actor: Actor, host: str, port: int, demo: bool, no_scheduler: bool) -> None:
    """Run the web app, the JSON API and the scheduler (production: gunicorn 'api:create_app()' + jiesu worker)."""
    from werkzeug.serving import run_simple

    from api import create_app

    # Migrating and deploying are no-ops when nothing changed, so a fresh or upgraded install just works.
    engine.db.migrate()
    engine.deploy_dir(workflows_dir(), actor)
    if demo:
        _seed_demo(engine, actor)
    app = create_app(engine=engine)
    background = None if no_scheduler else scheduler.start(engine)
    click.echo(f"接诉即办工单系统：http://{host}:{port}/  （API 文档：/api/v1/docs）"
               + ("" if background else "；定时器由 jiesu worker 触发"))
    freeze_startup_objects()
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        if background is not None:
            background.shutdown(wait=False)


def _seed_demo(engine: Engine, actor: Actor) -> None:
    engine.db.migrate()
    engine.deploy_dir(workflows_dir(), actor)
    created = demo.seed(engine, progress=lambda items: tqdm(items, desc="示例工单", unit="单"))
    users = demo.seed_users(engine)
    click.echo(f"新增示例工单 {created} 件；示例账号 {'、'.join(user[0] for user in demo.DEMO_USERS)}，"
               f"密码 {demo.DEMO_PASSWORD}" + ("" if users else "（已存在）"))


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Name shown in the pages.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(ROLES)))
@click.option("--unit", default=None, help="Handling unit (承办单位) whose tickets alone a unit user works on.")
@click.password_option()
@_engine_command
def user_add(engine: Engine, actor: Actor, username: str, display_name: str, roles: tuple[str, ...],
             unit: str | None, password: str) -> None:
    """Add a user with a hashed password."""
    account = engine.users.add(username, display_name, list(roles), password, actor, unit)
    click.echo(f"已添加用户 {username}（{'、'.join(ROLES[r] for r in roles)}）{_unit_text(account.unit)}")


@user.command("roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(ROLES)))
@_engine_command
def user_roles(engine: Engine, actor: Actor, username: str, roles: tuple[str, ...]) -> None:
    """Replace a user's roles."""
    engine.users.set_roles(username, list(roles), actor)
    click.echo(f"已更新 {username} 的角色：{'、'.join(ROLES[r] for r in roles)}")


@user.command("unit")
@click.argument("username")
@click.option("--unit", default=None, help="Handling unit (承办单位), as the dispatch form names it.")
@click.option("--clear", is_flag=True, help="No unit: a unit user then sees every unit's tickets.")
@_engine_command
def user_unit(engine: Engine, actor: Actor, username: str, unit: str | None, clear: bool) -> None:
    """Set or clear a user's handling unit."""
    if clear == (unit is not None):
        raise click.UsageError("请指定 --unit 单位名称 或 --clear（二选一）")
    stored = engine.users.set_unit(username, unit, actor)
    click.echo(f"已更新 {username} 的单位：{stored or '无（可见所有单位的工单）'}")


def _unit_text(unit: str | None) -> str:
    return f"，单位：{unit}" if unit else ""


@main.command()
@click.option("--role", "roles", multiple=True, help="Only tasks of these roles.")
@_engine_command
def tasks(engine: Engine, actor: Actor, roles: tuple[str, ...]) -> None:
    """List open tasks, earliest deadline first."""
    with engine.db.read() as session:
        rows = queries.open_tasks(session, queries.TaskFilter(roles=frozenset(roles) if roles else None))
    for row in rows:
        click.echo(f"{row['id']}  {row['ticket_no'] or '-':<18} {row['title']:<8} {row['role']:<10} "
                   f"v{row['instance_version']}  {row['created_at']:%Y-%m-%d %H:%M}")
    click.echo(f"共 {len(rows)} 项待办")


@main.command()
@click.argument("task_id")
@click.option("--data", "data", required=True, callback=lambda _c, _p, v: _json_option(v), help="Form data as JSON.")
@click.option("--version", "expected_version", type=int, default=None, help="Instance version you saw.")
@_engine_command
def complete(engine: Engine, actor: Actor, task_id: str, data: Any, expected_version: int | None) -> None:
    """Complete a task with form data."""
    result = engine.complete_task(task_id, data, actor, expected_version)
    click.echo(f"已完成；实例 {result.instance_id} 版本 {result.version}，状态 {result.status}")


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@_engine_command
def intake(engine: Engine, actor: Actor, file: Any) -> None:
    """Receive a ticket from a JSON file ('-' for standard input)."""
    result = engine.intake(_json_option(file.read()), actor)
    outcome = "已登记" if result.created else "已存在，未重复登记"
    click.echo(f"工单 {result.ticket_no}：{outcome}（实例 {result.instance_id}）")


@main.command()
@click.argument("instance_id", type=int)
@click.argument("name")
@click.option("--data", "data", required=True, callback=lambda _c, _p, v: _json_option(v), help="Payload as JSON.")
@_engine_command
def message(engine: Engine, actor: Actor, instance_id: int, name: str, data: Any) -> None:
    """Deliver a message (e.g. return_decision) to a waiting instance."""
    result = engine.deliver_message(instance_id, name, data, actor)
    click.echo(f"消息已送达；实例 {result.instance_id} 版本 {result.version}，状态 {result.status}")


@main.command()
@click.argument("instance_id", type=int)
@click.option("--reason", required=True)
@_engine_command
def cancel(engine: Engine, actor: Actor, instance_id: int, reason: str) -> None:
    """Cancel a running instance."""
    engine.cancel(instance_id, reason, actor)
    click.echo(f"实例 {instance_id} 已撤销")


@main.command()
@click.argument("ticket_no")
@_engine_command
def ticket(engine: Engine, actor: Actor, ticket_no: str) -> None:
    """Show a ticket with its timeline as JSON."""
    click.echo(json.dumps(engine.view_ticket(ticket_no, actor), ensure_ascii=False, indent=2, default=str))


@main.command("notices")
@click.option("--kind", default=None, help="Only this kind: urge, reminder, escalation, follow_up.")
@_engine_command
def notices_command(engine: Engine, actor: Actor, kind: str | None) -> None:
    """List the newest notices (催办, reminders, escalations), Beijing time."""
    with engine.db.read() as session:
        rows = notices.recent(session, kind)
    for row in rows:
        click.echo(f"{row['at'].astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}  {row['kind']:<10} {row['ticket_no'] or '-':<18} "
                   f"{'、'.join(row['recipients'])}：{row['text']}")
    click.echo(f"共 {len(rows)} 条通知")


@main.command()
@_engine_command
def worker(engine: Engine, actor: Actor) -> None:
    """Run the scheduler: fire due timers and recurring work until interrupted (Ctrl-C)."""
    click.echo("调度进程已启动：到期定时器将自动触发（Ctrl-C 停止）")
    freeze_startup_objects()
    try:
        scheduler.run(engine)
    except (KeyboardInterrupt, SystemExit):
        click.echo("调度进程已停止")


@main.command("assessment-arrived")
@click.argument("month")
@_engine_command
def assessment_arrived(engine: Engine, actor: Actor, month: str) -> None:
    """Record that the district's assessment details for MONTH (YYYY-MM) arrived; starts the retrospective."""
    result = engine.record_assessment(month, actor)
    if result is None:
        click.echo(f"{month} 的考核明细已记录过，未重复发起复盘")
    else:
        click.echo(f"已记录 {month} 考核明细，复盘流程已发起（实例 {result.instance_id}）")
    from engine.analysis.filing import file_retrospective

    click.echo(f"失分分析：{file_retrospective(engine, month)}")


@main.command("run-job")
@click.argument("name")
@_engine_command
def run_job(engine: Engine, actor: Actor, name: str) -> None:
    """Run recurring job NAME now (e.g. weekly_report); does nothing if its period already has its work."""
    jobs = engine.rules.at(engine.clock().date())["recurring_jobs"]
    if name not in jobs:
        raise click.BadParameter(f"没有名为 {name} 的周期性工作；可用：{'、'.join(jobs)}")
    result = recurring.run_job(engine, name)
    click.echo(f"{name}：本期工作已创建（实例 {result.instance_id}）" if result else f"{name}：本期工作此前已创建")


# -- analysis: these import engine.analysis inside, so pandas and matplotlib load only when used --

def _period(engine: Engine, text: str):
    from engine.analysis import periods

    return periods.parse(text, engine.rules)


@main.command("import-sheet")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_engine_command
def import_sheet(engine: Engine, actor: Actor, path: Path) -> None:
    """Import a 12345 ticket sheet (.xlsx or .csv) as historical tickets."""
    from engine.analysis.ticket_import import import_tickets

    result = import_tickets(engine, path, actor, progress=lambda items, what: tqdm(items, desc=what, leave=False))
    if result.already_imported:
        click.echo(f"文件 {result.filename} 已导入过，未做任何更改")
    else:
        click.echo(f"文件 {result.filename} 共 {result.rows} 行：新增 {result.created} 件，更新 {result.updated} 件，"
                   f"未变 {result.unchanged} 件")


@main.command()
@click.option("--period", required=True, help="2026-11 (assessment month), 2026-Q4, 2026, 2026-W47 or A..B.")
@click.option("--by", type=click.Choice(["category", "community", "unit"]), default=None)
@click.option("--lost", type=int, default=0, help="Also list the N tickets that cost the most points.")
@_engine_command
def rates(engine: Engine, actor: Actor, period: str, by: str | None, lost: int) -> None:
    """The three rates and the composite score of a period."""
    from engine.analysis.fmt import pct, score
    from engine.analysis.rates import GROUP_LABELS, costly_tickets, period_rates

    table = period_rates(engine, _period(engine, period), by)
    click.echo(f"期间 {table.period.title}\n{table.formula}")
    for row in [table.overall, *table.rows]:
        name = "全部" if row is table.overall else row.key or "未填写"
        click.echo(f"{name:<16} 工单 {row.counts.tickets:>6} 有效回访 {row.counts.valid:>6} "
                   f"响应率 {pct(row.response):>8} 解决率 {pct(row.resolution):>8} 满意率 {pct(row.satisfaction):>8} "
                   f"综合得分 {score(row.composite):>6} 失分 {score(row.lost_points):>6}")
    if by:
        click.echo(f"（按{GROUP_LABELS[by]}，失分最多的在前）")
    for loss in costly_tickets(engine, table.period, lost) if lost else []:
        click.echo(f"{loss.ticket_no:<20} {loss.category or '-':<10} {loss.unit or '-':<16} "
                   f"满意度 {loss.satisfaction or '-':<4} 失分 {score(loss.lost_points)}")


@main.group()
def ranking() -> None:
    """The district's monthly ranking of towns and sub-districts."""


@ranking.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--period", required=True, help="Assessment month of the sheet, e.g. 2026-11.")
@_engine_command
def ranking_import(engine: Engine, actor: Actor, path: Path, period: str) -> None:
    """Import the district's ranking sheet (排名, 单位名称, 得分[, 等次])."""
    from engine.analysis.ranking import import_ranking

    result = import_ranking(engine, path, period, actor)
    if result.already_imported:
        click.echo(f"{result.period} 排名表已导入过，未做任何更改")
    else:
        click.echo(f"{result.period} 排名表已导入（{result.units} 个街乡镇）")
        _echo_standing(result.standing)


@ranking.command("show")
@click.option("--period", required=True, help="Assessment month, e.g. 2026-11.")
@click.option("--months", type=int, default=12, help="How many months of trend.")
@_engine_command
def ranking_show(engine: Engine, actor: Actor, period: str, months: int) -> None:
    """Our place, tier and bonus per month (estimated from our tickets before the sheet arrives)."""
    from engine.analysis.ranking import ranking_trend

    for standing in ranking_trend(engine, _period(engine, period), months):
        _echo_standing(standing)


def _echo_standing(standing: Any) -> None:
    from engine.analysis.fmt import score, yuan

    if not standing.units:
        click.echo(f"{standing.period}  未导入区排名表")
        return
    source = "估算" if standing.estimated else "区排名表"
    click.echo(f"{standing.period}  得分 {score(standing.score):>6}  排名 {standing.rank or '—'}/{standing.units}  "
               f"等次 {standing.tier or '—'}  奖惩 {yuan(standing.amount)}  （{source}）")


@main.command()
@click.option("--period", required=True, help="2026-11, 2026-Q4, 2026, 2026-W47 or A..B.")
@_engine_command
def hot(engine: Engine, actor: Actor, period: str) -> None:
    """Hot categories, places and keywords of a period, and next period's forecast."""
    from engine.analysis.fmt import change
    from engine.analysis.forecast import forecast_next
    from engine.analysis.hot import hot_issues

    issues = hot_issues(engine, _period(engine, period))
    for title, frame in (("热点类别", issues.categories), ("热点地点", issues.places), ("热点词", issues.keywords)):
        click.echo(title)
        for row in frame.itertuples():
            click.echo(f"  {row.key:<16} {row.count:>6}  环比 {change(row.change_pct):>8}  "
                       f"同比 {change(row.yoy_pct):>8}")
    forecast = forecast_next(engine, issues.period)
    click.echo(f"下期（{forecast.target}）预测合计 {forecast.total_forecast:.0f} 件；{forecast.method}")


@main.command()
@click.argument("kind", type=click.Choice(["weekly", "monthly", "quarterly", "annual", "retrospective"]))
@click.option("--period", default=None, help="Default: the last complete period of that kind.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@_engine_command
def report(engine: Engine, actor: Actor, kind: str, period: str | None, output: Path | None) -> None:
    """Write a Word report (周报、月报、季度决策参考、年报、考核复盘)."""
    from engine.analysis.reports import report_filename, report_period, write_report

    chosen = report_period(engine, kind, period)
    output = output or Path(report_filename(kind, chosen))
    write_report(engine, kind, chosen, output)
    click.echo(f"已生成 {output}（{chosen.title}）")


# Registered last: these modules use _engine_command from this one.
from api.cli_audit import audit_group, export_all, purge  # noqa: E402
from api.cli_escalation import alerts_group, duty_group, escalation_group  # noqa: E402

main.add_command(audit_group)
main.add_command(export_all)
main.add_command(purge)
main.add_command(duty_group)
main.add_command(escalation_group)
main.add_command(alerts_group)
