"""通知模板: every notification text, checked before it is saved, or reset to the built-in one."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from ...domain.states import Role
from ...errors import HotlineError
from ...extensions import hotline
from ...services import templates as template_service
from ..staff import current_actor, staff_only
from . import bp, page


@bp.get("/console/admin/templates")
@staff_only(Role.ADMIN)
def admin_templates() -> str:
    with hotline().db.transaction() as session:
        items = [t.as_dict() for t in template_service.list_templates(session)]
        return page("templates.html", items=items, errors={}, failed=None, form={})


@bp.post("/console/admin/templates/<key>")
@staff_only(Role.ADMIN)
def admin_save_template(key: str) -> Any:
    app = hotline()
    form = request.form
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                if form.get("reset") == "1":
                    template_service.reset_template(session, key, actor=current_actor(),
                                                    now=app.now())  # fmt: skip
                else:
                    template_service.save_template(
                        session, key, body=form.get("body", ""),
                        subject=form.get("subject") or None,
                        sms_template_id=form.get("sms_template_id") or None,
                        actor=current_actor(), now=app.now(),
                    )  # fmt: skip
        except HotlineError as exc:
            items = [t.as_dict() for t in template_service.list_templates(session)]
            return page("templates.html", items=items, errors=exc.errors or {},
                        failed=key, message=exc.detail, form=form), exc.status  # fmt: skip
    flash("模板已恢复为默认文本" if form.get("reset") == "1" else "模板已保存", "success")
    return redirect(url_for("admin.admin_templates") + f"#t-{key}", code=303)
