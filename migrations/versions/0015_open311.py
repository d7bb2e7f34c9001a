"""Open311 both ways: service definitions and answers, batch tokens, units' own systems

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

from hotline.db import UTCDateTime


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open311_endpoint', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('open311_api_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('open311_service_code', sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('open311_jurisdiction', sa.String(length=100),
                                      nullable=True))
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attributes', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('service_type', sa.String(length=10), nullable=False,
                                      server_default='realtime'))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attributes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('media_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('reporter_email', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('client_ids', sa.JSON(), nullable=True))
    op.create_table(
        'open311_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('service_code', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('processed_at', UTCDateTime(), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token'),
    )
    op.create_index('ix_open311_tokens_processed_at', 'open311_tokens', ['processed_at'])
    op.create_table(
        'open311_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('remote_id', sa.String(length=64), nullable=True),
        sa.Column('remote_token', sa.String(length=64), nullable=True),
        sa.Column('remote_status', sa.String(length=20), nullable=True),
        sa.Column('remote_notes', sa.Text(), nullable=True),
        sa.Column('remote_updated_at', UTCDateTime(), nullable=True),
        sa.Column('last_polled_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id', 'unit_id'),
    )
    op.create_index('ix_open311_links_unit_id', 'open311_links', ['unit_id'])


def downgrade() -> None:
    op.drop_index('ix_open311_links_unit_id', table_name='open311_links')
    op.drop_table('open311_links')
    op.drop_index('ix_open311_tokens_processed_at', table_name='open311_tokens')
    op.drop_table('open311_tokens')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('client_ids')
        batch_op.drop_column('reporter_email')
        batch_op.drop_column('media_url')
        batch_op.drop_column('attributes')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('service_type')
        batch_op.drop_column('attributes')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('open311_jurisdiction')
        batch_op.drop_column('open311_service_code')
        batch_op.drop_column('open311_api_key')
        batch_op.drop_column('open311_endpoint')
