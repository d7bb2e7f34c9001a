"""residents: submission keys, followers, lookup codes, inbound SMS

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import hotline.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway_id', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('body', sa.String(length=500), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('received_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_inbound_sms_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_sms')),
    sa.UniqueConstraint('gateway_id', name=op.f('uq_inbound_sms_gateway_id'))
    )
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_sms_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('lookup_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', hotline.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_lookup_codes_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookup_codes'))
    )
    with op.batch_alter_table('lookup_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookup_codes_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_followers_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_followers')),
    sa.UniqueConstraint('ticket_id', 'phone', name=op.f('uq_ticket_followers_ticket_id_phone'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('follower_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_unique_constraint(batch_op.f('uq_tickets_submission_key'), ['submission_key'])
        batch_op.create_index('ix_tickets_reporter_phone_status', ['reporter_phone', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_reporter_phone_status')
        batch_op.drop_constraint(batch_op.f('uq_tickets_submission_key'), type_='unique')
        batch_op.drop_column('follower_count')
        batch_op.drop_column('submission_key')

    op.drop_table('ticket_followers')
    with op.batch_alter_table('lookup_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lookup_codes_ticket_id'))

    op.drop_table('lookup_codes')
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_sms_ticket_id'))

    op.drop_table('inbound_sms')
