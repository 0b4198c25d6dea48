"""Task lists in deadline order from an index: tasks.deadline_order.

Revision ID: 0006_task_order
Revises: 0002_audit
Create Date: 2026-11-25
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_task_order"
down_revision = "0002_audit"
branch_labels = None
depends_on = None

NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("deadline_order", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE tasks SET deadline_order = COALESCE(due_at, :never)").bindparams(
        sa.bindparam("never", NO_DEADLINE, type_=sa.DateTime(timezone=True))))
    with op.batch_alter_table("tasks") as batch:
        batch.alter_column("deadline_order", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_index("ix_tasks_open_by_role")
        batch.create_index("ix_tasks_open_by_role_deadline", ["state", "role", "deadline_order", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_open_by_role_deadline")
        batch.create_index("ix_tasks_open_by_role", ["state", "role", "due_at"])
        batch.drop_column("deadline_order")
