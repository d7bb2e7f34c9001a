"""routing rulesets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import hotline.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=100), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)

    op.create_table('rulesets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('activated_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('activated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'active', 'archived')", name=op.f('ck_rulesets_status_allowed')),
    sa.ForeignKeyConstraint(['activated_by_id'], ['users.id'], name=op.f('fk_rulesets_activated_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rulesets_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rulesets')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_rulesets_name_version'))
    )
    with op.batch_alter_table('rulesets', schema=None) as batch_op:
        batch_op.create_index('uq_rulesets_one_active', ['status'], unique=True, postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))

    op.create_table('routing_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('ruleset_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('predicted_label', sa.String(length=100), nullable=True),
    sa.Column('predicted_category', sa.String(length=40), nullable=True),
    sa.Column('predicted_unit', sa.String(length=40), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('lead_unit', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_routing_corrections_actor_id_users')),
    sa.ForeignKeyConstraint(['ruleset_id'], ['rulesets.id'], name=op.f('fk_routing_corrections_ruleset_id_rulesets')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_routing_corrections_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_corrections'))
    )
    with op.batch_alter_table('routing_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_corrections_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_corrections_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('territorial_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ruleset_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('routing', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_territorial_unit_id'), ['territorial_unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_territorial_unit_id_units'), 'units', ['territorial_unit_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_tickets_ruleset_id_rulesets'), 'rulesets', ['ruleset_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_ruleset_id_rulesets'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_tickets_territorial_unit_id_units'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_territorial_unit_id'))
        batch_op.drop_column('routing')
        batch_op.drop_column('ruleset_id')
        batch_op.drop_column('territorial_unit_id')

    with op.batch_alter_table('routing_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_corrections_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_routing_corrections_created_at'))

    op.drop_table('routing_corrections')
    with op.batch_alter_table('rulesets', schema=None) as batch_op:
        batch_op.drop_index('uq_rulesets_one_active', postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))

    op.drop_table('rulesets')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
