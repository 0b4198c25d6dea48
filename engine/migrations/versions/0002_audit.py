"""Audit trail: indexes for queries that filter on one column and page by id; append-only triggers.

The triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on audit_events, so no code path of
the application can change the trail. Someone with rights to drop triggers still can; the hash chain
makes that visible to `jiesu audit verify`.

Revision ID: 0002_audit
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op

revision = '0002_audit'
down_revision = '0005_users'
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

_REFUSED = 'audit_events is append-only'
_SQLITE_TRIGGERS = {
    f'audit_events_no_{op_name.lower()}':
        f"CREATE TRIGGER audit_events_no_{op_name.lower()} BEFORE {op_name} ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END"
    for op_name in ('UPDATE', 'DELETE')
}
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{_REFUSED}: % refused', TG_OP;
END $$
"""
_PG_TRIGGERS = {
    'audit_events_no_change': 'BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW',
    'audit_events_no_truncate': 'BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT',
}


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for old, new, columns in _REPLACED:
            batch_op.drop_index(old)
            batch_op.create_index(new, columns, unique=False)
    # After the batch block: a table SQLite batch mode rebuilt would have lost its triggers.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_FUNCTION)
        for name, when in _PG_TRIGGERS.items():
            op.execute(f'CREATE TRIGGER {name} {when} EXECUTE FUNCTION audit_events_append_only()')
    else:
        for ddl in _SQLITE_TRIGGERS.values():
            op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in _PG_TRIGGERS:
            op.execute(f'DROP TRIGGER {name} ON audit_events')
        op.execute('DROP FUNCTION audit_events_append_only()')
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER {name}')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for old, new, columns in _REPLACED:
            batch_op.drop_index(new)
            batch_op.create_index(old, columns[:1], unique=False)
