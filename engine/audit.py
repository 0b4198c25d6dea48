"""The append-only audit trail with a hash chain that makes edits, deletions and reordering visible."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text

from engine.clock import as_utc
from engine.models import AuditEvent
from engine.prepared import Prepared

GENESIS_HASH = "0" * 64
# Every event name the system writes, with the label staff see. Modules that record changes call
# `append(conn, [AuditEntry(event, actor, ...)], now)` inside the transaction that makes the change,
# with one of these names; `data` never holds callers' names or phones.
EVENTS: dict[str, str] = {
    "deployment.created": "部署流程新版本",
    "ticket.received": "接收工单",
    "instance.started": "流程启动",
    "instance.completed": "流程结束",
    "instance.cancelled": "流程撤销",
    "task.opened": "生成待办",
    "task.claimed": "认领任务",
    "task.released": "退回认领",
    "task.completed": "办理任务",
    "task.cancelled": "待办取消",
    "message.delivered": "收到外部消息",
    "timer.fired": "定时器触发",
    "timer.failed": "定时器触发失败（稍后重试）",
    "notice.sent": "发出通知（催办、提醒、升级）",
    "recurring.started": "启动周期性工作",
    "sheet.imported": "导入工单表",
    "ranking.imported": "导入区级排名表",
    "alert.sent": "发送提醒",
    "alert.acknowledged": "确认提醒",
    "alert.queued": "提醒待发送",
    "alert.failed": "提醒发送失败",
    "alert.unstaffed": "该级别当前无人值班",
    "group.formed": "识别群诉",
    "group.joined": "工单并入群诉",
    "incident.opened": "启动升级处置",
    "incident.upgraded": "群诉升级为舆情",
    "duty.assigned": "安排值班",
    "duty.removed": "取消值班",
    "evidence.uploaded": "上传现场证据",
    "user.created": "新建用户",
    "user.updated": "修改用户",
    "user.roles_changed": "变更用户角色",
    "user.disabled": "停用用户",
    "login.succeeded": "登录成功",
    "login.failed": "登录失败",
    "logout": "退出登录",
    "user.token_issued": "签发接口令牌",
    "personal_data.read": "查看个人信息",
    "personal_data.exported": "导出个人信息",
    "data.exported": "合同终止全量导出",
    "personal_data.purged": "清除个人信息",
}
# Any constant works; it names the lock that orders chain appends across PostgreSQL sessions.
_CHAIN_LOCK_KEY = 0x6A696573
_A = AuditEvent.__table__
_LAST_HASH = Prepared(select(_A.c.hash).order_by(_A.c.id.desc()).limit(1))
_INSERT = Prepared(insert(_A).values({c.name: bindparam(c.name) for c in _A.columns if c.name != "id"}))
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# The canonical form rows are hashed in; changing it would break every stored chain. One encoder for
# all rows: json.dumps builds a new one per call when given options.
_HASHED_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@dataclass
class AuditEntry:
    """One thing that happened, collected during a command and written at its end."""

    event: str
    actor: str
    ticket_id: int | None = None
    instance_id: int | None = None
    task_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def event_label(event: str) -> str:
    return EVENTS.get(event, event)


def row_hash(prev_hash: str, at: datetime, entry: AuditEntry | AuditEvent | Any) -> str:
    """SHA-256 over the row's content and the previous row's hash; `entry` is anything with the columns."""
    body = _HASHED_JSON.encode([prev_hash, at.isoformat(), entry.actor, entry.event, entry.ticket_id,
                                entry.instance_id, entry.task_id, entry.data])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def lock_chain(conn: Connection) -> None:
    """Hold the chain until the transaction ends, so no other writer appends (or commits an append) meanwhile.

    Taking it again in the same transaction is harmless; SQLite writers already hold the database lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, {"key": _CHAIN_LOCK_KEY})


def append(conn: Connection, entries: list[AuditEntry], at: datetime) -> None:
    """Chain `entries` onto the trail inside the caller's transaction.

    On PostgreSQL a transaction-scoped advisory lock makes "read the last hash, insert after it"
    atomic across writers until commit; SQLite's BEGIN IMMEDIATE already serialises writers.
    Callers append last, so the lock is held only for the end of the transaction.
    """
    if not entries:
        return
    # The hash covers at.isoformat(); stored times come back as UTC, so hash the UTC form.
    at = as_utc(at)
    lock_chain(conn)
    prev = _LAST_HASH.scalar(conn, {}) or GENESIS_HASH
    rows = []
    for entry in entries:
        digest = row_hash(prev, at, entry)
        rows.append({"at": at, "actor": entry.actor, "event": entry.event, "ticket_id": entry.ticket_id,
                     "instance_id": entry.instance_id, "task_id": entry.task_id, "data": entry.data,
                     "prev_hash": prev, "hash": digest})
        prev = digest
    _INSERT.executemany(conn, rows)
