"""The routing page's 立即学习新草稿 button (inline without Redis; a second click starts
nothing) and a learned draft's page: the shadow evaluation and the changes per category."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.models import AuditEvent, RulesetRecord
from hotline.services import relearn
from hotline.services.actors import Actor
from tests.helpers import form_post, signed_in
from tests.helpers.learning_city import corrections, history

ROUTING = "/console/admin/routing"


def _learned(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == relearn.FINISHED)) or 0  # fmt: skip


def test_the_button_learns_a_draft_and_its_page_shows_the_shadow_evaluation(app, db) -> None:
    with db.transaction() as session:
        history(session)
        corrections(session)
        active = session.scalar(select(RulesetRecord.id).where(RulesetRecord.status == "active"))
    admin = signed_in(app, "admin", "demo-admin-1")
    page = admin.get(ROUTING).get_data(as_text=True)
    assert "立即学习新草稿" in page and "还没有自动学习过" in page

    done = form_post(admin, f"{ROUTING}/relearn", ROUTING)
    assert done.status_code == 303 and "#shadow" in done.location
    draft = admin.get(done.location.split("#")[0]).get_data(as_text=True)
    assert "已生成草稿" in draft and "不会自动启用" in draft
    assert "影子评估：草稿与生效中的规则" in draft
    assert "近 30 天已派出且未退单的工单" in draft and "话务员改派记录（6 条）" in draft
    assert "噪音扰民（示范市公安局）" in draft and "广场舞" in draft
    assert "会改变分派的工单" in draft and "草稿对" in draft
    with db.transaction() as session:
        assert session.scalar(select(RulesetRecord.id)
                              .where(RulesetRecord.status == "active")) == active  # fmt: skip
    after = admin.get(ROUTING).get_data(as_text=True)
    assert "上次学习" in after and "生成草稿" in after


def test_a_second_click_starts_nothing(app, db, clock) -> None:
    admin = signed_in(app, "admin", "demo-admin-1")
    with db.transaction() as session:  # a run under way (another click, the weekly tick)
        relearn.claim_learning(session, now=clock.now)
    page = admin.get(ROUTING).get_data(as_text=True)
    assert "学习正在进行中" in page
    again = form_post(admin, f"{ROUTING}/relearn", ROUTING)
    assert again.status_code == 303
    assert "学习正在进行中" in admin.get(again.location).get_data(as_text=True)
    assert _learned(db) == 0
    with db.transaction() as session:
        requests = session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == relearn.REQUESTED))  # fmt: skip
    assert requests == 0


def test_a_request_already_queued_is_not_queued_again(app, db, clock) -> None:
    with db.transaction() as session:
        assert relearn.request_learning(session, actor=Actor(None, "t"), now=clock.now) == "queued"
    admin = signed_in(app, "admin", "demo-admin-1")
    again = form_post(admin, f"{ROUTING}/relearn", ROUTING)
    assert "无需重复点击" in admin.get(again.location).get_data(as_text=True)


def test_nothing_to_learn_is_said_plainly(app, db) -> None:
    admin = signed_in(app, "admin", "demo-admin-1")
    done = form_post(admin, f"{ROUTING}/relearn", ROUTING)
    text = admin.get(done.location).get_data(as_text=True)
    assert "未生成草稿：可学习的数据不足" in text


def test_only_admins_may_learn(app) -> None:
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    assert supervisor.post(f"{ROUTING}/relearn").status_code in (400, 403)
