"""What every staff member shares: the inbox (with the unread count in every console page's
header), search with its filters, and the search's export as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select, update

from hotline.models import AuditEvent, OutboxMessage, Ticket, User
from hotline.services import exports
from hotline.services.auth import hash_password
from tests.helpers import VALID, api_act, auth, signed_in, token_of

UNIT, SUPERVISOR = auth("hl_demo_unit"), auth("hl_demo_supervisor")


def new_ticket(client, **fields) -> str:
    response = client.post("/api/v1/tickets", json={**VALID, **fields}, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


@pytest.fixture
def staff(make_user, db):
    """Another staff member who can sign in: (username, role, unit code) → signed-in client."""

    def make(app, username: str, role: str, unit_code: str | None = None):
        user_id, _ = make_user(username, role, unit_code)
        with db.transaction() as session:
            session.execute(update(User).where(User.id == user_id)
                            .values(password_hash=hash_password("pw-" + username)))  # fmt: skip
        return signed_in(app, username, "pw-" + username)

    return make


def unread_badge(page: str) -> str | None:
    """The header's unread count, as shown."""
    link = re.search(r'<a href="/console/inbox" class="inbox-link".*?</a>', page, re.S).group(0)
    count = re.search(r'<span class="count">([^<]+)</span>', link)
    return count.group(1) if count else None


def items(page: str) -> list[str]:
    return re.findall(r'<li class="inbox-item[^"]*".*?</li>', page, re.S)


# ---------------------------------------------------------------- the inbox


def test_a_dispatch_reaches_the_units_inbox_and_the_header_counts_it(app, client) -> None:
    number = new_ticket(client)  # routing dispatches it to 城管局 at intake
    unit = signed_in(app, "cgj", "demo-unit-1")
    worklist = unit.get("/console/worklist").get_data(as_text=True)
    assert unread_badge(worklist) == "1"
    assert 'aria-label="收件箱，1 条未读"' in worklist
    page = unit.get("/console/inbox").get_data(as_text=True)
    (item,) = items(page)
    assert "派单" in item and number in item and "未读" in item
    assert f'data-ticket-url="/console/tickets/{number}"' in item
    # Open it: marked read, and the ticket page is where it leads.
    message_id = re.search(r'action="/console/inbox/(\d+)/open"', item).group(1)
    opened = unit.post(f"/console/inbox/{message_id}/open", data={"csrf_token": token_of(page)})
    assert opened.status_code == 303
    assert opened.headers["Location"] == f"/console/tickets/{number}"
    after = unit.get("/console/inbox").get_data(as_text=True)
    assert unread_badge(after) is None and "未读" not in items(after)[0]
    assert items(unit.get("/console/inbox?unread=1").get_data(as_text=True)) == []


def test_reading_is_per_user(app, client, staff) -> None:
    new_ticket(client)
    first = signed_in(app, "cgj", "demo-unit-1")
    second = staff(app, "cgj2", "unit", "dept-cgj")
    page = first.get("/console/inbox").get_data(as_text=True)
    assert first.post("/console/inbox/read-all",
                      data={"csrf_token": token_of(page)}).status_code == 303  # fmt: skip
    assert "已将 1 条消息标为已读" in first.get("/console/inbox").get_data(as_text=True)
    assert unread_badge(first.get("/console/search").get_data(as_text=True)) is None
    assert unread_badge(second.get("/console/search").get_data(as_text=True)) == "1"


def test_a_street_hears_of_its_communities_but_not_of_other_streets(app, client, staff) -> None:
    number = new_ticket(client)
    api_act(client, number, "dispatch", auth(), lead_unit="cm-heping-xincun")
    heping = staff(app, "heping", "unit", "st-heping")
    zhenxing = staff(app, "zhenxing", "unit", "st-zhenxing")
    community = staff(app, "xincun", "unit", "cm-heping-xincun")
    for reader, expected in ((heping, 1), (community, 1), (zhenxing, 0)):
        page = reader.get("/console/inbox").get_data(as_text=True)
        assert len([i for i in items(page) if number in i]) == expected
    # 城管局 heard of the first dispatch; the ticket is no longer theirs to open.
    unit = signed_in(app, "cgj", "demo-unit-1")
    (item,) = items(unit.get("/console/inbox").get_data(as_text=True))
    assert "已不在本单位办理" in item and "data-ticket-url" not in item


