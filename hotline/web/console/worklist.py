"""我的待办: a unit's open tickets, the nearest next deadline first, each with its countdown."""

from __future__ import annotations

from ...domain.states import Role
from ...extensions import hotline
from ...services import worklists
from ..staff import current_scope, staff_only
from . import bp
from .lists import page_number, render_list


@bp.get("/console/worklist")
@staff_only(Role.UNIT)
def worklist() -> str:
    app = hotline()
    with app.db.transaction() as session:
        mine = current_scope(session) or set()
        page = worklists.unit_worklist(session, mine, page=page_number())
        intro = (
            "最近的时限排在前面（签收、首次反馈、办结，按工作时间倒计时）：红色已超期，"
            "黄色已用去 75% 的时间；催办、督办、通报是督办级别；协办的工单请报告协办情况。"
        )
        return render_list("console/worklist.html", "我的待办", page, intro=intro, mine=mine,
                           clock=app.calendars.clock(session))  # fmt: skip
