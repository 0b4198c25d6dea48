"""A handling unit per user: users.unit scopes a 承办单位 user to the tickets dispatched to it.

Revision ID: 0008_user_unit
Revises: 0007_escalation
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_user_unit"
down_revision = "0007_escalation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("unit", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unit")
