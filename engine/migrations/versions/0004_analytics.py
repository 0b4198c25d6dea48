"""Analytics: imported sheets, the district's ranking, and the ticket columns 12345 exports carry.

Revision ID: 0004_analytics
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_analytics'
down_revision = '0003_timers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sheet_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'content_hash')
    )
    op.create_table('district_rankings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('unit_name', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['sheet_imports.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period', 'unit_name')
    )
    with op.batch_alter_table('district_rankings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_district_rankings_period'), ['period'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=10), server_default='engine', nullable=False))
        batch_op.add_column(sa.Column('import_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('valid_callback', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handling_result', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('handling_role', sa.String(length=10), nullable=True))
        batch_op.create_foreign_key('fk_tickets_import_id', 'sheet_imports', ['import_id'], ['id'])
        batch_op.create_index('ix_tickets_received_category', ['received_at', 'category_l1'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_received_category')
        batch_op.drop_constraint('fk_tickets_import_id', type_='foreignkey')
        batch_op.drop_column('handling_role')
        batch_op.drop_column('handling_result')
        batch_op.drop_column('deadline_at')
        batch_op.drop_column('valid_callback')
        batch_op.drop_column('import_id')
        batch_op.drop_column('origin')

    with op.batch_alter_table('district_rankings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_district_rankings_period'))

    op.drop_table('district_rankings')
    op.drop_table('sheet_imports')
