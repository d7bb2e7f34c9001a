"""单位: departments (条) and the territorial tree (块: district → street → community → grid)
with search, a new unit under any parent, and each unit's page (contacts, the webhook, its
Open311 system, aliases used by call-centre imports)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.states import PARENT_KIND, Role, UnitKind
from ...errors import HotlineError
from ...extensions import hotline
from ...models import Unit, User
from ...services import admin as service
from ..staff import current_actor, staff_only
from . import bp, page


@bp.get("/console/admin/units")
@staff_only(Role.ADMIN)
def admin_units() -> str:
    q = request.args.get("q", "").strip()[:100]
    with hotline().db.transaction() as session:
        tree = service.unit_tree(session)
        found = service.search_units(tree, q) if q else None
        counts = {"places": _count(tree.places), "departments": _count(tree.departments)}
        return page("units.html", tree=tree, q=q, found=found, counts=counts)


def _count(nodes: list[service.UnitNode]) -> int:
    return sum(1 + _count(node.children) for node in nodes)


def _parents(tree: service.UnitTree) -> list[tuple[Unit, str]]:
    """Every unit that can have children, with its path, for the parent picker."""
    out: list[tuple[Unit, str]] = []

    def walk(nodes: list[service.UnitNode]) -> None:
        for node in nodes:
            if node.unit.kind != UnitKind.GRID.value:
                path = " › ".join([*(u.name for u in tree.paths[node.unit.id]), node.unit.name])
                out.append((node.unit, path))
            walk(node.children)

    walk(tree.departments + tree.places)
    return out


def _child_kind(parent: Unit | None) -> str:
    """The kind a new unit under ``parent`` most likely is."""
    if parent is None:
        return UnitKind.DEPARTMENT.value
    for kind, wanted in PARENT_KIND.items():
        if wanted is not None and wanted.value == parent.kind:
            return kind.value
    return UnitKind.DEPARTMENT.value


def _new_unit_page(session: Session, *, errors: dict[str, Any] | None = None,
                   message: str | None = None) -> str:  # fmt: skip
    tree = service.unit_tree(session)
    if errors is not None:
        form: dict[str, Any] = dict(request.form)
    else:
        code = request.args.get("parent", "")
        parent = session.scalar(select(Unit).where(Unit.code == code)) if code else None
        form = {"parent": parent.code if parent else "", "kind": _child_kind(parent)}
    return page("unit_new.html", parents=_parents(tree), form=form, errors=errors or {},
                message=message)  # fmt: skip


@bp.get("/console/admin/units/new")
@staff_only(Role.ADMIN)
def admin_new_unit() -> str:
    with hotline().db.transaction() as session:
        return _new_unit_page(session)


@bp.post("/console/admin/units/new")
@staff_only(Role.ADMIN)
def admin_create_unit() -> Any:
    app = hotline()
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                unit = service.create_unit(session, dict(request.form), actor=current_actor(),
                                           now=app.now())  # fmt: skip
                code, name = unit.code, unit.name
        except HotlineError as exc:
            return _new_unit_page(session, errors=exc.errors or {},
                                  message=exc.detail), exc.status  # fmt: skip
    flash(f"已新建单位 {name}；分派与导入从现在起可以用到它", "success")
    return redirect(url_for("admin.admin_unit", code=code), code=303)


def _unit_page(session: Session, code: str, *, errors: dict[str, Any] | None = None,
               message: str | None = None) -> str:  # fmt: skip
    tree = service.unit_tree(session)
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        abort(404)
    children = list(session.scalars(select(Unit).where(Unit.parent_id == unit.id)
                                    .order_by(Unit.id)))  # fmt: skip
    staff = list(session.scalars(select(User).where(User.unit_id == unit.id)
                                 .order_by(User.username)))  # fmt: skip
    return page("unit.html", unit=unit, path=tree.paths.get(unit.id, []), children=children,
                staff=staff, errors=errors or {}, message=message,
                form=request.form if errors else None,
                may_have_children=unit.kind != UnitKind.GRID.value)  # fmt: skip


@bp.get("/console/admin/units/<code>")
@staff_only(Role.ADMIN)
def admin_unit(code: str) -> str:
    with hotline().db.transaction() as session:
        return _unit_page(session, code)


@bp.post("/console/admin/units/<code>")
@staff_only(Role.ADMIN)
def admin_update_unit(code: str) -> Any:
    app = hotline()
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                service.update_unit(session, code, dict(request.form), actor=current_actor(),
                                    now=app.now())  # fmt: skip
        except HotlineError as exc:
            if exc.status == 404:
                abort(404)
            return _unit_page(session, code, errors=exc.errors or {},
                              message=exc.detail), exc.status  # fmt: skip
    flash("单位信息已保存", "success")
    return redirect(url_for("admin.admin_unit", code=code), code=303)
