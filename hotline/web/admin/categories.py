"""类别与时限: every category by its Chinese name, searchable, each with its page: time-limit
class, priority, default unit and whether the public form offers it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.states import Role
from ...errors import HotlineError
from ...extensions import hotline
from ...models import Category, Unit
from ...services import admin as service
from ..staff import current_actor, staff_only
from . import bp, page

TIME_LIMITS = {"emergency": "紧急（0.5 小时签收，24 小时办结，自然时）",
               "outage": "停水停电停气（1 小时签收，24 小时办结）",
               "consultation": "咨询（4 工作小时签收，3 个工作日办结）",
               "ordinary": "一般（4 工作小时签收，5 个工作日办结）",
               "complex": "疑难（4 工作小时签收，15 个工作日办结）"}  # fmt: skip
TIME_LIMIT_NAMES = {"emergency": "紧急", "outage": "停水停电停气", "consultation": "咨询",
                    "ordinary": "一般", "complex": "疑难"}  # fmt: skip
PRIORITIES = {"normal": "一般", "urgent": "紧急", "emergency": "特急"}


@bp.get("/console/admin/categories")
@staff_only(Role.ADMIN)
def admin_categories() -> str:
    q = request.args.get("q", "").strip()[:100]
    with hotline().db.transaction() as session:
        categories = service.find_categories(session, q)
        groups: dict[str, list[Category]] = {}
        for category in categories:
            groups.setdefault(category.group_name, []).append(category)
        return page("categories.html", groups=groups, q=q, count=len(categories),
                    time_limits=TIME_LIMIT_NAMES, priorities=PRIORITIES)  # fmt: skip


def _category_page(session: Session, code: str, *, errors: dict[str, Any] | None = None,
                   message: str | None = None) -> str:  # fmt: skip
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None:
        abort(404)
    units = list(session.scalars(select(Unit).where(Unit.kind == "department")
                                 .order_by(Unit.id)))  # fmt: skip
    return page("category.html", c=category, units=units, errors=errors or {},
                message=message, time_limits=TIME_LIMITS, priorities=PRIORITIES,
                form=request.form if errors else None)  # fmt: skip


@bp.get("/console/admin/categories/<code>")
@staff_only(Role.ADMIN)
def admin_category(code: str) -> str:
    with hotline().db.transaction() as session:
        return _category_page(session, code)


@bp.post("/console/admin/categories/<code>")
@staff_only(Role.ADMIN)
def admin_update_category(code: str) -> Any:
    app = hotline()
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                service.update_category(session, code, dict(request.form), actor=current_actor(),
                                        now=app.now())  # fmt: skip
        except HotlineError as exc:
            if exc.status == 404:
                abort(404)
            return _category_page(session, code, errors=exc.errors or {},
                                  message=exc.detail), exc.status  # fmt: skip
    flash("类别已保存（新派单起按新的时限计算）", "success")
    return redirect(url_for("admin.admin_category", code=code), code=303)
