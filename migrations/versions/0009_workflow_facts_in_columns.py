"""workflow facts out of tickets.sla: extension requests, co-units' reports, waiver

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

``tickets.sla`` held, beside the sweep's bookkeeping (warned / overdue), three workflow
facts: a waiting extension request, the co-units that reported, and a supervisor's waiver.
They get a table and columns of their own; existing values are carried over (their times
from the events that recorded them), and taken out of the JSON. Downgrade puts them back.
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

FACTS = ("pending_extension", "co_reported", "co_units_waived")


def _tables(bind):
    meta = sa.MetaData()
    tickets = sa.Table("tickets", meta, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("sla", sa.JSON), sa.Column("lead_unit_id", sa.Integer),
                       sa.Column("updated_at", hotline.db.UTCDateTime()),
                       sa.Column("co_units_waived_at", hotline.db.UTCDateTime()))
    events = sa.Table("ticket_events", meta, sa.Column("ticket_id", sa.Integer),
                      sa.Column("sequence", sa.Integer), sa.Column("kind", sa.String),
                      sa.Column("actor_id", sa.Integer), sa.Column("data", sa.JSON),
                      sa.Column("created_at", hotline.db.UTCDateTime()))
    co_units = sa.Table("ticket_co_units", meta, sa.Column("ticket_id", sa.Integer),
                        sa.Column("unit_id", sa.Integer),
                        sa.Column("reported_at", hotline.db.UTCDateTime()))
    units = sa.Table("units", meta, sa.Column("id", sa.Integer), sa.Column("code", sa.String))
    requests = sa.Table("extension_requests", meta, sa.Column("id", sa.Integer),
                        sa.Column("ticket_id", sa.Integer), sa.Column("unit_id", sa.Integer),
                        sa.Column("reason", sa.Text), sa.Column("until", hotline.db.UTCDateTime()),
                        sa.Column("requested_at", hotline.db.UTCDateTime()),
                        sa.Column("requested_by_id", sa.Integer),
                        sa.Column("decided_at", hotline.db.UTCDateTime()))
    return tickets, events, co_units, units, requests


def _last_event(bind, events, ticket_id, kind):
    return bind.execute(
        sa.select(events.c.created_at, events.c.actor_id)
        .where(events.c.ticket_id == ticket_id, events.c.kind == kind)
        .order_by(events.c.sequence.desc()).limit(1)
    ).first()


def upgrade() -> None:
    op.create_table('extension_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('until', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('requested_at', hotline.db.UTCDateTime(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', hotline.db.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('approved', sa.Boolean(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_extension_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_extension_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_extension_requests_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_extension_requests_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_requests'))
    )
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_requests_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index('uq_extension_requests_waiting', ['ticket_id'], unique=True, postgresql_where=sa.text('decided_at IS NULL'), sqlite_where=sa.text('decided_at IS NULL'))
    with op.batch_alter_table('ticket_co_units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_at', hotline.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('co_units_waived_at', hotline.db.UTCDateTime(), nullable=True))

    bind = op.get_bind()
    tickets, events, co_units, units, requests = _tables(bind)
    codes = {code: unit_id for unit_id, code in bind.execute(sa.select(units.c.id, units.c.code))}
    rows = bind.execute(sa.select(tickets.c.id, tickets.c.sla, tickets.c.lead_unit_id,
                                  tickets.c.updated_at)).all()
    for ticket_id, sla, lead_unit_id, updated_at in rows:
        sla = dict(sla or {})
        if not any(key in sla for key in FACTS):
            continue
        pending = sla.get("pending_extension")
        if pending:
            asked = _last_event(bind, events, ticket_id, "extension_requested")
            bind.execute(requests.insert().values(
                ticket_id=ticket_id, unit_id=lead_unit_id, reason=pending.get("reason") or "",
                until=datetime.fromisoformat(pending["until"]),
                requested_at=asked.created_at if asked else updated_at,
                requested_by_id=asked.actor_id if asked else None))
        reported = [codes[c] for c in sla.get("co_reported", []) if c in codes]
        if reported:
            said = _last_event(bind, events, ticket_id, "part_reported")
            bind.execute(co_units.update()
                         .where(co_units.c.ticket_id == ticket_id, co_units.c.unit_id.in_(reported))
                         .values(reported_at=said.created_at if said else updated_at))
        if sla.get("co_units_waived"):
            waived = _last_event(bind, events, ticket_id, "co_units_waived")
            bind.execute(tickets.update().where(tickets.c.id == ticket_id)
                         .values(co_units_waived_at=waived.created_at if waived else updated_at))
        kept = {k: v for k, v in sla.items() if k not in FACTS}
        bind.execute(tickets.update().where(tickets.c.id == ticket_id).values(sla=kept))


def downgrade() -> None:
    bind = op.get_bind()
    tickets, events, co_units, units, requests = _tables(bind)
    code_of = {unit_id: code for unit_id, code in bind.execute(sa.select(units.c.id, units.c.code))}
    facts: dict[int, dict] = {}
    waiting = bind.execute(sa.select(requests.c.ticket_id, requests.c.until, requests.c.reason)
                           .where(requests.c.decided_at.is_(None))).all()
    for ticket_id, until, reason in waiting:
        facts.setdefault(ticket_id, {})["pending_extension"] = {"until": until.isoformat(),
                                                                "reason": reason}
    done = bind.execute(sa.select(co_units.c.ticket_id, co_units.c.unit_id)
                        .where(co_units.c.reported_at.is_not(None))).all()
    for ticket_id, unit_id in done:
        facts.setdefault(ticket_id, {}).setdefault("co_reported", []).append(code_of[unit_id])
    for (ticket_id,) in bind.execute(sa.select(tickets.c.id)
                                     .where(tickets.c.co_units_waived_at.is_not(None))):
        facts.setdefault(ticket_id, {})["co_units_waived"] = True
    for ticket_id, extra in facts.items():
        sla = bind.execute(sa.select(tickets.c.sla).where(tickets.c.id == ticket_id)).scalar()
        bind.execute(tickets.update().where(tickets.c.id == ticket_id)
                     .values(sla={**(sla or {}), **extra}))

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('co_units_waived_at')
    with op.batch_alter_table('ticket_co_units', schema=None) as batch_op:
        batch_op.drop_column('reported_at')
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_extension_requests_waiting', postgresql_where=sa.text('decided_at IS NULL'), sqlite_where=sa.text('decided_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_extension_requests_ticket_id'))
    op.drop_table('extension_requests')
