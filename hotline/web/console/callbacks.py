"""待回访: resolved tickets waiting for the resident's answer."""

from __future__ import annotations

from ...extensions import hotline
from ...services import worklists
from ..staff import CITY_WIDE, staff_only
from . import bp
from .lists import page_number, render_list


@bp.get("/console/callbacks")
@staff_only(*CITY_WIDE)
def callbacks() -> str:
    with hotline().db.transaction() as session:
        page = worklists.callbacks_due(session, page=page_number())
        return render_list("console/callbacks.html",
            "待回访", page, intro="已办结、等待市民确认的工单：电话回访后登记结果。"
        )
