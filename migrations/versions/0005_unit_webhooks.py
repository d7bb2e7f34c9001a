"""unit webhooks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import hotline.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_opt_out', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('webhook_secret', sa.String(length=100), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('sms_opt_out')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret')
        batch_op.drop_column('webhook_url')

