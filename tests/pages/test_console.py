"""The staff consoles over HTTP: role and unit scope, worklists, actions through forms."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from hotline.models import Attachment, Ticket, User
from tests.helpers import VALID, auth, image_bytes, signed_in, token_of
from tests.helpers import console_act as act

UNCERTAIN = {**VALID, "category": None, "description": "请问这个事情找谁办理呢，拖了很久"}


def test_each_role_lands_on_its_own_page(app) -> None:
    homes = {"operator": ("demo-operator-1", "/console/queue"),
             "cgj": ("demo-unit-1", "/console/worklist"),
             "supervisor": ("demo-supervisor-1", "/console/supervision"),
             "admin": ("demo-admin-1", "/console/dashboard")}  # fmt: skip
    for user, (password, home) in homes.items():
        client = signed_in(app, user, password)
        assert client.get("/console").headers["Location"].endswith(home)
        assert client.get(home).status_code == 200
    unit = signed_in(app, "cgj", "demo-unit-1")
    assert unit.get("/console/queue").status_code == 403
    assert unit.get("/console/supervision").status_code == 403
    assert app.test_client().get("/console/queue").status_code == 302  # to the login page


def test_operator_dispatches_from_the_queue(app, client) -> None:
    number = client.post("/api/v1/tickets", json=UNCERTAIN, headers=auth()).json["number"]
    operator = signed_in(app, "operator", "demo-operator-1")
    queue = operator.get("/console/queue").get_data(as_text=True)
    assert number in queue and "置信度" in queue
    missing = act(operator, number, "dispatch")
    assert missing.status_code == 422 and 'class="error"' in missing.get_data(as_text=True)
    done = act(operator, number, "dispatch", lead_unit="dept-cgj", co_units=["dept-scjgj"])
    assert done.status_code == 302
    page = operator.get(done.headers["Location"]).get_data(as_text=True)
    assert "派单 / 改派：已完成" in page and "示范市城市管理局" in page
    assert number not in operator.get("/console/queue").get_data(as_text=True)


def test_unit_works_a_ticket_to_resolution_with_evidence(app, client, db, clock) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    unit = signed_in(app, "cgj", "demo-unit-1")
    worklist = unit.get("/console/worklist").get_data(as_text=True)
    assert number in worklist
    assert act(unit, number, "accept").status_code == 302
    assert act(unit, number, "feedback", body="已安排执法队员到场").status_code == 302
    import io

    current = client.get(f"/api/v1/tickets/{number}", headers=auth()).json
    if current["co_units"]:  # the street helps with this category: a supervisor waives it
        waived = client.post(f"/api/v1/tickets/{number}/actions/waive_co_units",
                             json={"version": current["version"]},
                             headers=auth("hl_demo_supervisor"))  # fmt: skip
        assert waived.status_code == 200
    photo = (io.BytesIO(image_bytes()), "after.jpg")
    resolved = act(unit, number, "resolve", reply="摊贩已劝离，设置了提示牌", photos=photo)
    assert resolved.status_code == 302, re.findall(
        r"role=\"alert\">([^<]*)", resolved.get_data(as_text=True)
    )
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status == "resolved"
        evidence = list(
            session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id))
        )
        assert len(evidence) == 1 and evidence[0].public
        photo_url = f"/console/tickets/{number}/photos/{evidence[0].id}"
    assert unit.get(photo_url).status_code == 200
    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    assert "办结" in page and "已安排执法队员到场" in page


def test_deadline_colours_and_the_supervisor_board(app, client, db, clock) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    with db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == number)
                        .values(resolve_by=clock.now - timedelta(hours=1)))  # fmt: skip
    unit = signed_in(app, "cgj", "demo-unit-1")
    assert 'class="overdue"' in unit.get("/console/worklist").get_data(as_text=True)
    returned = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    act(unit, returned["number"], "return", reason="属市场监管职责")
    board = signed_in(app, "supervisor", "demo-supervisor-1").get("/console/supervision")
    text = board.get_data(as_text=True)
    assert number in text and returned["number"] in text and "退单待裁定（1）" in text


def test_units_cannot_see_or_act_on_others_tickets(app, client) -> None:
    number = client.post("/api/v1/tickets", json={**VALID, "category": None,
                         "description": "小区旁边的河道发黑发臭，还有死鱼"},
                         headers=auth()).json["number"]  # fmt: skip
    unit = signed_in(app, "cgj", "demo-unit-1")
    assert unit.get(f"/console/tickets/{number}").status_code == 404
    page = unit.get("/login").get_data(as_text=True)
    response = unit.post(f"/console/tickets/{number}/accept",
                         data={"csrf_token": token_of(page), "version": "1"})  # fmt: skip
    assert response.status_code == 404
    found = unit.get(f"/console/search?q={number}").get_data(as_text=True)
    assert f'href="/console/tickets/{number}"' not in found


def test_stale_forms_and_missing_csrf(app, client) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    unit = signed_in(app, "cgj", "demo-unit-1")
    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    seen = re.search(r'name="version" value="(\d+)"', page).group(1)
    stale = {"csrf_token": token_of(page), "version": seen}
    pushed = client.post(f"/api/v1/tickets/{number}/actions/supervise",
                         headers=auth("hl_demo_supervisor"),
                         json={"version": int(seen), "notice": "请尽快签收"})  # fmt: skip
    assert pushed.status_code == 200  # someone else changed it meanwhile
    conflict = unit.post(f"/console/tickets/{number}/accept", data=stale)
    assert conflict.status_code == 409 and "已被他人修改" in conflict.get_data(as_text=True)
    no_token = unit.post(f"/console/tickets/{number}/accept", data={"version": seen})
    assert no_token.status_code == 400


def test_search_by_phone_text_and_date(app, client) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    operator = signed_in(app, "operator", "demo-operator-1")
    for query in ("13812341234", "菜市场", number):
        assert number in operator.get(f"/console/search?q={query}").get_data(as_text=True)
    bad = operator.get("/console/search?from=2026-13-01").get_data(as_text=True)
    assert "日期格式应为" in bad


def test_extension_requests_wait_on_the_supervisor_board(app, client) -> None:
    ticket = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    accepted = client.post(f"/api/v1/tickets/{ticket['number']}/actions/accept",
                           json={"version": ticket["version"]},
                           headers=auth("hl_demo_unit")).json  # fmt: skip
    asked = client.post(f"/api/v1/tickets/{ticket['number']}/actions/request_extension",
                        json={"version": accepted["version"], "reason": "需协调供电部门迁移线路",
                              "until": "2026-11-30T17:00:00+08:00"},
                        headers=auth("hl_demo_unit"))  # fmt: skip
    assert asked.status_code == 200, asked.json
    board = signed_in(app, "supervisor", "demo-supervisor-1").get("/console/supervision")
    text = board.get_data(as_text=True)
    assert "延期待审批（1）" in text and "需协调供电部门迁移线路" in text


def test_the_residents_timeline_names_units_not_staff(app, client) -> None:
    made = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    client.post(f"/api/v1/tickets/{made['number']}/actions/accept",
                json={"version": made["version"]}, headers=auth("hl_demo_unit"))  # fmt: skip
    page = app.test_client().get(made["tracking_url"]).get_data(as_text=True)
    assert "示范市城市管理局" in page and "城管局办件员" not in page


def test_a_co_unit_sees_its_part_and_reports_it(app, client, db, make_user) -> None:
    from hotline.services.auth import hash_password

    user_id, _ = make_user("heping1", "unit", "st-heping")
    with db.transaction() as session:
        session.execute(update(User).where(User.id == user_id)
                        .values(password_hash=hash_password("street-pass-1")))  # fmt: skip
    made = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    number = made["number"]
    client.post(f"/api/v1/tickets/{number}/actions/accept", json={"version": made["version"]},
                headers=auth("hl_demo_unit"))  # fmt: skip
    street = signed_in(app, "heping1", "street-pass-1")
    worklist = street.get("/console/worklist").get_data(as_text=True)
    assert number in worklist and "协办</span>" in worklist
    page = street.get(f"/console/tickets/{number}").get_data(as_text=True)
    assert "报告协办情况" in page and ">办结<" not in page  # the lead unit resolves, not us
    assert act(street, number, "report_part", body="已安排网格员劝离摊贩").status_code == 302


def test_the_residents_timeline_explains_returns_and_extensions(app, client) -> None:
    made = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    number = made["number"]
    unit = auth("hl_demo_unit")
    url = f"/api/v1/tickets/{number}/actions"
    back = client.post(
        f"{url}/return",
        headers=unit,
        json={"version": made["version"], "reason": "内部：老张说不归我们"},
    ).json
    again = client.post(
        f"{url}/dispatch",
        headers=auth(),
        json={"version": back["version"], "lead_unit": "dept-cgj"},
    ).json
    accepted = client.post(
        f"/api/v1/tickets/{number}/actions/accept", json={"version": again["version"]}, headers=unit
    ).json
    asked = client.post(f"/api/v1/tickets/{number}/actions/request_extension",
                        headers=auth("hl_demo_unit"),
                        json={"version": accepted["version"], "reason": "需协调",
                              "until": "2026-11-30T17:00:00+08:00"}).json  # fmt: skip
    client.post(f"/api/v1/tickets/{number}/actions/decide_extension",
                headers=auth("hl_demo_supervisor"),
                json={"version": asked["version"], "approve": True})  # fmt: skip
    page = app.test_client().get(made["tracking_url"]).get_data(as_text=True)
    assert "正在重新确定承办单位" in page and "老张" not in page
    assert "办理期限延长至 2026-11-30 17:00" in page


def test_queue_shows_return_reasons_and_board_lists_rechecks(app, client, db, clock) -> None:
    made = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    client.post(f"/api/v1/tickets/{made['number']}/actions/return", headers=auth("hl_demo_unit"),
                json={"version": made["version"], "reason": "属市场监管职责"})  # fmt: skip
    queue = signed_in(app, "operator", "demo-operator-1").get("/console/queue")
    assert "属市场监管职责" in queue.get_data(as_text=True)
    closed = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    with db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == closed)
                        .values(status="closed", closed_at=clock.now))  # fmt: skip
    board = signed_in(app, "supervisor", "demo-supervisor-1").get("/console/supervision")
    assert "待回头看（近 30 天办结，1）" in board.get_data(as_text=True)
