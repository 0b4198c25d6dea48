"""Audit trail indexes for queries that filter on one column and page by id.

Revision ID: 0002_audit
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op

revision = '0002_audit'
down_revision = '0001'
branch_labels = None
depends_on = None

# (old single-column index, new composite index, its columns)
_REPLACED = (
    ('ix_audit_events_ticket_id', 'ix_audit_events_ticket_id_id', ['ticket_id', 'id']),
    ('ix_audit_events_instance_id', 'ix_audit_events_instance_id_id', ['instance_id', 'id']),
    ('ix_audit_events_task_id', 'ix_audit_events_task_id_id', ['task_id', 'id']),
    ('ix_audit_events_event', 'ix_audit_events_event_id', ['event', 'id']),
    ('ix_audit_events_actor', 'ix_audit_events_actor_at', ['actor', 'at']),
)


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for old, new, columns in _REPLACED:
            batch_op.drop_index(old)
            batch_op.create_index(new, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for old, new, columns in _REPLACED:
            batch_op.drop_index(new)
            batch_op.create_index(old, columns[:1], unique=False)
