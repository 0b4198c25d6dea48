"""Escalation: ticket signatures, complaint groups, incidents, duty roster, alert outbox, evidence.

Revision ID: 0007_escalation
Revises: 0004_analytics
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_escalation'
down_revision = '0004_analytics'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaint_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('place_key', sa.String(length=100), nullable=False),
    sa.Column('place_label', sa.String(length=200), nullable=False),
    sa.Column('issue_key', sa.String(length=50), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ticket_count', sa.Integer(), nullable=False),
    sa.Column('caller_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('complaint_groups', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_groups_place_issue', ['place_key', 'issue_key', 'last_at'], unique=False)

    op.create_table('duty_roster',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('duty_date', sa.String(length=10), nullable=False),
    sa.Column('shift', sa.String(length=20), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('person', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('duty_roster', schema=None) as batch_op:
        batch_op.create_index('ix_duty_roster_level_span', ['level', 'starts_at', 'ends_at'], unique=False)

    op.create_table('complaint_group_tickets',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['complaint_groups.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('group_id', 'ticket_id')
    )
    with op.batch_alter_table('complaint_group_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_group_tickets_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_signatures',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('place_key', sa.String(length=100), nullable=True),
    sa.Column('place_label', sa.String(length=200), nullable=True),
    sa.Column('issue_key', sa.String(length=50), nullable=True),
    sa.Column('caller_hash', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('ticket_id')
    )
    with op.batch_alter_table('ticket_signatures', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_signatures_place_issue_at', ['place_key', 'issue_key', 'received_at'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('place_label', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('origin_ticket_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('alerted_level', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['complaint_groups.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ),
    sa.ForeignKeyConstraint(['origin_ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_instance_id'), ['instance_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=50), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_alerts_state_next', ['state', 'next_attempt_at'], unique=False)

    op.create_table('incident_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('stored_as', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_evidence_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_tickets',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('incident_id', 'ticket_id')
    )
    with op.batch_alter_table('incident_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_tickets_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incident_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_tickets_ticket_id'))

    op.drop_table('incident_tickets')
    with op.batch_alter_table('incident_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_evidence_incident_id'))

    op.drop_table('incident_evidence')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_state_next')
        batch_op.drop_index(batch_op.f('ix_alerts_incident_id'))

    op.drop_table('alerts')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_instance_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_group_id'))

    op.drop_table('incidents')
    with op.batch_alter_table('ticket_signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_signatures_place_issue_at')

    op.drop_table('ticket_signatures')
    with op.batch_alter_table('complaint_group_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_group_tickets_ticket_id'))

    op.drop_table('complaint_group_tickets')
    with op.batch_alter_table('duty_roster', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_roster_level_span')

    op.drop_table('duty_roster')
    with op.batch_alter_table('complaint_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_groups_place_issue')

    op.drop_table('complaint_groups')