def test_returns_reach_supervisors_and_operators_escalations_only_supervisors(app, client) -> None:
    returned = new_ticket(client)
    api_act(client, returned, "return", UNIT, reason="该路段属于交通运输局养护范围")
    asked = new_ticket(client, description="解放路流动摊贩占道经营，堵住了人行道")
    api_act(client, asked, "accept", UNIT)
    api_act(client, asked, "request_extension", UNIT, reason="需协调供电部门迁移线路",
            until="2026-12-01T17:00:00+08:00")  # fmt: skip
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    page = supervisor.get("/console/inbox").get_data(as_text=True)
    assert unread_badge(page) == "2"
    (back,) = [i for i in items(page) if returned in i]
    assert "退单" in back and "示范市城市管理局" in back and "交通运输局养护范围" in back
    assert any(asked in i and "申请延期" in i for i in items(page))
    operator = signed_in(app, "operator", "demo-operator-1")
    page = operator.get("/console/inbox").get_data(as_text=True)
    assert [returned in i for i in items(page)] == [True] and unread_badge(page) == "1"
    # Each reads for themselves: the operator's reading leaves the supervisor's count.
    message_id = re.search(r'action="/console/inbox/(\d+)/read"', page).group(1)
    read = operator.post(f"/console/inbox/{message_id}/read",
                         data={"csrf_token": token_of(page)})  # fmt: skip
    assert read.status_code == 303 and read.headers["Location"] == "/console/inbox"
    assert unread_badge(operator.get("/console/inbox").get_data(as_text=True)) is None
    assert unread_badge(supervisor.get("/console/inbox").get_data(as_text=True)) == "2"


def test_extension_decisions_and_overruled_returns_reach_the_unit(app, client) -> None:
    decided = new_ticket(client)
    api_act(client, decided, "accept", UNIT)
    api_act(client, decided, "request_extension", UNIT, reason="需协调供电部门",
            until="2026-12-01T17:00:00+08:00")  # fmt: skip
    api_act(client, decided, "decide_extension", SUPERVISOR, approve=True, reason="同意延期")
    overruled = new_ticket(client, description="解放路流动摊贩占道经营，堵住了人行道")
    api_act(client, overruled, "return", UNIT, reason="不归我们管")
    api_act(client, overruled, "arbitrate", SUPERVISOR, decision="overrule",
            reason="占道经营属城管职责")  # fmt: skip
    unit = signed_in(app, "cgj", "demo-unit-1")
    page = unit.get("/console/inbox").get_data(as_text=True)
    (decision,) = [i for i in items(page) if decided in i and "延期审批" in i]
    assert "已批准" in decision and "同意延期" in decision
    (ruling,) = [i for i in items(page) if overruled in i and "退单裁决" in i]
    assert "占道经营属城管职责" in ruling
    with app.extensions["hotline"].db.transaction() as session:  # closed: TRUNCATE waits
        templates = set(session.scalars(select(OutboxMessage.template)
                                        .where(OutboxMessage.audience == "unit")))  # fmt: skip
    assert {"unit.extension_decided", "unit.arbitrated"} <= templates


def test_supervision_notices_and_reopenings_reach_the_unit_an_upheld_return_does_not(
        app, client) -> None:  # fmt: skip
    number = new_ticket(client)
    api_act(client, number, "accept", UNIT)
    api_act(client, number, "supervise", SUPERVISOR, notice="请于今日内到场处置并反馈")
    api_act(client, number, "waive_co_units", SUPERVISOR)
    api_act(client, number, "resolve", UNIT, reply="已清理摊位")
    api_act(client, number, "confirm", auth(), resolved=False, satisfaction="dissatisfied",
            comment="第二天又来摆摊了")  # fmt: skip
    upheld = new_ticket(client, description="解放路流动摊贩占道经营，堵住了人行道")
    api_act(client, upheld, "return", UNIT, reason="该路段属于交通运输局养护范围")
    api_act(client, upheld, "arbitrate", SUPERVISOR, decision="uphold", reason="同意退单")
    unit = signed_in(app, "cgj", "demo-unit-1")
    page = unit.get("/console/inbox").get_data(as_text=True)
    (notice,) = [i for i in items(page) if number in i and ">督办<" in i]
    assert "请于今日内到场处置并反馈" in notice
    (reopened,) = [i for i in items(page) if number in i and ">重办<" in i]
    assert "市民意见" in reopened and "第二天又来摆摊了" in reopened
    # An upheld return leaves the ticket with nobody: the unit is not told to carry on.
    assert not [i for i in items(page) if upheld in i and "退单裁决" in i]


