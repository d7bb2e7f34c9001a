"""The learning loop on a small hand-built city: operators' corrections change the next
draft, returned tickets teach nothing wrong, the shadow evaluation's figures, and nothing
activates itself."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hotline.background.learning import run_learning
from hotline.models import AuditEvent, OutboxMessage, RulesetRecord, TicketEvent
from hotline.services import inbox, relearn, shadow
from hotline.services.actors import Actor
from hotline.services.router_cache import CityModel, build_ruleset
from hotline.services.shadow import best_guess
from hotline.services.training import learn_draft
from routing.classifier import Router
from routing.learn import Target
from tests.helpers.learning_city import (
    DANCING,
    NEW_DANCING,
    NOW,
    OLD,
    RECENT,
    VENDING,
    WORKS,
    add_ticket,
    correct,
    corrections,
    history,
)


def active_ruleset(session):
    record = session.scalar(select(RulesetRecord).where(RulesetRecord.status == "active"))
    return record, build_ruleset(record.data, CityModel.load(session))


def test_a_correction_changes_the_next_draft(db, settings) -> None:
    with db.transaction() as session:
        history(session)
        city = CityModel.load(session)
        _, active = active_ruleset(session)
        without = relearn.city_training(session, now=NOW, base=active)
    assert Router(active).route(NEW_DANCING).lead_unit == "dept-sthjj"  # as it always went
    before = build_ruleset(learn_draft(without.training, name="t").to_dict(), city)
    assert best_guess(Router(before).route(NEW_DANCING)).lead_unit == "dept-sthjj"

    with db.transaction() as session:
        corrections(session)
    outcome = run_learning(settings, db, now=NOW)
    assert outcome["status"] == "learned"
    with db.transaction() as session:
        record = session.get(RulesetRecord, outcome["ruleset_id"])
        draft = build_ruleset(record.data, CityModel.load(session))
        evaluation = record.evaluation
    # The best rule for a new square-dance ticket now names the police (the confidence of a
    # learner fitted on 32 rows is not the point here).
    guess = best_guess(Router(draft).route(NEW_DANCING))
    assert (guess.category, guess.lead_unit) == ("noise", "dept-gaj")
    assert evaluation["training"]["corrections"] == 6
    # The diff names the rule the corrections made and the keyword that decides it.
    rule = next(r for r in evaluation["changes"]["rules"]
                if r["category"] == "noise" and r["lead_unit"] == "dept-gaj")  # fmt: skip
    assert rule["name"] == "噪音扰民（示范市公安局）"
    assert "广场舞" in [t["term"] for t in rule["added"]]
    # On the corrections the active ruleset was wrong every time, the draft is right.
    sets = {s["key"]: s for s in evaluation["sets"]}
    assert sets["corrections"]["active"]["accuracy"] == 0.0
    assert sets["corrections"]["draft"]["accuracy"] == 1.0
    assert sets["corrections"]["changes"]["wrong_to_right"] == 6
    examples = rule["examples"]
    assert examples and examples[0]["right"] == "draft" and len(examples[0]["text"]) <= 80
    assert examples[0]["active"].startswith("噪音扰民") and "公安局" in examples[0]["draft"]


def test_returned_tickets_teach_nothing_wrong(db) -> None:
    with db.transaction() as session:
        history(session)
        # Returned by 城管, not re-dispatched yet: "not ours" and nothing more.
        add_ticket(session, VENDING.format("光明路"), "street-vending", None, at=OLD,
                   status="returned", returned_by="dept-cgj")  # fmt: skip
        # Returned by 生态环境, re-dispatched to the police, accepted: the right unit.
        add_ticket(session, DANCING.format("光明路"), "noise", "dept-gaj", at=OLD,
                   returned_by="dept-sthjj")  # fmt: skip
        # A correction to 交警 that 交警 returned afterwards: dropped.
        wrong = add_ticket(session, WORKS.format("光明路"), "noise", None, at=OLD,
                           status="returned")  # fmt: skip
        correct(session, wrong, None, "dept-jj", at=OLD)
        session.add(TicketEvent(ticket_id=wrong.id, sequence=1, kind="returned",
                                actor_label="交警", data={"unit": "dept-jj"},
                                created_at=OLD + timedelta(hours=2)))  # fmt: skip
        # Recent: settled after a return, so not in the "not returned" evaluation set.
        add_ticket(session, VENDING.format("光明路"), "street-vending", "dept-cgj", at=RECENT,
                   returned_by="dept-jj")  # fmt: skip
        add_ticket(session, VENDING.format("幸福路"), "street-vending", "dept-cgj", at=RECENT)
        city = CityModel.load(session)
        gathered = relearn.city_training(session, now=NOW, base=None)
        sets = shadow.shadow_sets(session, city, now=NOW)
    assert gathered.from_tickets == 26 and gathered.from_returns == 1
    assert gathered.from_corrections == 0
    assert "示范市公安局交通警察支队" not in gathered.training.labels
    assert len(gathered.training.texts) == 27  # the recent ones are kept for the evaluation
    assert [row.number for row in sets.recent] == [sets.recent[0].number]
    assert "幸福路" in sets.recent[0].text and sets.corrections == []


def _ruleset(city, rules):
    return build_ruleset({"name": "t", "threshold": 0.6, "rules": rules}, city)


def test_shadow_figures_on_a_small_city(db) -> None:
    with db.transaction() as session:
        city = CityModel.load(session)
    active = _ruleset(city, [
        {"label": "占道", "category": "street-vending", "keywords": {"摊贩": 3.0}},
        {"label": "噪音", "category": "noise", "keywords": {"噪音": 3.0, "广场舞": 3.0}},
    ])  # fmt: skip
    draft = _ruleset(city, [
        {"label": "占道经营", "category": "street-vending", "keywords": {"摊贩": 3.0}},
        {"label": "噪音扰民", "category": "noise", "keywords": {"噪音": 3.0}},
        {"label": "广场舞", "category": "noise", "lead_unit": "dept-gaj",
         "keywords": {"广场舞": 3.0, "音响": 1.0}},
    ])  # fmt: skip
    vending, noise = Target("street-vending"), Target("noise")
    police = Target("noise", "dept-gaj")
    row = relearn.LabelledText
    sets = shadow.ShadowSets(
        recent=[row("门口有摊贩", vending, "A1"), row("路口有摊贩", vending, "A2"),
                row("工地噪音", noise, "A3"), row("晚上广场舞", police, "A4"),
                row("今天天气不错", vending, "A5")],
        corrections=[row("广场舞太吵", police, "C1"), row("广场舞到十点", police, "C2")],
    )  # fmt: skip
    figures, changes, examples = shadow.shadow_evaluation(draft, active, sets, city)
    recent, fixed = figures
    # Active: 3 of 5 right (A5 matches nothing, A4 goes to 生态环境); 4 of 5 confident.
    assert recent["active"] == {
        "n": 5,
        "right": 3,
        "confident": 4,
        "right_confident": 3,
        "accuracy": 0.6,
        "coverage": 0.8,
        "precision": 0.75,
    }
    assert recent["draft"] == {
        "n": 5,
        "right": 4,
        "confident": 4,
        "right_confident": 4,
        "accuracy": 0.8,
        "coverage": 0.8,
        "precision": 1.0,
    }
    assert recent["changes"] == {"changed": 1, "right_to_wrong": 0, "wrong_to_right": 1}
    assert fixed["active"]["accuracy"] == 0.0 and fixed["draft"]["accuracy"] == 1.0
    assert fixed["changes"]["wrong_to_right"] == 2
    assert [e["number"] for e in examples] == ["A4", "C1", "C2"]
    assert examples[0] == {"set": "recent", "number": "A4", "text": "晚上广场舞",
                           "right_answer": "噪音扰民（示范市公安局）",
                           "active": "噪音扰民", "draft": "噪音扰民（示范市公安局）",
                           "right": "draft"}  # fmt: skip
    by_key = {r["key"]: r for r in changes["rules"]}
    added = by_key["category:noise:dept-gaj"]
    assert added["status"] == "added" and [e["number"] for e in added["examples"]][:1] == ["A4"]
    moved = by_key["category:noise:dept-sthjj"]
    assert moved["removed"] == [{"term": "广场舞", "weight": 3.0}]
    assert by_key["category:street-vending:dept-cgj"]["status"] == "same"
    assert changes["rules"][0]["key"] == "category:noise:dept-gaj"  # the biggest change first


def test_nothing_activates_itself_and_once_a_week_is_enough(db, settings) -> None:
    with db.transaction() as session:
        history(session)
        corrections(session, 3)
        active_before = active_ruleset(session)[0].id
        admins = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert admins == 0
    assert run_learning(settings, db, now=NOW)["status"] == "learned"
    assert run_learning(settings, db, now=NOW + timedelta(days=6))["status"] == "skipped"
    with db.transaction() as session:
        record, _ = active_ruleset(session)
        assert record.id == active_before
        draft = relearn.learned_drafts(session, limit=1)[0]
        assert (draft.status, draft.source) == ("draft", "learn")
        # The admins' inbox says so, with the figures and the draft's page; supervisors'
        # inbox does not.
        admin = inbox.Reader(1, "admin", None)
        items = inbox.inbox_page(session, admin, now=NOW, scope=None).items
        assert [i.label for i in items] == ["规则草稿待审"]
        assert items[0].link == f"/console/admin/routing/{draft.id}"
        assert "准确率" in items[0].body and f"v{draft.version}" in items[0].body
        supervisor = inbox.Reader(2, "supervisor", None)
        assert inbox.inbox_page(session, supervisor, now=NOW, scope=None).items == []
        # Asked for within the week: runs again.
        assert relearn.request_learning(session, actor=Actor(None, "t"), now=NOW) == "queued"
        assert relearn.request_learning(session, actor=Actor(None, "t"), now=NOW) == "pending"
    assert run_learning(settings, db, now=NOW + timedelta(minutes=1))["status"] == "learned"
    assert run_learning(settings, db, now=NOW + timedelta(days=7, minutes=2))["status"] == "learned"
    with db.transaction() as session:
        assert active_ruleset(session)[0].id == active_before
        finished = session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == relearn.FINISHED))  # fmt: skip
        assert finished == 3


def test_a_run_under_way_is_not_started_twice(db, settings) -> None:
    with db.transaction() as session:
        assert relearn.claim_learning(session, now=NOW) is not None
        assert relearn.request_learning(session, actor=Actor(None, "t"), now=NOW) == "running"
    assert run_learning(settings, db, now=NOW + timedelta(minutes=5))["status"] == "skipped"
    # A run that died: its lease runs out and the next tick learns (here: nothing to learn).
    outcome = run_learning(settings, db, now=NOW + relearn.LEASE + timedelta(minutes=1))
    assert outcome["status"] == "no_data" and "不足" in outcome["detail"]


def test_admins_get_an_email_with_their_own_text(db, settings) -> None:
    from hotline.services.templates import save_template

    with db.transaction() as session:
        save_template(session, "admin.routing_draft_ready", subject="草稿",
                      body="草稿 {{ ruleset }}：{{ figures }} {{ page }}", sms_template_id=None,
                      actor=Actor(None, "t"), now=NOW)  # fmt: skip
        history(session)
        corrections(session, 2)
    assert run_learning(settings, db, now=NOW)["status"] == "learned"
    with db.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert rows[0].recipient is None and rows[0].status == "sent"
    # The demo admin has no unit: the campaign office's address.
    assert [(r.recipient, r.status) for r in rows[1:]] == [("wmb@shifan.example", "pending")]
    assert rows[1].payload["body"].startswith("草稿 ") and "准确率" in rows[1].payload["body"]
    assert rows[1].payload["subject"] == "草稿"


def test_tickets_join_the_history_file_labels(db) -> None:
    with db.transaction() as session:
        history(session)
        texts = ["夜里工地施工噪音很大", "和平路流动摊贩占道经营"] * 2
        labels = ["noise", "占道经营"] * 2  # by code and by name, as files have them
        gathered = relearn.city_training(session, now=NOW, base=None, history=(texts, labels))
    assert gathered.from_history == 4
    assert set(gathered.training.labels) == {"noise", "占道经营", "飞线充电"}
    assert gathered.training.targets["noise"].category == "noise"
