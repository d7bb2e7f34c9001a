"""个人信息删除: a resident's own request to erase their data, by phone number: first the
count to confirm, then the erasure (audited with the number masked)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from ...domain.states import Role
from ...errors import HotlineError
from ...extensions import hotline
from ...services import privacy
from ..staff import current_actor, staff_only
from . import bp, page


def _privacy_page(*, phone: str = "", found: Any = None, errors: dict[str, Any] | None = None,
                  message: str | None = None) -> str:  # fmt: skip
    return page("privacy.html", phone=phone, found=found, errors=errors or {}, message=message,
                retention_days=hotline().settings.personal_data_days)  # fmt: skip


@bp.get("/console/admin/privacy")
@staff_only(Role.ADMIN)
def admin_privacy() -> str:
    return _privacy_page()


@bp.post("/console/admin/privacy")
@staff_only(Role.ADMIN)
def admin_erase_resident() -> Any:
    """Only counts are shown: admins may not find a resident's tickets by phone."""
    app = hotline()
    raw = request.form.get("phone", "").strip()
    try:
        phone = privacy.resident_phone(raw)
    except HotlineError as exc:
        return _privacy_page(phone=raw, errors=exc.errors, message=exc.detail), exc.status
    with app.db.transaction() as session:
        if request.form.get("step") != "erase":
            found = privacy.check_resident(session, phone, actor=current_actor(), now=app.now())
            return _privacy_page(phone=phone, found=found)
        numbers = privacy.erase_resident(session, phone, actor=current_actor(), now=app.now(),
                                         photos=app.photos)  # fmt: skip
    flash(f"已删除 {len(numbers)} 件工单中该市民的姓名、电话和照片（已记入审计日志）", "success")
    return redirect(url_for("admin.admin_privacy"), code=303)