def test_others_messages_cannot_be_marked_and_forms_need_their_token(app, client) -> None:
    number = new_ticket(client)
    api_act(client, number, "return", UNIT, reason="不归我们管")
    with app.extensions["hotline"].db.transaction() as session:
        to_supervisors = session.scalar(select(OutboxMessage.id)
                                        .where(OutboxMessage.audience == "supervisor"))  # fmt: skip
    unit = signed_in(app, "cgj", "demo-unit-1")
    page = unit.get("/console/inbox").get_data(as_text=True)
    refused = unit.post(f"/console/inbox/{to_supervisors}/read",
                        data={"csrf_token": token_of(page)})  # fmt: skip
    assert refused.status_code == 404
    assert unit.post("/console/inbox/read-all").status_code == 400  # no CSRF token
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    assert unread_badge(supervisor.get("/console/inbox").get_data(as_text=True)) == "1"


def test_the_count_stops_at_99_plus_and_old_messages_leave_the_inbox(app, client, clock) -> None:
    new_ticket(client)
    with app.extensions["hotline"].db.transaction() as session:
        first = session.scalar(select(OutboxMessage).where(OutboxMessage.audience == "unit"))
        for n in range(120):
            session.add(OutboxMessage(
                ticket_id=first.ticket_id, event_id=first.event_id, audience="unit",
                recipient="dept-cgj", template="unit.sla_warning", payload={"event": "sla_warning"},
                status="sent", next_attempt_at=clock.now,
                created_at=clock.now - timedelta(days=31 if n < 20 else 1)))  # fmt: skip
    unit = signed_in(app, "cgj", "demo-unit-1")
    page = unit.get("/console/inbox").get_data(as_text=True)
    assert unread_badge(page) == "99+" and "未读（99+）" in page
    assert "共 101 条" in page  # 100 of the last day and the dispatch; not the 20 older ones
    assert "第 1 / 3 页" in page and len(items(page)) == 50
    first, second = items(page)[:2]  # the newest first: the dispatch, then a day-old warning
    assert "派单" in first and "时限预警" in second


def test_every_console_page_shows_the_inbox_link(app, client) -> None:
    new_ticket(client)
    admin = signed_in(app, "admin", "demo-admin-1")
    assert unread_badge(admin.get("/console/admin/users").get_data(as_text=True)) is None
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    for path in ("/console/supervision", "/console/dashboard", "/console/search",
                 "/console/queue", "/console/password"):  # fmt: skip
        page = supervisor.get(path)
        assert page.status_code == 200, path
        assert 'href="/console/inbox"' in page.get_data(as_text=True), path


# ---------------------------------------------------------------- search


def result_numbers(client, query: str) -> list[str]:
    page = client.get(f"/console/search?{query}").get_data(as_text=True)
    return re.findall(r'data-ticket-url="/console/tickets/([^"]+)"', page)


