"""A small hand-built city for the learning loop's tests: two months of settled tickets of
three kinds, and recent square-dance tickets that operators re-dispatched to the police."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy import select

from hotline.models import Category, RoutingCorrection, Ticket, TicketEvent, Unit

NOW = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)
OLD = NOW - timedelta(days=60)
RECENT = NOW - timedelta(days=3)
PLACES = ("和平路", "人民路", "解放路", "振兴路", "新华街", "书院街", "滨河路", "东门街")
VENDING = "{}菜市场门口流动摊贩占道经营，摆摊卖水果，行人只能走机动车道"
WORKS = "{}工地夜间施工噪音扰民，机器轰鸣到凌晨，附近居民无法休息"
CHARGING = "{}居民楼飞线充电，电线从窗户拉下来给电动车充电，存在火灾隐患"
DANCING = "{}小广场每晚广场舞音响开得很大，跳到十点多，老人孩子都睡不着"
NEW_DANCING = "幸福小区门口的广场舞音响太响了，每天晚上吵到很晚"
_numbers = count(1)


def add_ticket(session, text: str, category: str, unit: str, *, at: datetime,
               status: str = "accepted", returned_by: str | None = None) -> Ticket:  # fmt: skip
    ticket = Ticket(
        number=f"T{next(_numbers):07d}", channel="web", description=text, status=status,
        tracking_salt="0" * 32, created_at=at, updated_at=at, dispatched_at=at,
        category=session.scalar(select(Category).where(Category.code == category)),
        lead_unit=session.scalar(select(Unit).where(Unit.code == unit)) if unit else None,
    )  # fmt: skip
    session.add(ticket)
    session.flush()
    if returned_by:
        session.add(TicketEvent(ticket_id=ticket.id, sequence=1, kind="returned",
                                actor_label="单位", body="不属于本单位职责",
                                data={"unit": returned_by}, created_at=at))  # fmt: skip
    return ticket


def correct(session, ticket: Ticket, category: str | None, unit: str, *, at: datetime) -> None:
    session.add(RoutingCorrection(ticket_id=ticket.id, text=ticket.description,
                                  predicted_category="noise", predicted_unit="dept-sthjj",
                                  category=category, lead_unit=unit, created_at=at))  # fmt: skip


def history(session) -> None:
    """Two months ago: vending to 城管, works noise to 生态环境, flying leads to 住建; and
    two square-dance tickets that went to 生态环境 like all noise."""
    for place in PLACES:
        add_ticket(session, VENDING.format(place), "street-vending", "dept-cgj", at=OLD)
        add_ticket(session, WORKS.format(place), "noise", "dept-sthjj", at=OLD)
        add_ticket(session, CHARGING.format(place), "flying-lead-charging", "dept-zjj", at=OLD)
    for place in PLACES[:2]:
        add_ticket(session, DANCING.format(place), "noise", "dept-sthjj", at=OLD)


def corrections(session, n: int = 6) -> None:
    """Operators re-dispatched square-dance noise to the police (公安局), recently."""
    for place in PLACES[2 : 2 + n]:
        ticket = add_ticket(session, DANCING.format(place), "noise", "dept-gaj", at=RECENT)
        correct(session, ticket, "noise", "dept-gaj", at=RECENT)
