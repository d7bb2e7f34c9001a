"""The operators' pages over HTTP: the dispatch form with routing's suggestion preselected in
a grouped unit list, the queue (never the unit that returned it, filters, sort, time waited,
bulk dispatch with a stale ticket), callbacks (nothing preset, 未接通 as an attempt, closed
unrated after N of them) and the call form's 紧急程度 / 诉求类型 / 来电时间."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hotline.models import Ticket, TicketEvent
from hotline.services.sweep import sweep_now
from tests.helpers import VALID, api_act, auth, signed_in, token_of

# Two rules with the same score: it waits for a person, routing's leader is 乱堆乱放 → 城管局.
TIE = "小区门口有人乱停车，还有垃圾乱堆，很久没人管"
UNSURE = "请问这个事情找谁办理呢，拖了很久"
# Only one rule matches (占道经营 → 城管局): once 城管局 returns it nothing else is left.
ONLY_CGJ = "路边有流动摊贩占道经营，很久了"
PROBLEM = "application/problem+json"


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def report(client, text: str, **more) -> str:
    body = client.post("/api/v1/tickets", headers=auth(), json={
        **VALID, "category": None, "description": text, **more}).json  # fmt: skip
    assert body["status"] == "reported", body
    return body["number"]


def returned_by_cgj(client, text: str) -> str:
    """A ticket routing sent to 城管局, which returned it."""
    body = client.post("/api/v1/tickets", headers=auth(), json={**VALID, "description": text}).json
    assert body["lead_unit"]["code"] == "dept-cgj", body
    api_act(client, body["number"], "return", auth("hl_demo_unit"), reason="不属于本单位职责")
    return body["number"]


def resolved(client, phone: str = "13812341234") -> str:
    number = client.post("/api/v1/tickets", headers=auth(),
                         json={**VALID, "reporter_phone": phone}).json["number"]  # fmt: skip
    api_act(client, number, "accept", auth("hl_demo_unit"))
    if client.get(f"/api/v1/tickets/{number}", headers=auth()).json["co_units"]:
        api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"))
    api_act(client, number, "resolve", auth("hl_demo_unit"), reply="摊贩已劝离")
    return number


def ticket(db, number: str) -> Ticket:
    with db.transaction() as session:
        found = session.scalar(select(Ticket).where(Ticket.number == number))
        session.expunge(found)
        return found


def kinds(db, number: str) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(
            select(TicketEvent.kind).join(Ticket).where(Ticket.number == number)
            .order_by(TicketEvent.sequence)
        ))  # fmt: skip


def select_block(html: str, name: str) -> str:
    """The <select name=...> element of the page, whole."""
    return re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)


def selected(block: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)" selected>', block)


def queue_numbers(html: str) -> list[str]:
    return re.findall(r'<a class="number" href="/console/tickets/([^"]+)"', html)


# ---------------------------------------------------------------- the dispatch form


def test_the_dispatch_form_preselects_routings_suggestion(app, client) -> None:
    number = report(client, TIE)
    operator = signed_in(app, "operator", "demo-operator-1")
    html = operator.get(f"/console/tickets/{number}").get_data(as_text=True)
    assert selected(select_block(html, "lead_unit")) == ["dept-cgj"]
    # The place's street co-handles (territorial rule); the category comes with it.
    co = re.search(r'<fieldset class="co-units".*?</fieldset>', html, re.S).group(0)
    assert re.findall(r'value="([^"]+)" checked', co) == ["st-heping"]
    assert "已选：和平街道" in co
    assert selected(select_block(html, "category")) == ["clutter-piling"]
    # One click accepts it, and the two candidates are shown with their scores and words.
    assert f'name="accept" value="{number}:dept-cgj"' in html
    assert "乱堆乱放" in html and "乱停乱放" in html and "得分 1.25" in html


def test_the_unit_list_is_grouped_as_tiao_and_kuai(app, client) -> None:
    number = report(client, UNSURE)
    operator = signed_in(app, "operator", "demo-operator-1")
    html = operator.get(f"/console/tickets/{number}").get_data(as_text=True)
    lead = select_block(html, "lead_unit")
    groups = re.findall(r'<optgroup label="([^"]+)">', lead)
    assert groups == ["条：市级部门", "块：文明区"]
    tiao, kuai = lead.split('<optgroup label="块：文明区">')
    assert 'value="dept-cgj"' in tiao and 'value="st-heping"' not in tiao
    # District → street → community → grid, each under its parent, indented by its depth.
    order = [code for code in re.findall(r'value="([^"]+)"', kuai)]
    assert order[:4] == ["dist-wenming", "st-heping", "cm-heping-xincun",
                         "grid-heping-xincun-01"]  # fmt: skip
    assert ">　　和平新村社区<" in kuai and ">　　　和平新村社区第一网格<" in kuai
    assert selected(lead) == []  # nothing to suggest: nothing preselected
    # Co-units are checkboxes, in the same groups, none ticked.
    co = re.search(r'<fieldset class="co-units".*?</fieldset>', html, re.S).group(0)
    summaries = re.findall(r"<summary>([^<]+)</summary>", co)
    assert summaries == ["条：市级部门", "块：文明区（街道、社区、网格）"]
    assert co.count('type="checkbox" name="co_units"') == lead.count("<option value=\"") - 1
    assert " checked" not in co and "<select" not in co
    # A unit whose parent is inactive is still offered (under 其他单位), not lost.
    from hotline.services.dispatch_queue import unit_groups

    with app.extensions["hotline"].db.transaction() as session:
        from hotline.models import Unit

        units = list(session.scalars(select(Unit).where(Unit.code != "st-xinhua")
                                     .order_by(Unit.kind, Unit.code)))  # fmt: skip
        groups = unit_groups(units)
        assert [g.label for g in groups] == ["条：市级部门", "块：文明区", "其他单位"]
        assert [(u.code, depth) for u, depth in groups[-1].entries][:2] == [
            ("cm-xinhua-li", 0), ("grid-xinhua-li-01", 1)]  # fmt: skip
        assert sum(len(g.entries) for g in groups) == len(units)


def test_the_unit_that_returned_a_ticket_is_never_suggested(app, client) -> None:
    lonely = returned_by_cgj(client, ONLY_CGJ)
    other = returned_by_cgj(client, VALID["description"])
    operator = signed_in(app, "operator", "demo-operator-1")
    queue = operator.get("/console/queue").get_data(as_text=True)
    cards = dict(zip(queue_numbers(queue), re.split(r'<li class="q-item', queue)[1:], strict=True))
    assert "不属于本单位职责" in cards[lonely] and "已排除刚退单的示范市城市管理局" in cards[lonely]
    assert "按建议派给" not in cards[lonely] and "建议：无可用的承办单位" in cards[lonely]
    assert "按建议派给示范市市场监督管理局" in cards[other]  # the next candidate instead
    assert "dept-cgj" not in re.search(r'name="accept" value="([^"]+)"', cards[other]).group(1)
    # The ticket page preselects nothing rather than the unit that returned it.
    page = operator.get(f"/console/tickets/{lonely}").get_data(as_text=True)
    assert selected(select_block(page, "lead_unit")) == []
    page = operator.get(f"/console/tickets/{other}").get_data(as_text=True)
    assert selected(select_block(page, "lead_unit")) == ["dept-scjgj"]
    # Even a stale button naming it is refused: the server works the suggestion out again.
    version = ticket(app.extensions["hotline"].db, lonely).version
    refused = operator.post("/console/queue/dispatch", data={
        "csrf_token": token_of(queue), "accept": f"{lonely}:dept-cgj",
        f"version-{lonely}": str(version)})  # fmt: skip
    assert refused.status_code == 302
    assert "建议已变化" in operator.get("/console/queue").get_data(as_text=True)
    assert ticket(app.extensions["hotline"].db, lonely).status == "returned"


# ---------------------------------------------------------------- the queue


def test_queue_filters_sort_and_time_waited(app, client, db, clock) -> None:
    clock.now = shanghai(23, 9)  # Monday 09:00
    oldest = report(client, f"{UNSURE}（一）")
    clock.now = shanghai(23, 10)
    operator = signed_in(app, "operator", "demo-operator-1")
    page = operator.get("/console/call").get_data(as_text=True)
    by_phone = operator.post("/console/call", data={
        "csrf_token": token_of(page), "step": "submit", "reporter_phone": "13900003333",
        "description": f"{UNSURE}（二）", "priority": "normal"})  # fmt: skip
    called = by_phone.headers["Location"].rsplit("/", 1)[-1]
    clock.now = shanghai(23, 11)
    back = returned_by_cgj(client, ONLY_CGJ)
    clock.now = shanghai(24, 11, 30)  # the next day, 11:30
    operator = signed_in(app, "operator", "demo-operator-1")  # a new shift
    html = operator.get("/console/queue").get_data(as_text=True)
    assert set(queue_numbers(html)) == {oldest, called, back}
    cards = dict(zip(queue_numbers(html), re.split(r'<li class="q-item', html)[1:], strict=True))
    assert "已等 1 天 2 小时" in cards[oldest] and "超过半个工作日" in cards[oldest]
    assert 'title="2026-11-23 09:00 起"' in cards[oldest]
    assert "已等 1 天 30 分钟" not in cards[back] and "已等 1 天" in cards[back]
    assert "全部（3）" in html and "被退回（1）" in html and "系统无把握（2）" in html

    def shown(**args: str) -> list[str]:
        return queue_numbers(operator.get("/console/queue", query_string=args)
                             .get_data(as_text=True))  # fmt: skip

    assert shown(reason="returned") == [back]
    assert shown(reason="unsure", sort="waiting") == [oldest, called]
    assert shown(channel="call_centre") == [called]
    assert shown(channel="api", sort="newest") == [back, oldest]
    assert shown(category="street-vending") == [back]
    assert shown(category="none", sort="newest") == [called, oldest]
    assert shown(sort="waiting") == [oldest, called, back]
    assert shown(sort="newest") == [back, called, oldest]
    # Unknown values are ignored, not an error; the chosen ones stay selected.
    assert set(shown(reason="nonsense", channel="fax", sort="sideways")) == {oldest, called, back}
    page = operator.get("/console/queue?reason=returned&sort=newest").get_data(as_text=True)
    assert '<option value="returned" selected>' in page
    assert '<option value="newest" selected>' in page
    assert "没有符合条件的待派单工单" in operator.get(
        "/console/queue?channel=web").get_data(as_text=True)


def test_waited_reads_as_an_operator_says_it() -> None:
    from hotline.web.console.queue import waited

    now = shanghai(24, 12)
    assert waited(now - timedelta(minutes=25), now) == "25 分钟"
    assert waited(now - timedelta(hours=3, minutes=10), now) == "3 小时"
    assert waited(now - timedelta(days=2, hours=4), now) == "2 天 4 小时"
    assert waited(now - timedelta(days=2), now) == "2 天"
    assert waited(now + timedelta(minutes=5), now) == "0 分钟"


def test_bulk_dispatch_goes_through_but_for_the_stale_one(app, client, db, clock) -> None:
    numbers = [report(client, f"{UNSURE}（第 {i} 件）") for i in range(3)]
    operator = signed_in(app, "operator", "demo-operator-1")
    queue = operator.get("/console/queue?sort=waiting").get_data(as_text=True)
    versions = dict(re.findall(r'name="version-([^"]+)" value="(\d+)"', queue))
    assert set(numbers) <= set(versions)
    clock.now += timedelta(minutes=2)
    api_act(client, numbers[1], "note", auth(), body="市民又来电补充")  # changed meanwhile
    done = operator.post("/console/queue/dispatch", data={
        "csrf_token": token_of(queue), "ticket": numbers, "lead_unit": "dept-cgj",
        "back": "sort=waiting", **{f"version-{n}": versions[n] for n in numbers}})  # fmt: skip
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/console/queue?sort=waiting")
    after = operator.get(done.headers["Location"]).get_data(as_text=True)
    assert f"已派给示范市城市管理局 2 件：{numbers[0]}、{numbers[2]}" in after
    assert re.search(rf"{numbers[1]} 未派单：工单已被他人修改", after)
    for number in (numbers[0], numbers[2]):
        assert ticket(db, number).status == "dispatched"
        assert kinds(db, number).count("dispatched") == 1  # one event each
    assert ticket(db, numbers[1]).status == "reported"
    assert queue_numbers(after) == [numbers[1]]

    # Nothing ticked, no unit, an unknown unit: said plainly, nothing changes.
    for form, message in [({"lead_unit": "dept-cgj"}, "请先勾选要派单的工单"),
                          ({"ticket": numbers[1]}, "请选择主办单位"),
                          ({"ticket": numbers[1], "lead_unit": "nowhere"}, "未知或已停用的单位")]:
        response = operator.post("/console/queue/dispatch", data={
            "csrf_token": token_of(after), f"version-{numbers[1]}": "2", **form})  # fmt: skip
        assert message in operator.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket(db, numbers[1]).status == "reported"
    # Only operators and supervisors dispatch.
    unit = signed_in(app, "cgj", "demo-unit-1")
    mine = token_of(unit.get("/console/worklist").get_data(as_text=True))
    assert unit.post("/console/queue/dispatch", data={"csrf_token": mine}).status_code == 403


# ---------------------------------------------------------------- callbacks


def test_callbacks_preset_nothing_and_no_answer_keeps_the_ticket_due(app, client, db) -> None:
    number = resolved(client, phone="13900002222")
    operator = signed_in(app, "operator", "demo-operator-1")
    html = operator.get("/console/callbacks").get_data(as_text=True)
    assert 'href="tel:13900002222"' in html
    card = html.split(f'id="cb-{number}"')[1].split("</li>")[0]
    assert card.count('type="radio"') == 5  # 已解决/未解决, 满意/基本满意/不满意
    assert " checked" not in card and " selected" not in card
    token = token_of(html)

    def record(action: str, **form: str):
        version = ticket(db, number).version
        return operator.post(f"/console/callbacks/{number}/{action}",
                             data={"csrf_token": token, "version": str(version), **form})

    blank = record("confirm")
    assert blank.status_code == 422
    text = blank.get_data(as_text=True)
    assert "请选择问题是否解决" in text and "请选择满意程度" in text
    assert record("callback_attempt", outcome="sideways").status_code == 422
    assert record("callback_attempt").status_code == 422
    assert ticket(db, number).callback_attempts == 0

    tried = record("callback_attempt", outcome="no_answer")
    assert tried.status_code == 302
    after = operator.get(tried.headers["Location"]).get_data(as_text=True)
    assert f"{number}：第 1 次回访未成功（未接通），仍在待回访中" in after
    assert "已回访 1 次未成功（最近一次：未接通" in after and "再有 2 次未成功" in after
    found = ticket(db, number)
    assert found.status == "resolved" and found.callback_attempts == 1
    assert kinds(db, number)[-1] == "callback_attempted"
    # The answer is still to be had, and counts as it is given.
    answered = record("confirm", resolved="true", satisfaction="basic", comment="还行")
    assert answered.status_code == 302
    assert ticket(db, number).status == "closed"
    assert f'id="cb-{number}"' not in operator.get("/console/callbacks").get_data(as_text=True)


def test_after_n_failed_callbacks_the_sweep_closes_it_unrated(app, client, db, clock,
                                                              settings) -> None:  # fmt: skip
    assert settings.callback_attempts == 3
    number = resolved(client, phone="13900004444")
    operator = signed_in(app, "operator", "demo-operator-1")
    token = token_of(operator.get("/console/callbacks").get_data(as_text=True))
    for outcome in ("no_answer", "refused", "no_answer"):
        with db.transaction() as session:
            _sweep = sweep_now(session, now=clock.now, settings=settings)
        assert number not in _sweep.tickets  # not before the last attempt
        response = operator.post(f"/console/callbacks/{number}/callback_attempt", data={
            "csrf_token": token, "version": str(ticket(db, number).version),
            "outcome": outcome})  # fmt: skip
        assert response.status_code == 302
    page = operator.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 3 次回访未成功，已达 3 次，系统将按未评价办结" in page
    assert f'id="cb-{number}"' not in page  # no more calls to make
    assert ticket(db, number).status == "resolved"
    with db.transaction() as session:
        report = sweep_now(session, now=clock.now, settings=settings)
    assert number in report.tickets and report.closed_unrated == 1
    assert ticket(db, number).status == "closed"
    with db.transaction() as session:
        last = session.scalar(select(TicketEvent).join(Ticket).where(Ticket.number == number)
                              .order_by(TicketEvent.sequence.desc()).limit(1))  # fmt: skip
        assert last.kind == "closed_unrated"
        assert last.data["unrated"] is True and last.data["callback_attempts"] == 3
        assert "回访 3 次均未能联系到市民" in last.body
        attempts = session.scalar(select(func.count()).select_from(TicketEvent).join(Ticket)
                                  .where(Ticket.number == number,
                                         TicketEvent.kind == "callback_attempted"))  # fmt: skip
        assert attempts == 3


def test_the_api_records_a_callback_attempt_and_refuses_bad_input(client, db) -> None:
    number = resolved(client)
    path = f"/api/v1/tickets/{number}/actions/callback_attempt"
    version = client.get(f"/api/v1/tickets/{number}", headers=auth()).json["version"]
    for body in ({"version": version, "outcome": "maybe"}, {"version": version},
                 {"version": version, "outcome": "no_answer", "extra": 1}, {"outcome": "refused"}):
        bad = client.post(path, json=body, headers=auth())
        assert bad.status_code == 422 and bad.content_type == PROBLEM, (body, bad.json)
    stale = client.post(path, json={"version": version - 1, "outcome": "refused"}, headers=auth())
    assert stale.status_code == 409 and stale.content_type == PROBLEM
    unit = client.post(path, json={"version": version, "outcome": "refused"},
                       headers=auth("hl_demo_unit"))  # fmt: skip
    assert unit.status_code == 403 and unit.content_type == PROBLEM
    done = client.post(path, json={"version": version, "outcome": "refused", "note": "不愿多谈"},
                       headers=auth())  # fmt: skip
    assert done.status_code == 200, done.json
    assert done.json["status"] == "resolved" and done.json["callback_attempts"] == 1
    events = client.get(f"/api/v1/tickets/{number}/events", headers=auth()).json
    assert any("拒绝回访" in (e.get("body") or "") for e in events
               if e["kind"] == "callback_attempted")  # fmt: skip
    # A fresh fix starts the count again.
    api_act(client, number, "reopen", auth(), reason="市民来电说又回来了")
    api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"))
    api_act(client, number, "resolve", auth("hl_demo_unit"), reply="再次劝离")
    assert client.get(f"/api/v1/tickets/{number}", headers=auth()).json["callback_attempts"] == 0


# ---------------------------------------------------------------- the call form


def test_the_call_form_stores_urgency_kind_and_time_of_the_call(app, db, clock) -> None:
    operator = signed_in(app, "operator", "demo-operator-1")
    form = operator.get("/console/call").get_data(as_text=True)
    assert 'name="reported_at" type="datetime-local" value="2026-11-21T10:30"' in form
    assert re.search(r'name="priority" value="normal" checked', form)
    assert "<legend>紧急程度</legend>" in form and '<label for="category">诉求类型</label>' in form

    def submit(**fields: str):
        return operator.post("/console/call", data={
            "csrf_token": token_of(form), "step": "submit", "reporter_phone": "13900005555",
            "description": "振兴路工地夜间施工噪音扰民，已经持续一周", **fields})  # fmt: skip

    late = submit(reported_at="2026-11-21T12:00", priority="urgent")
    assert late.status_code == 422
    text = late.get_data(as_text=True)
    assert "来电时间不能晚于现在" in text and 'value="2026-11-21T12:00"' in text
    assert 'value="urgent" checked' in text and "振兴路工地夜间施工" in text  # kept
    wrong = submit(reported_at="yesterday", priority="whenever")
    assert wrong.status_code == 422
    assert "来电时间格式应为" in wrong.get_data(as_text=True)
    assert "紧急程度应为" in wrong.get_data(as_text=True)

    made = submit(reported_at="2026-11-21T10:05", priority="urgent", category="noise")
    assert made.status_code == 302, made.get_data(as_text=True)
    number = made.headers["Location"].rsplit("/", 1)[-1]
    stored = ticket(db, number)
    assert stored.reported_at == shanghai(21, 10, 5)
    assert stored.priority == "urgent" and stored.channel == "call_centre"
    with db.transaction() as session:
        code = session.scalar(select(Ticket).where(Ticket.number == number)).category.code
    assert code == "noise"
    shown = app.test_client().get(f"/api/v1/tickets/{number}", headers=auth()).json
    assert shown["reported_at"].startswith("2026-11-21T10:05") and shown["priority"] == "urgent"
