"""SQLAlchemy models: deployments, instances and the projections that queries read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from engine.clock import as_utc

JsonData = JSON().with_variant(JSONB(), "postgresql")
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


class UtcDateTime(TypeDecorator):
    """Stores UTC; SQLite gives naive values back, so they are made aware again on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; the engine stores UTC only")
        # SQLite stores the wall time without its offset, so other zones must become UTC first.
        return as_utc(value) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value) if value is not None else None

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        """TypeDecorator's, with the last values it made kept per dialect: a command binds its one
        `now` in most of its statements, and formatting a datetime is the dearest part of binding."""
        convert = super().bind_processor(dialect)
        recent = _RECENT_BINDS.setdefault(dialect.name, {})

        def process(value: Any) -> Any:
            try:
                return recent[value]
            except KeyError:
                bound = recent[value] = convert(value)
                if len(recent) > 64:
                    recent.clear()
                return bound

        return process


_RECENT_BINDS: dict[str, dict[datetime | None, Any]] = {}


class Base(DeclarativeBase):
    pass


class Deployment(Base):
    """One version of one process, with the exact BPMN and form files it was made from."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("process_id", "version"),
        UniqueConstraint("process_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict[str, str]] = mapped_column(JsonData)
    elements: Mapped[dict[str, Any]] = mapped_column(JsonData)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deployed_by: Mapped[str] = mapped_column(String(100))


class Ticket(Base):
    """The ticket's business fields, kept current by every command on its instance."""

    __tablename__ = "tickets"
    # Covers period counts per category (forecasts) without reading the table rows.
    __table_args__ = (Index("ix_tickets_received_category", "received_at", "category_l1"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(64), unique=True)
    intake_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    caller_name: Mapped[str | None] = mapped_column(String(100))
    caller_phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(500))
    community: Mapped[str | None] = mapped_column(String(100))
    category_l1: Mapped[str | None] = mapped_column(String(50))
    category_l2: Mapped[str | None] = mapped_column(String(50))
    category_l3: Mapped[str | None] = mapped_column(String(50))
    request_type: Mapped[str | None] = mapped_column(String(10))
    sla_level: Mapped[str | None] = mapped_column(String(10))
    tags: Mapped[list[str]] = mapped_column(JsonData, default=list)
    policy_tags: Mapped[list[str]] = mapped_column(JsonData, default=list)
    monthly_theme: Mapped[str | None] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    current_step: Mapped[str | None] = mapped_column(String(200))
    lead_unit: Mapped[str | None] = mapped_column(String(100), index=True)
    assist_units: Mapped[list[str]] = mapped_column(JsonData, default=list)
    contacted: Mapped[bool | None]
    solved: Mapped[bool | None]
    satisfaction: Mapped[str | None] = mapped_column(String(10))
    exempted: Mapped[bool | None]
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # "engine": received and handled here; "import": a historical row from a 12345 sheet, without instance.
    origin: Mapped[str] = mapped_column(String(10), default="engine", server_default="engine")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("sheet_imports.id"))
    # From the district's callback record (是否有效回访); NULL on engine tickets, which derive it from satisfaction.
    valid_callback: Mapped[bool | None]
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handling_result: Mapped[str | None] = mapped_column(Text)
    handling_role: Mapped[str | None] = mapped_column(String(10))  # 工单性质: 主办 / 协办