def test_search_filters(app, client, clock) -> None:
    early = new_ticket(client)  # 城管局, street vending, through the API, on 2026-11-21
    clock.now += timedelta(days=3)
    other = new_ticket(client, description="人民路人行道护栏损坏，一直没人修", category=None)
    api_act(client, other, "dispatch", auth(), lead_unit="dept-zjj")
    with app.extensions["hotline"].db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == other)
                        .values(channel="call_centre"))  # fmt: skip
    operator = signed_in(app, "operator", "demo-operator-1")
    assert set(result_numbers(operator, "")) == {early, other}
    assert result_numbers(operator, "unit=dept-cgj") == [early]
    assert result_numbers(operator, "unit=dept-zjj") == [other]
    assert result_numbers(operator, "category=street-vending") == [early]
    assert result_numbers(operator, "from=2026-11-22") == [other]
    assert result_numbers(operator, "to=2026-11-21") == [early]
    assert result_numbers(operator, "channel=api") == [early]
    assert result_numbers(operator, "channel=call_centre") == [other]
    assert result_numbers(operator, "channel=web") == []
    # A code nobody can choose finds nothing, rather than everything.
    assert result_numbers(operator, "unit=nobody") == []
    assert result_numbers(operator, "category=nothing&street=nowhere") == []
    assert result_numbers(operator, "status=dispatched&status=accepted") == [other, early]
    assert result_numbers(operator, "status=closed") == []
    assert result_numbers(operator, "overdue=1") == []
    clock.now += timedelta(days=30)  # both past their resolve-by
    operator = signed_in(app, "operator", "demo-operator-1")  # the old session went idle
    assert result_numbers(operator, "overdue=1") == [other, early]
    assert result_numbers(operator, "overdue=1&unit=dept-cgj") == [early]
    page = operator.get("/console/search?unit=nobody&from=2026-11-30&to=2026-11-01")
    text = page.get_data(as_text=True)
    assert "没有这个承办单位" in text and "结束日期不能早于开始日期" in text
    assert 'aria-invalid="true" aria-describedby="unit-error"' in text


def test_search_by_street_takes_in_its_communities(app, client) -> None:
    inside = new_ticket(client)
    api_act(client, inside, "dispatch", auth(), lead_unit="cm-heping-xincun")
    outside = new_ticket(client)
    with app.extensions["hotline"].db.transaction() as session:
        from hotline.models import Unit

        community = session.scalar(select(Unit.id).where(Unit.code == "cm-heping-xincun"))
        grid = session.scalar(select(Unit.id).where(Unit.code == "grid-zhenxing-lu-01"))
        session.execute(update(Ticket).where(Ticket.number == inside)
                        .values(territorial_unit_id=community))  # fmt: skip
        session.execute(update(Ticket).where(Ticket.number == outside)
                        .values(territorial_unit_id=grid))  # fmt: skip
    operator = signed_in(app, "operator", "demo-operator-1")
    assert result_numbers(operator, "street=st-heping") == [inside]
    assert result_numbers(operator, "street=st-zhenxing") == [outside]


def test_results_show_intake_time_and_deadlines_and_units_see_their_own(app, client) -> None:
    mine = new_ticket(client)
    theirs = new_ticket(client)
    api_act(client, theirs, "dispatch", auth(), lead_unit="dept-zjj")
    unit = signed_in(app, "cgj", "demo-unit-1")
    page = unit.get("/console/search").get_data(as_text=True)
    assert re.findall(r'data-ticket-url="/console/tickets/([^"]+)"', page) == [mine]
    assert "<th scope=\"col\">受理时间</th>" in page and "<th scope=\"col\">办结时限</th>" in page
    assert '<time datetime="2026-11-21T10:30:00+08:00">2026-11-21 10:30</time>' in page
    assert "签收 " in page  # dispatched, not yet signed for: its accept-by too
    assert result_numbers(unit, "unit=dept-zjj") == []
    assert "没有这个承办单位" in unit.get("/console/search?unit=dept-zjj").get_data(as_text=True)


# ---------------------------------------------------------------- export

HOSTILE = "=HYPERLINK(\"http://evil.example/\",\"点我\") 和平路菜市场门口流动摊贩占道经营"


def csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_has_the_12345_columns_and_is_formula_safe(app, client) -> None:
    number = new_ticket(client, description=HOSTILE, reporter_name="张三")
    new_ticket(client, description="人民路人行道护栏损坏，一直没人修")
    operator = signed_in(app, "operator", "demo-operator-1")
    response = operator.get("/console/search.csv?q=菜市场")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "filename*=UTF-8''%E5%B7%A5%E5%8D%95%E6%9F%A5%E8%AF%A2-" in \
        response.headers["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert tuple(header) == exports.COLUMNS
    assert {"工单编号", "系统编号", "诉求内容", "来电时间", "系统受理时间", "来电号码",
            "求助人员", "事件发生地", "街道", "社区", "承办单位", "协办单位", "紧急程度",
            "办理时限", "工单性质", "工单状态", "派单时间", "签收时间", "答复意见", "办结时间",
            "回访时间", "诉求是否解决", "回访满意度", "不满原因"} <= set(header)  # fmt: skip
    (row,) = rows
    cell = dict(zip(header, row, strict=True))
    assert cell["工单编号"] == cell["系统编号"] == number  # no 12345 number: ours
    assert cell["诉求内容"] == "'" + HOSTILE
    assert cell["来电号码"] == "13812341234" and cell["求助人员"] == "张三"  # an operator's view
    assert cell["承办单位"] == "示范市城市管理局" and cell["工单状态"] == "已派单"
    assert cell["系统受理时间"] == cell["来电时间"] == "2026-11-21 10:30"
    assert cell["紧急程度"] == "一般" and cell["派单时间"] == "2026-11-21 10:30"
    with app.extensions["hotline"].db.transaction() as session:
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "search.exported"))
        assert audit.data == {"query": "q=%E8%8F%9C%E5%B8%82%E5%9C%BA", "rows": 1}


def test_xlsx_export_is_text_only_and_units_get_their_own_masked(app, client) -> None:
    mine = new_ticket(client, description=HOSTILE, reporter_name="张三")
    theirs = new_ticket(client)
    api_act(client, theirs, "dispatch", auth(), lead_unit="dept-zjj")
    api_act(client, mine, "accept", UNIT)
    api_act(client, mine, "waive_co_units", SUPERVISOR)  # 和平街道 helps; no report needed
    api_act(client, mine, "resolve", UNIT, reply="已清理摊位，恢复通行")
    api_act(client, mine, "confirm", auth(), resolved=False, satisfaction="dissatisfied",
            comment="第二天又来摆摊了")  # fmt: skip
    unit = signed_in(app, "cgj", "demo-unit-1")
    response = unit.get("/console/search.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = [[c for c in row] for row in sheet.iter_rows()]
    assert tuple(c.value for c in header) == exports.COLUMNS
    (row,) = rows  # not the other unit's ticket
    cell = {h.value: c for h, c in zip(header, row, strict=True)}
    assert all(c.data_type == "s" for c in row if c.value is not None)
    assert cell["诉求内容"].value == "'" + HOSTILE
    assert cell["来电号码"].value == "138****1234" and cell["求助人员"].value == "张*"
    assert cell["答复意见"].value == "已清理摊位，恢复通行"
    assert cell["诉求是否解决"].value == "否" and cell["回访满意度"].value == "不满意"
    assert cell["不满原因"].value == "第二天又来摆摊了" and cell["工单状态"].value == "重办"
    assert sheet.freeze_panes == "A2"


def test_exports_read_in_chunks_write_each_ticket_once(app, client, monkeypatch) -> None:
    numbers = [new_ticket(client) for _ in range(5)]  # all received at the same instant
    monkeypatch.setattr(exports, "CHUNK", 2)
    operator = signed_in(app, "operator", "demo-operator-1")
    _, *rows = csv_rows(operator.get("/console/search.csv"))
    assert [r[0] for r in rows] == sorted(numbers, reverse=True)


def test_too_large_an_export_is_refused_with_a_reason(app, client, monkeypatch) -> None:
    new_ticket(client)
    new_ticket(client)
    monkeypatch.setattr(exports, "EXPORT_MAX", 1)
    operator = signed_in(app, "operator", "demo-operator-1")
    refused = operator.get("/console/search.xlsx?status=dispatched")
    assert refused.status_code == 302
    assert refused.headers["Location"] == "/console/search?status=dispatched"
    page = operator.get(refused.headers["Location"]).get_data(as_text=True)
    assert "共 2 件，超过一次导出的上限 1 件" in page  # the flash: how many, and the limit
    assert "search.xlsx" not in page and "search.csv" not in page  # no link to a refusal
