"""What the transition table cannot see: facts of one ticket that rule out an action the table
allows in its status — co-units still to report, the return window over, extensions used up.

One place for both sides: ``lifecycle.perform`` refuses with the obstacle's message (409), and
the ticket page offers only the actions without one (and says why the others wait), so a unit
never fills in a form that is bound to be refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.sla import MAX_EXTENSIONS
from ..domain.workflow import Action
from ..models import Ticket, ticket_co_units

RETURN_WINDOW_OVER = "已超过退单时限（派单后 1 个工作日），请办理或申请协调"
CO_UNITS_WAITING = "协办单位尚未全部报告办理情况，或请督办人员免除"


def co_units_waiting(session: Session, ticket: Ticket) -> list[int]:
    """Ids of the co-units that have not reported their part in this round."""
    return list(session.scalars(
        select(ticket_co_units.c.unit_id)
        .where(ticket_co_units.c.ticket_id == ticket.id, ticket_co_units.c.reported_at.is_(None))
    ))  # fmt: skip


def obstacle(session: Session, ticket: Ticket, action: Action, now: datetime) -> str | None:
    """Why ``action`` cannot be done on ``ticket`` now although its status allows it (the
    message a refusal gives), or None."""
    if action is Action.RETURN and ticket.return_by and now > ticket.return_by:
        return RETURN_WINDOW_OVER
    if action is Action.RESOLVE and ticket.co_units_waived_at is None \
            and co_units_waiting(session, ticket):  # fmt: skip
        return CO_UNITS_WAITING
    if action is Action.REQUEST_EXTENSION:
        if ticket.extensions_used >= MAX_EXTENSIONS:
            return f"最多延期 {MAX_EXTENSIONS} 次"
        if ticket.pending_extension is not None:
            return "已有待审批的延期申请"
    if action is Action.DECIDE_EXTENSION and ticket.pending_extension is None:
        return "没有待审批的延期申请"
    if action is Action.SUPERVISE and ticket.supervision_level >= 3:
        return "已是最高督办级别（通报）"
    return None
