"""Rulesets as stored versions: drafts, activation (audited, one at a time), copies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from hotline.errors import Conflict, ValidationFailed
from hotline.models import AuditEvent, RulesetRecord
from hotline.services.actors import Actor
from hotline.services.router_cache import RouterCache
from hotline.services.rulesets import activate, copy_as_draft, create_ruleset, update_draft
from tests.helpers import restore_seeded_ruleset

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
ADMIN = Actor(None, "测试管理员")
SMALL = {
    "name": "测试版本",
    "threshold": 0.5,
    "rules": [{"label": "噪音扰民", "category": "noise", "keywords": {"噪音": 2.0}}],
}


@pytest.fixture
def restore_active(db):
    """Tests here switch the active ruleset; put the seeded one back afterwards."""
    yield
    with db.transaction() as session:
        restore_seeded_ruleset(session)
        session.execute(delete(AuditEvent))
        session.execute(delete(RulesetRecord).where(RulesetRecord.name == "测试版本"))


def test_create_fills_defaults_from_the_category(db, restore_active) -> None:
    with db.transaction() as session:
        record = create_ruleset(session, SMALL, source="api", now=NOW)
        compiled = RouterCache(refresh_seconds=0).compiled(session, record)
    rule = compiled.router.ruleset.rules[0]
    assert (rule.lead_unit, rule.territorial) == ("dept-sthjj", True)  # from the noise category
    assert record.status == "draft" and record.version == 1


def test_invalid_ruleset_saves_nothing(db, restore_active) -> None:
    bad = {**SMALL, "rules": [{"label": "x", "category": "no-such", "keywords": {"a": 99}}]}
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(RulesetRecord))
    with pytest.raises(ValidationFailed) as info, db.transaction() as session:
        create_ruleset(session, bad, source="api", now=NOW)
    assert any("未知的类别" in m for m in info.value.errors["ruleset"])
    assert any("超出范围" in m for m in info.value.errors["ruleset"])
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RulesetRecord)) == before


def test_activation_archives_the_previous_one_and_is_audited(db, restore_active) -> None:
    with db.transaction() as session:
        first = create_ruleset(session, SMALL, source="api", now=NOW)
        activate(session, first, now=NOW, actor=ADMIN)
        second = copy_as_draft(session, first, now=NOW, actor=ADMIN)
        assert second.version == 2 and second.status == "draft"
        activate(session, second, now=NOW, actor=ADMIN)
    with db.transaction() as session:
        statuses = dict(session.execute(select(RulesetRecord.id, RulesetRecord.status)).all())
        assert statuses[first.id] == "archived" and statuses[second.id] == "active"
        assert list(statuses.values()).count("active") == 1
        audit = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [a.action for a in audit] == ["ruleset.activated", "ruleset.activated"]
        assert audit[-1].data["previous"]["id"] == first.id
        assert audit[-1].actor_label == "测试管理员"


def test_only_drafts_can_be_edited(db, restore_active) -> None:
    with db.transaction() as session:
        record = create_ruleset(session, SMALL, source="api", now=NOW)
        edited = {**SMALL, "rules": [{**SMALL["rules"][0], "keywords": {"噪音": 2.5}}]}
        update_draft(session, record, edited, now=NOW)
        assert record.data["rules"][0]["keywords"] == {"噪音": 2.5}
        activate(session, record, now=NOW, actor=ADMIN)
        with pytest.raises(Conflict):
            update_draft(session, record, SMALL, now=NOW)


def test_cache_sees_a_new_activation(db, restore_active) -> None:
    cache = RouterCache(refresh_seconds=0)
    with db.transaction() as session:
        assert cache.active(session).name == "示范市默认规则"
        record = create_ruleset(session, SMALL, source="api", now=NOW)
        activate(session, record, now=NOW, actor=ADMIN)
    with db.transaction() as session:
        assert cache.active(session).name == "测试版本"
