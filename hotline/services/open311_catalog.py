"""Open311 services: our active categories, their questions (service definitions) and the
words routing knows them by, as plain data for any edge to render."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.rules import Ruleset

from ..models import Category

KEYWORD_COUNT = 5  # the strongest few: a client shows them as search hints, not the rule
LIST_TYPES = ("singlevaluelist", "multivaluelist")
# What a client tells a person about each datatype (the spec's datatype_description).
DATATYPE_DESCRIPTIONS = {
    "string": "一行文字", "number": "数字", "datetime": "日期时间（W3C 格式）",
    "text": "多行文字", "singlevaluelist": "单选，填选项的 key",
    "multivaluelist": "可多选，每个选项的 key 各填一次",
}  # fmt: skip


def keywords_by_category(ruleset: Ruleset | None,
                         limit: int = KEYWORD_COUNT) -> dict[str, list[str]]:  # fmt: skip
    """Each category's strongest positive keywords over all rules naming it, strongest first
    (negative weights only tell similar categories apart: they are not words for it)."""
    weights: dict[str, dict[str, float]] = {}
    for rule in ruleset.rules if ruleset else ():
        if not rule.category:
            continue
        mine = weights.setdefault(rule.category, {})
        for term, weight in rule.keywords.items():
            if weight > 0:
                mine[term] = max(weight, mine.get(term, 0.0))
    return {
        # Stable: equal weights keep the order the ruleset's author wrote them in.
        code: [t for t, _ in sorted(terms.items(), key=lambda tw: -tw[1])[:limit]]
        for code, terms in weights.items()
    }


def _active_categories(session: Session) -> list[Category]:
    return list(session.scalars(
        select(Category).where(Category.active.is_(True))
        .order_by(Category.sort_order, Category.code)
    ))  # fmt: skip


def list_services(session: Session, ruleset: Ruleset | None) -> list[dict[str, Any]]:
    """GET services: one entry per active category, in the order staff see them; keywords
    from ``ruleset`` (the active routing ruleset, compiled and cached per process)."""
    keywords = keywords_by_category(ruleset)
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.description or "",
            "metadata": bool(category.attributes),
            "type": category.service_type or "realtime",
            "keywords": ",".join(keywords.get(category.code, [])),
            "group": category.group_name,
        }
        for category in _active_categories(session)
    ]


def find_service(session: Session, code: str) -> Category | None:
    """The active category with this service_code, or None (an inactive one is unknown)."""
    return session.scalar(
        select(Category).where(Category.code == code[:40], Category.active.is_(True))
    )


def _order(value: Any, position: int) -> int:
    try:
        return int(value) if value not in (None, "") else position
    except (TypeError, ValueError):
        return position


def _attribute(item: dict[str, Any], position: int) -> dict[str, Any]:
    datatype = str(item.get("datatype") or "string")
    entry: dict[str, Any] = {
        "variable": item.get("variable", True) is not False,  # false: information only
        "code": str(item.get("code") or ""),
        "datatype": datatype,
        "required": bool(item.get("required")),
        "datatype_description": item.get("datatype_description")
        or DATATYPE_DESCRIPTIONS.get(datatype, ""),
        "order": _order(item.get("order"), position),
        "description": str(item.get("description") or ""),
    }
    if datatype in LIST_TYPES:
        entry["values"] = [
            {"key": str(value.get("key", "")), "name": str(value.get("name", ""))}
            for value in item.get("values") or []
            if isinstance(value, dict)
        ]
    return entry


def service_definition(category: Category) -> dict[str, Any]:
    """GET services/{code}: the category's questions, numbered in the order they are asked."""
    items = [item for item in category.attributes or [] if isinstance(item, dict)]
    return {
        "service_code": category.code,
        "attributes": [_attribute(item, n) for n, item in enumerate(items, start=1)],
    }
