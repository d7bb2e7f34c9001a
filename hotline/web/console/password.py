"""修改密码: a signed-in user changes their own password."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from ...errors import HotlineError
from ...extensions import hotline
from ...services.auth import open_session
from ...services.login import change_password
from ..staff import staff_only, staff_user
from . import bp


@bp.route("/console/password", methods=["GET", "POST"])
@staff_only()
def password() -> Any:
    """修改密码: the current password, then the new one twice. Other sessions end. A user
    whose password an admin set lands here first and may go on once it is changed."""
    if request.method == "GET":
        return render_template("console/password.html", errors={}, message=None)
    app = hotline()
    form = request.form
    with app.db.transaction() as session:
        try:
            user = change_password(
                session, current_user.id, current=form.get("current_password", ""),
                new=form.get("new_password", ""), confirm=form.get("confirm_password", ""),
                address=request.remote_addr, now=app.now(),
            )  # fmt: skip
        except HotlineError as exc:
            # Returned, not raised: like sign-in, a wrong current password stays counted.
            return render_template("console/password.html", errors=exc.errors or {},
                                   message=exc.detail), exc.status  # fmt: skip
        user.must_change_password = False  # their own now: the consoles open again
        staff = staff_user(user, open_session(session, user, now=app.now()))
    login_user(staff)  # this browser stays signed in, on a fresh session
    flash("密码已修改，其他设备上的登录已全部退出", "success")
    return redirect(url_for("console.console_home"), code=303)
