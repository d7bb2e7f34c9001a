"""督办 and the dashboard over HTTP: decisions shown with their facts and nothing preselected,
decided on the board itself; the dashboard's figures lead to the tickets behind them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from hotline.domain.templates import DEFAULTS, render
from hotline.models import ExtensionRequest, OutboxMessage, Ticket
from tests.helpers import VALID, api_act, auth, console_act, signed_in, token_of

OPERATOR, UNIT, SUPERVISOR = auth(), auth("hl_demo_unit"), auth("hl_demo_supervisor")


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def asked_for_more_time(client, clock) -> str:
    """A ticket of 城管局 (resolve by Friday 27th 17:00) whose unit asks until Tuesday 1st."""
    clock.now = shanghai(23, 9)
    number = client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]
    api_act(client, number, "accept", UNIT)
    api_act(client, number, "request_extension", UNIT, reason="摊主流动性大，需联合执法",
            until="2026-12-01T17:00:00+08:00")  # fmt: skip
    return number


def board_post(client, number: str, action: str, **fields: str):
    board = client.get("/console/supervision").get_data(as_text=True)
    form = re.search(rf'action="/console/supervision/{number}/{action}#[\w-]+".*?</form>', board,
                     re.S)  # fmt: skip
    version = re.search(r'name="version" value="(\d+)"', form.group(0)).group(1)
    data = {"csrf_token": token_of(board), "version": version, **fields}
    return client.post(f"/console/supervision/{number}/{action}", data=data)


def extension_card(board: str, number: str) -> str:
    return re.search(rf'<article[^>]*id="extension-{number}".*?</article>', board, re.S).group(0)


def pending(db, number: str) -> ExtensionRequest | None:
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        return ticket.pending_extension


def test_an_extension_shows_its_facts_and_nothing_is_preselected(app, client, db, clock) -> None:
    number = asked_for_more_time(client, clock)
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    card = extension_card(supervisor.get("/console/supervision").get_data(as_text=True), number)
    assert "示范市城市管理局" in card and "摊主流动性大，需联合执法" in card
    assert "2026-12-01 17:00" in card  # the requested date
    assert "现办结时限 2026-11-27 17:00，延长 2 个工作日" in card  # Mon 30th and Tue 1st
    assert "0 次（最多 3 次）" in card and "近 90 天没有办结的工单；当前超期 0 件" in card
    radios = re.findall(r'<input type="radio" name="approve" value="(\w+)"([^>]*)>', card)
    assert [v for v, _ in radios] == ["true", "false"]
    assert not any("checked" in rest for _, rest in radios)
    assert f'/decide_extension#extension-{number}"' in card  # a refusal lands on this card

    # No choice: refused, with the reason next to the choice; nothing decided.
    refused = board_post(supervisor, number, "decide_extension", reason="")
    assert refused.status_code == 422
    assert "请选择批准或不批准" in extension_card(refused.get_data(as_text=True), number)
    assert pending(db, number) is not None

    approved = board_post(supervisor, number, "decide_extension", approve="true", reason="同意")
    assert approved.status_code == 303 and approved.location.endswith("/console/supervision")
    assert pending(db, number) is None
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.resolve_by == shanghai(1, 17) + timedelta(days=30)  # 2026-12-01 17:00
        assert ticket.extensions_used == 1
    after = supervisor.get("/console/supervision").get_data(as_text=True)
    assert f"{number}：已批准延期，办结时限改为 2026-12-01 17:00" in after
    assert f'id="extension-{number}"' not in after


def test_the_ticket_page_preselects_no_decision_either(app, client, db, clock) -> None:
    number = asked_for_more_time(client, clock)
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    page = supervisor.get(f"/console/tickets/{number}").get_data(as_text=True)
    select_html = re.search(r'<select id="decide_extension-approve".*?</select>', page, re.S)
    options = re.findall(r'<option value="(\w*)"', select_html.group(0))
    assert options == ["", "true", "false"] and "selected" not in select_html.group(0)
    refused = console_act(supervisor, number, "decide_extension", approve="")
    assert refused.status_code == 422 and "请选择批准或不批准" in refused.get_data(as_text=True)
    assert pending(db, number) is not None
    # The API refuses a missing or empty choice alike.
    version = client.get(f"/api/v1/tickets/{number}", headers=OPERATOR).json["version"]
    for body in ({"version": version}, {"version": version, "approve": ""}):
        answer = client.post(f"/api/v1/tickets/{number}/actions/decide_extension",
                             headers=SUPERVISOR, json=body)  # fmt: skip
        assert answer.status_code == 422 and "approve" in answer.json["errors"]


def test_a_return_shows_unit_and_reason_and_is_ruled_on_the_board(app, client, db) -> None:
    upheld, overruled = (client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)
                         .json["number"] for _ in range(2))  # fmt: skip
    api_act(client, upheld, "return", UNIT, reason="该点位属于市场监管职责")
    api_act(client, overruled, "return", UNIT, reason="不是我们的")
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    board = supervisor.get("/console/supervision").get_data(as_text=True)
    card = re.search(rf'<article[^>]*id="return-{upheld}".*?</article>', board, re.S).group(0)
    assert "示范市城市管理局" in card and "该点位属于市场监管职责" in card
    assert "退单待裁定（2）" in board
    radios = re.findall(r'<input type="radio" name="decision" value="(\w+)"([^>]*)>', card)
    assert [v for v, _ in radios] == ["uphold", "overrule"]
    assert not any("checked" in rest for _, rest in radios)
    assert "退回原单位办理<span class=\"hint\">（示范市城市管理局）" in card

    refused = board_post(supervisor, upheld, "arbitrate")
    assert refused.status_code == 422 and "请选择裁决结果" in refused.get_data(as_text=True)

    assert board_post(supervisor, upheld, "arbitrate", decision="uphold").status_code == 303
    assert board_post(supervisor, overruled, "arbitrate", decision="overrule").status_code == 303
    with db.transaction() as session:
        states = dict(session.execute(select(Ticket.number, Ticket.status)
                                      .where(Ticket.number.in_([upheld, overruled]))).all())
    assert states == {upheld: "returned", overruled: "dispatched"}
    after = supervisor.get("/console/supervision").get_data(as_text=True)
    assert "退单待裁定（0）" in after  # the upheld one waits in the dispatch queue, not here
    queue = signed_in(app, "operator", "demo-operator-1").get("/console/queue")
    assert upheld in queue.get_data(as_text=True)


def test_a_stale_decision_is_refused_with_the_reason(app, client, db, clock) -> None:
    number = asked_for_more_time(client, clock)
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    board = supervisor.get("/console/supervision").get_data(as_text=True)
    version = re.search(rf'/console/supervision/{number}/decide_extension.*?'
                        r'name="version" value="(\d+)"', board, re.S).group(1)  # fmt: skip
    api_act(client, number, "feedback", UNIT, body="先反馈一下")  # the ticket moved on
    stale = supervisor.post(f"/console/supervision/{number}/decide_extension",
                            data={"csrf_token": token_of(board), "version": version,
                                  "approve": "false"})  # fmt: skip
    assert stale.status_code == 409 and "已被他人修改" in stale.get_data(as_text=True)
    assert pending(db, number) is not None


def test_who_may_decide_from_the_board(app, client, clock) -> None:
    number = asked_for_more_time(client, clock)
    admin = signed_in(app, "admin", "demo-admin-1")
    board = admin.get("/console/supervision").get_data(as_text=True)
    assert "2026-12-01 17:00" in board and 'name="approve"' not in board  # facts, no form
    denied = admin.post(f"/console/supervision/{number}/decide_extension",
                        data={"csrf_token": token_of(board), "version": "1", "approve": "true"})
    assert denied.status_code == 403
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    token = token_of(supervisor.get("/console/supervision").get_data(as_text=True))
    assert supervisor.post(f"/console/supervision/{number}/supervise",
                           data={"csrf_token": token}).status_code == 404
    unit = signed_in(app, "cgj", "demo-unit-1")
    assert unit.get("/console/supervision").status_code == 403


def unit_notices(db, number: str) -> list[tuple[str, str | None, str | None]]:
    with db.transaction() as session:
        return [(m.template, m.recipient, m.payload.get("body")) for m in session.scalars(
            select(OutboxMessage).join(Ticket, Ticket.id == OutboxMessage.ticket_id)
            .where(Ticket.number == number, OutboxMessage.audience == "unit",
                   OutboxMessage.template != "unit.dispatched")
            .order_by(OutboxMessage.id))]  # fmt: skip


def test_the_unit_hears_the_decisions_about_its_requests(app, client, db, clock) -> None:
    extended = asked_for_more_time(client, clock)
    upheld, overruled = (client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)
                         .json["number"] for _ in range(2))  # fmt: skip
    for number in (upheld, overruled):
        api_act(client, number, "return", UNIT, reason="不归我们管")
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    board_post(supervisor, extended, "decide_extension", approve="false", reason="请按原时限办结")
    board_post(supervisor, upheld, "arbitrate", decision="uphold")
    board_post(supervisor, overruled, "arbitrate", decision="overrule", reason="属城管职责")
    assert unit_notices(db, extended)[-1] == ("unit.extension_decided", "dept-cgj",
                                              "不批准延期：请按原时限办结")  # fmt: skip
    told = render(DEFAULTS["unit.extension_decided"].body,
                  {"number": extended, "category": "占道经营", "resolve_by": "11-27 17:00",
                   "body": "不批准延期：请按原时限办结"})  # fmt: skip
    assert told == f"工单{extended}（占道经营）不批准延期：请按原时限办结。办结时限 11-27 17:00。"
    assert unit_notices(db, upheld) == []  # nobody has it now: the operators dispatch it again
    assert unit_notices(db, overruled) == [("unit.arbitrated", "dept-cgj", "属城管职责")]
    values = {"number": overruled, "category": "占道经营", "resolve_by": "12-01 17:00",
              "body": "属城管职责"}  # fmt: skip
    assert render(DEFAULTS["unit.arbitrated"].body, values) == (
        f"工单{overruled}（占道经营）退单未获支持，请继续办理：属城管职责。办结时限 12-01 17:00。")


# ---------------------------------------------------------------- the dashboard


def links(page: str, table_id: str) -> list[dict[str, list[str]]]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S).group(0)
    found = []
    for href in re.findall(r'href="([^"]+)"', table):
        url = urlsplit(href.replace("&amp;", "&"))
        assert url.path == "/console/search"
        found.append(parse_qs(url.query))
    return found


def test_a_fresh_install_shows_a_fair_response_rate(app, client, clock) -> None:
    clock.now = shanghai(23, 9)
    answered = client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]
    client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)  # just dispatched
    clock.now = shanghai(23, 10)
    api_act(client, answered, "accept", UNIT)
    api_act(client, answered, "feedback", UNIT, body="已安排人员到场")
    page = signed_in(app, "supervisor", "demo-supervisor-1").get(
        "/console/dashboard?from=2026-11-23&to=2026-11-23").get_data(as_text=True)
    row = re.search(r'<tr[^>]*>\s*<td class="rank".*?</tr>', page, re.S).group(0)
    assert "示范市城市管理局" in row
    response = re.search(r'data-label="响应率"><a[^>]*>([^<]+)</a>', row).group(1)
    assert response == "100.0%"  # version 1 showed 50.0%: the new ticket is not due yet
    assert "公式第 2 版" in page and "时限未到的工单暂不计入" in page


def test_every_figure_leads_to_its_tickets(app, client, clock) -> None:
    clock.now = shanghai(23, 9)  # Monday 23rd
    for _ in range(3):  # the same place and category: a hotspot
        client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)
    clock.now = shanghai(30, 7)  # Monday 30th 07:00 in Beijing (still Sunday in UTC)
    client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)
    clock.now = shanghai(30, 10)
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    page = supervisor.get("/console/dashboard?from=2026-11-20&to=2026-12-02").get_data(as_text=True)

    ranking = links(page, "ranking")
    period = {"from": ["2026-11-20"], "to": ["2026-12-02"]}
    assert {**period, "unit": ["dept-cgj"]} in ranking
    assert {**period, "unit": ["dept-cgj"], "status": ["resolved", "closed"]} in ranking
    assert {**period, "unit": ["dept-cgj"], "overdue": ["1"]} in ranking  # the 23rd's three

    # Weeks are local, cut to the period, labelled by their days (not "11-30 周").
    volume_table = re.search(r'<table[^>]*id="volume".*?</table>', page, re.S).group(0)
    headers = [re.sub(r"<[^>]+>", "", h)
               for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', volume_table)]
    assert headers == ["类别", "11月20日–22日", "11月23日–29日", "11月30日–12月2日", "合计"]
    assert "周</th>" not in volume_table
    cells = re.findall(r'<td>(?:<a[^>]*>)?(\d+)', volume_table)
    assert cells == ["0", "3", "1", "4"]  # the 07:00 Monday ticket is in Monday's week
    volume = links(page, "volume")
    assert {"from": ["2026-11-23"], "to": ["2026-11-29"], "category": ["street-vending"]} in volume
    assert {"from": ["2026-11-30"], "to": ["2026-12-02"], "category": ["street-vending"]} in volume
    assert {**period, "category": ["street-vending"]} in volume

    hotspot = links(page, "hotspots")
    assert len(hotspot) == 1 and hotspot[0]["category"] == ["street-vending"]
    assert hotspot[0]["from"] == ["2026-11-03"] and hotspot[0]["to"] == ["2026-12-02"]
    assert hotspot[0]["street"]  # the place's code

    district = supervisor.get("/console/dashboard?from=2026-11-20&to=2026-12-02&district="
                              "dist-wenming").get_data(as_text=True)  # fmt: skip
    assert all(q.get("street") for q in links(district, "ranking"))


def test_no_overdue_no_link(app, client, clock) -> None:
    clock.now = shanghai(23, 9)
    client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)
    page = signed_in(app, "supervisor", "demo-supervisor-1").get(
        "/console/dashboard?from=2026-11-23&to=2026-11-30").get_data(as_text=True)
    assert not any("overdue" in q for q in links(page, "ranking"))
    assert '<td data-label="超期">0</td>' in page



def found(client, href: str) -> int:
    """How many tickets the search behind a dashboard link finds; it must accept every filter."""
    page = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
    assert 'class="error"' not in page, href
    return int(re.search(r"共 <strong>(\d+)</strong> 件", page).group(1))


def test_the_search_behind_each_figure_finds_that_many(app, client, clock) -> None:
    clock.now = shanghai(23, 9)
    for _ in range(3):  # placed on a street
        client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)
    community = {**VALID, "address": "文明区和平新村 3 幢楼下"}
    for _ in range(3):  # and in one of its communities: one hotspot of the street
        client.post("/api/v1/tickets", json=community, headers=OPERATOR)
    done = client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]
    api_act(client, done, "accept", UNIT)
    api_act(client, done, "waive_co_units", SUPERVISOR)
    api_act(client, done, "resolve", UNIT, reply="已劝离")
    clock.now = shanghai(30, 10)
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    for district in ("", "&district=dist-wenming"):
        page = supervisor.get("/console/dashboard?from=2026-11-20&to=2026-12-02"
                              + district).get_data(as_text=True)  # fmt: skip
        counted = 0
        for table in ("ranking", "volume", "trend", "hotspots"):
            html = re.search(rf'<table[^>]*id="{table}".*?</table>', page, re.S).group(0)
            for href, label, figure in re.findall(
                    r'<a href="([^"]+)" aria-label="([^"]*)">(\d+)</a>', html):
                assert found(supervisor, href) == int(figure), (label, href)
                counted += 1
        # tickets and overdue; the week and the total; the trend; the street's hotspot
        assert counted == 6
        assert re.search(r'<th scope="row">和平街道</th><td>占道经营</td>\s*<td><a[^>]*>7<', page)
