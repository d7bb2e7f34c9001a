"""call-centre imports: history backfill, cancelling, and the retention of uploads

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

from hotline.db import UTCDateTime


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=10), nullable=False,
                                      server_default='live'))
        batch_op.add_column(sa.Column('closed', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('cancel_requested_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('file_removed_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('file_removed_at')
        batch_op.drop_column('cancel_requested_at')
        batch_op.drop_column('closed')
        batch_op.drop_column('mode')
