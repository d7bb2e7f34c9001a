"""ticket lifecycle

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import hotline.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispatched_at', hotline.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('return_by', hotline.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('accepted_at', hotline.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('first_feedback_at', hotline.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', hotline.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', hotline.db.UTCDateTime(), nullable=True))
        # Server defaults fill the rows that already exist.
        batch_op.add_column(sa.Column('extensions_used', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('sla', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('sla')
        batch_op.drop_column('extensions_used')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('first_feedback_at')
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('return_by')
        batch_op.drop_column('dispatched_at')

    op.drop_table('calendar_days')
