"""console: inbox reads, callback attempts, password change at next sign-in

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa
import hotline.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('read_at', hotline.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_inbox_reads_message_id_outbox_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inbox_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'message_id', name=op.f('pk_inbox_reads'))
    )
    with op.batch_alter_table('inbox_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_reads_message_id'), ['message_id'], unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_attempts', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('callback_attempts')
    with op.batch_alter_table('inbox_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_reads_message_id'))
    op.drop_table('inbox_reads')
