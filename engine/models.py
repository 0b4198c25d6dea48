"""SQLAlchemy models: deployments, instances and the projections that queries read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from engine.clock import as_utc

JsonData = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator):
    """Stores UTC; SQLite gives naive values back, so they are made aware again on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; the engine stores UTC only")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value) if value is not None else None


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
    __table_args__ = (Index("ix_tasks_open_by_role", "state", "role", "due_at"),)

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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(100))


class AuditEvent(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    event: Mapped[str] = mapped_column(String(50), index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonData)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