class SheetImport(Base):
    """One imported sheet; its content hash makes importing the same file again a no-op."""

    __tablename__ = "sheet_imports"
    __table_args__ = (UniqueConstraint("kind", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "tickets" or "ranking"
    filename: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    imported_by: Mapped[str] = mapped_column(String(100))


class DistrictRanking(Base):
    """One town's or sub-district's line in the district's monthly ranking sheet."""

    __tablename__ = "district_rankings"
    __table_args__ = (UniqueConstraint("period", "unit_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("sheet_imports.id"))
    period: Mapped[str] = mapped_column(String(7), index=True)  # assessment month, YYYY-MM
    unit_name: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str | None] = mapped_column(String(10))


class Instance(Base):
    """A running or finished process instance; `version` guards against lost updates."""

    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    end_event: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TaskRecord(Base):
    """A human task or waiting message as queries see it, without loading the workflow."""

    __tablename__ = "tasks"
    # Task lists read open tasks of a role, earliest deadline first, a page at a time: this index
    # hands them over in that order without sorting every open task.
    __table_args__ = (Index("ix_tasks_open_by_role_deadline", "state", "role", "deadline_order", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(30))
    form_key: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(12))
    assignee: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # due_at, or NO_DEADLINE: NULLs sort first on SQLite and last on PostgreSQL, and no index fixes both.
    deadline_order: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(100))


class AuditEvent(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"
    # Queries filter on one column and page by id, so each index ends in id (actor's in at: "a day's
    # actions"); one index per filter keeps every command's append cheap.
    __table_args__ = (
        Index("ix_audit_events_ticket_id_id", "ticket_id", "id"),
        Index("ix_audit_events_instance_id_id", "instance_id", "id"),
        Index("ix_audit_events_task_id_id", "task_id", "id"),
        Index("ix_audit_events_event_id", "event", "id"),
        Index("ix_audit_events_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(50))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict[str, Any]] = mapped_column(JsonData)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))  # not unique: see migration 0009


class User(Base):
    """A member of staff: hashed password and the roles that decide what they see and do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JsonData)
    # A 承办单位 user's handling unit: they then work only on tickets dispatched to it (lead_unit).
    unit: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """Bearer tokens for the JSON API; only a hash of the token is kept."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginAttempt(Base):
    """Recent login attempts, kept in the database so every node applies the same limit."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_user_at", "username", "at"),
                      Index("ix_login_attempts_addr_at", "remote_addr", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    success: Mapped[bool]


class Timer(Base):
    """A BPMN timer an instance waits on: written and removed with the command that changes it."""

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Notice(Base):
    """A message to staff raised by the workflow: urge notice (催办), reminder, escalation."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    recipients: Mapped[list[str]] = mapped_column(JsonData)
    text: Mapped[str] = mapped_column(Text)


class RecurringRun(Base):
    """One row per recurring job and period: its primary key is what makes the job run once."""

    __tablename__ = "recurring_runs"

    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"))
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TicketSignature(Base):
    """What group detection compares: a ticket's normalised place and issue, and its caller's keyed hash."""

    __tablename__ = "ticket_signatures"
    __table_args__ = (Index("ix_ticket_signatures_place_issue_at", "place_key", "issue_key", "received_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    place_key: Mapped[str | None] = mapped_column(String(100))
    place_label: Mapped[str | None] = mapped_column(String(200))
    issue_key: Mapped[str | None] = mapped_column(String(50))
    caller_hash: Mapped[str | None] = mapped_column(String(64))  # HMAC of the normalised phone, never the phone
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ComplaintGroup(Base):
    """A group complaint (群诉): tickets from several callers about one issue at one place."""

    __tablename__ = "complaint_groups"
    __table_args__ = (Index("ix_complaint_groups_place_issue", "place_key", "issue_key", "last_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_key: Mapped[str] = mapped_column(String(100))
    place_label: Mapped[str] = mapped_column(String(200))
    issue_key: Mapped[str] = mapped_column(String(50))
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ticket_count: Mapped[int] = mapped_column(Integer)
    caller_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ComplaintGroupTicket(Base):
    __tablename__ = "complaint_group_tickets"

    group_id: Mapped[int] = mapped_column(ForeignKey("complaint_groups.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Incident(Base):
    """A group complaint or public-opinion incident (舆情); open while its escalation instance runs."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # group_complaint | public_opinion
    trigger: Mapped[str] = mapped_column(String(20))  # group | staff | sensitive_words | group_growing
    title: Mapped[str] = mapped_column(String(300))
    place_label: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_groups.id"), index=True)
    origin_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    alerted_level: Mapped[int] = mapped_column(Integer, default=0)  # highest roster level alerted so far
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))


class IncidentTicket(Base):
    __tablename__ = "incident_tickets"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DutyShift(Base):
    """One person on the duty roster for one shift of one day at one level (1 duty officer, 2 leader...)."""

    __tablename__ = "duty_roster"
    __table_args__ = (Index("ix_duty_roster_level_span", "level", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    duty_date: Mapped[str] = mapped_column(String(10))  # Beijing date, YYYY-MM-DD
    shift: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))


class Alert(Base):
    """An alert in the outbox: stored with the change that raised it, delivered after commit, retried."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(50))  # a channel name from the rules (alerts.channels)
    recipient: Mapped[str] = mapped_column(String(200))  # person or group the channel reaches
    address: Mapped[str | None] = mapped_column(String(200))  # e-mail address; webhooks take theirs from the rules
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))  # pending | sent
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Evidence(Base):
    """A file uploaded as evidence of an incident's on-site check; the bytes live in the attachments folder."""

    __tablename__ = "incident_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_as: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
