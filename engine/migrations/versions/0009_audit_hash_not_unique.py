"""Audit trail: no unique index on hash.

Hashes are random, so every append wrote a page of that index somewhere in it: about three pages per
command at commit, a tenth of all it wrote. It guarded nothing: two appends racing from the same
previous row give different hashes, so it could not even catch a fork. What keeps the chain single
is the append lock (an advisory lock on PostgreSQL, the one writer on SQLite), and `jiesu audit
verify` finds any break.

SQLite cannot drop a table constraint, so there the table is rebuilt, and its append-only triggers
(see 0002_audit) are made again afterwards.

Revision ID: 0009_audit_hash_not_unique
Revises: 0008_user_unit
Create Date: 2026-11-25
"""
from alembic import op

revision = "0009_audit_hash_not_unique"
down_revision = "0008_user_unit"
branch_labels = None
depends_on = None

_PG_CONSTRAINT = "audit_events_hash_key"  # PostgreSQL's name for 0001's unnamed UNIQUE (hash)
_SQLITE_CONSTRAINT = "uq_audit_events_hash"
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_REFUSED = "audit_events is append-only"
_SQLITE_TRIGGERS = {
    f"audit_events_no_{op_name.lower()}":
        f"CREATE TRIGGER audit_events_no_{op_name.lower()} BEFORE {op_name} ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END"
    for op_name in ("UPDATE", "DELETE")
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_PG_CONSTRAINT, "audit_events", type_="unique")
        return
    _rebuild_sqlite(lambda batch: batch.drop_constraint(_SQLITE_CONSTRAINT, type_="unique"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint(_PG_CONSTRAINT, "audit_events", ["hash"])
        return
    _rebuild_sqlite(lambda batch: batch.create_unique_constraint(_SQLITE_CONSTRAINT, ["hash"]))


def _rebuild_sqlite(change) -> None:
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("audit_events", recreate="always", naming_convention=_NAMING) as batch:
        change(batch)
    for ddl in _SQLITE_TRIGGERS.values():
        op.execute(ddl)
