"""我的待办: a unit's open tickets by deadline."""

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
    with hotline().db.transaction() as session:
        mine = current_scope(session) or set()
        page = worklists.unit_worklist(session, mine, page=page_number())
        intro = "按办结时限排序：红色已超期，黄色时限将至；协办的工单请报告协办情况。"
        return render_list("console/worklist.html", "我的待办", page, intro=intro, mine=mine)
