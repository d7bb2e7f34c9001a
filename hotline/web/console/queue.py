"""待派单: the manual-dispatch queue."""

from __future__ import annotations

from ...extensions import hotline
from ...services import worklists
from ..staff import CITY_WIDE, staff_only
from . import bp
from .lists import page_number, render_list


@bp.get("/console/queue")
@staff_only(*CITY_WIDE)
def queue() -> str:
    with hotline().db.transaction() as session:
        page = worklists.manual_queue(session, page=page_number())
        intro = "系统无把握、类别有分歧或被退回的工单，置信度低的在前。"
        returns = worklists.return_reasons(session, page.tickets)
        return render_list("console/queue.html", "待派单队列", page, show_routing=True,
                           intro=intro, returns=returns)  # fmt: skip
