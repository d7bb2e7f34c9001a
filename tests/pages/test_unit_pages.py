"""A unit's pages over HTTP: the worklist's cards with their countdowns and badges, the ticket
page's facts at the top and the actions the workflow allows now, evidence kept when an action
is refused, the return that lands on the worklist, and the printable sheet with its QR code."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import segno
from sqlalchemy import select, update

from hotline.models import Attachment, Ticket
from tests.helpers import VALID, api_act, auth, image_bytes, signed_in
from tests.helpers import console_act as act

UNIT = auth("hl_demo_unit")
SUPERVISOR = auth("hl_demo_supervisor")


def new_ticket(client, **changes) -> str:
    return client.post("/api/v1/tickets", json={**VALID, **changes}, headers=auth()).json["number"]


def row_of(page: str, number: str) -> str:
    """The worklist's row (a card on a phone) of one ticket, its <tr> tag included."""
    table = page[page.index('<table class="worklist">'):]
    rows = re.findall(r"<tr class=\"[^\"]*\"[^>]*>.*?</tr>", table[:table.index("</table>")], re.S)
    found = [r for r in rows if f">{number}</a>" in r]
    assert len(found) == 1, (number, rows)
    return found[0]


def countdown_of(row: str) -> tuple[str, str]:
    """(its classes, its text) of the row's countdown."""
    match = re.search(r'<span class="countdown ?([^"]*)">([^<]*)</span>', row)
    assert match, row
    return match.group(1).strip(), match.group(2).strip()


def section(page: str, css_class: str) -> str:
    """The <section> of the ticket page with this class (sections are not nested)."""
    match = re.search(rf'<section class="[^"]*\b{css_class}\b[^"]*".*?</section>', page, re.S)
    assert match, css_class
    return match.group(0)


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


def test_the_worklist_counts_down_to_the_next_deadline_red_when_late(app, client, db,
                                                                      clock) -> None:  # fmt: skip
    to_accept, handling, late = (new_ticket(client) for _ in range(3))
    unit = signed_in(app, "cgj", "demo-unit-1")
    for number in (handling, late):
        assert act(unit, number, "accept").status_code == 302
        assert act(unit, number, "feedback", body="已安排队员到场").status_code == 302
    friday_3pm = clock.now - timedelta(hours=19, minutes=30)  # it is Saturday 10:30
    with db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == late).values(resolve_by=friday_3pm))
    page = unit.get("/console/worklist").get_data(as_text=True)

    # 签收 is the first deadline: shown as what is left of it (working hours).
    classes, text = countdown_of(row_of(page, to_accept))
    assert text == "签收剩 4小时" and "overdue" not in classes
    # Signed for and answered: the resolution's deadline, in working days.
    classes, text = countdown_of(row_of(page, handling))
    assert re.fullmatch(r"办结剩 \d+个工作日(\d+小时)?", text) and "overdue" not in classes
    # Late: the row and its countdown are red (overdue), with how late it is.
    row = row_of(page, late)
    classes, text = countdown_of(row)
    assert row.startswith('<tr class="overdue"') and classes == "overdue"
    assert text == "办结超期 2小时" and ">超期</span>" in row  # working hours
    # Nearest deadline first: the one to sign for today, the late one before the others.
    assert page.index(late) < page.index(to_accept) < page.index(handling)
    # Each card carries what a phone shows: number, category, place, excerpt.
    for cell in ("wl-number", "wl-due", "wl-category", "wl-place", "wl-text"):
        assert f'class="{cell}"' in row


def test_a_reopened_ticket_is_not_overdue_but_carries_its_escalation(app, client) -> None:
    number = new_ticket(client)
    api_act(client, number, "accept", UNIT)
    if client.get(f"/api/v1/tickets/{number}", headers=auth()).json["co_units"]:
        api_act(client, number, "waive_co_units", SUPERVISOR)
    api_act(client, number, "resolve", UNIT, reply="摊贩已劝离")
    api_act(client, number, "confirm", auth(), resolved=False, satisfaction="dissatisfied",
            comment="摊贩第二天又回来了")  # fmt: skip
    unit = signed_in(app, "cgj", "demo-unit-1")
    row = row_of(unit.get("/console/worklist").get_data(as_text=True), number)
    assert '<span class="badge escalation">催办</span>' in row  # its own badge
    assert '<span class="badge reopened">重办</span>' in row
    assert ">超期</span>" not in row and not row.startswith('<tr class="overdue"')
    assert "overdue" not in countdown_of(row)[0]

    # The ticket page: why it came back, at the top, before the next step and the complaint.
    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    facts = text_of(section(page, "facts"))
    assert "摊贩第二天又回来了" in facts and "不满意" in facts and "未解决" in facts
    assert "上次办结答复：摊贩已劝离" in facts
    assert page.index('class="card facts"') < page.index("next-step") < page.index("complaint")
    assert "下一步：办结" in page
    head = page[:page.index('class="card facts"')]
    assert "催办" in head and ">超期<" not in head


def test_the_supervisors_notice_and_co_unit_reports_are_at_the_top(app, client,
                                                                   make_user) -> None:  # fmt: skip
    number = new_ticket(client)
    api_act(client, number, "dispatch", auth(), lead_unit="dept-cgj", co_units=["dept-scjgj"])
    _, co_token = make_user("scj-staff", "unit", "dept-scjgj")
    api_act(client, number, "accept", UNIT)
    unit = signed_in(app, "cgj", "demo-unit-1")
    facts = text_of(section(unit.get(f"/console/tickets/{number}").get_data(as_text=True),
                            "facts"))  # fmt: skip
    assert "示范市市场监督管理局" in facts and "尚未报告" in facts

    api_act(client, number, "supervise", SUPERVISOR, notice="请今天内办结并上传照片")
    api_act(client, number, "report_part", auth(co_token), body="已检查周边商户，无店外经营")
    facts = text_of(section(unit.get(f"/console/tickets/{number}").get_data(as_text=True),
                            "facts"))  # fmt: skip
    assert "督办意见" in facts and "请今天内办结并上传照片" in facts and "催办" in facts
    assert "已检查周边商户，无店外经营" in facts and "尚未报告" not in facts


def test_resolve_is_not_offered_while_a_co_unit_report_is_pending(app, client, db,
                                                                  make_user) -> None:  # fmt: skip
    number = new_ticket(client)
    api_act(client, number, "dispatch", auth(), lead_unit="dept-cgj", co_units=["dept-scjgj"])
    _, co_token = make_user("scj-staff", "unit", "dept-scjgj")
    unit = signed_in(app, "cgj", "demo-unit-1")

    # Before 签收: the next step is a button of its own; nothing the status rules out is shown.
    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    step = section(page, "next-step")
    assert "下一步：签收" in step and '<button type="submit" class="primary">签收</button>' in step
    assert "<summary>签收</summary>" not in page  # not twice
    assert "/resolve" not in page and "/report_part" not in page

    assert act(unit, number, "accept").status_code == 302
    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    assert "<summary>办结</summary>" not in page and f"/tickets/{number}/resolve" not in page
    assert "协办单位尚未全部报告" in text_of(section(page, "more-actions"))

    # A resolution posted anyway (an old page): refused, and the photo from the street kept.
    refused = act(unit, number, "resolve", reply="摊贩已劝离",
                  photos=(io.BytesIO(image_bytes("JPEG")), "after.jpg"))  # fmt: skip
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "协办单位尚未全部报告" in body and "1 张照片已保存到本工单" in body
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        kept = list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)))
        assert [(k.public, k.event_id) for k in kept] == [(False, None)]  # not shown yet
        kept_id = kept[0].id

    # Once the co-unit reported, 办结 is offered with the kept photo ticked: no new upload.
    api_act(client, number, "report_part", auth(co_token), body="已检查周边商户")
    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    assert f'name="evidence" value="{kept_id}" checked' in page
    done = act(unit, number, "resolve", reply="摊贩已劝离", evidence=str(kept_id))
    assert done.status_code == 302
    with db.transaction() as session:
        photo = session.get(Attachment, kept_id)
        assert photo.public and photo.event_id is not None
    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    photos = section(page, "complaint")
    src = f"/console/tickets/{number}/photos/{kept_id}"
    assert "整改后（办结照片）" in photos and f'<a href="{src}"' in photos  # opens full size


def test_the_photo_survives_a_stale_page(app, client, db) -> None:
    number = new_ticket(client)
    api_act(client, number, "accept", UNIT)
    if client.get(f"/api/v1/tickets/{number}", headers=auth()).json["co_units"]:
        api_act(client, number, "waive_co_units", SUPERVISOR)
    unit = signed_in(app, "cgj", "demo-unit-1")
    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    api_act(client, number, "supervise", SUPERVISOR, notice="请尽快办结")  # the page is stale
    refused = unit.post(f"/console/tickets/{number}/resolve", content_type="multipart/form-data",
                        data={"csrf_token": token, "version": version, "reply": "已劝离",
                              "photos": (io.BytesIO(image_bytes("JPEG")), "street.jpg")})
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "1 张照片已保存" in body and "已劝离</textarea>" in body  # what was typed, too
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))


def test_after_a_return_the_unit_lands_on_its_worklist(app, client) -> None:
    number = new_ticket(client)
    unit = signed_in(app, "cgj", "demo-unit-1")
    returned = act(unit, number, "return", reason="该点位属于市场监管职责")
    assert returned.status_code == 302 and returned.headers["Location"].endswith(
        "/console/worklist")  # fmt: skip
    page = unit.get(returned.headers["Location"]).get_data(as_text=True)
    assert f"工单 {number} 已退单" in page and "重新派单" in page
    assert f">{number}</a>" not in page
    assert "已完成" not in page  # no success flash for a page the unit can no longer see


def test_the_printed_sheet_has_the_facts_and_a_qr_code_of_the_ticket_page(app, client) -> None:
    long_text = "和平路菜市场门口流动摊贩占道经营，行人只能走机动车道。" * 30
    number = new_ticket(client, description=long_text, reporter_phone="13812341234")
    for note in range(15):
        api_act(client, number, "note", SUPERVISOR, body=f"第 {note + 1} 次现场核查记录")
    unit = signed_in(app, "cgj", "demo-unit-1")
    sheet = unit.get(f"/console/tickets/{number}/print")
    assert sheet.status_code == 200
    page = sheet.get_data(as_text=True)
    link = f"http://localhost/console/tickets/{number}"
    # The QR code is of the ticket page's address, drawn inline (no request for an image).
    assert re.search(r'<svg [^>]*class="qr"', page) and link in page
    expected = segno.make(link, error="m").svg_inline(border=2, omitsize=True, svgclass="qr",
                                                      title="工单页面二维码")  # fmt: skip
    assert expected in page
    text = text_of(page)
    for fact in (number, "占道经营", "和平路", "签收时限", "办结时限", "示范市城市管理局",
                 "第 15 次现场核查记录", "现场记录"):  # fmt: skip
        assert fact in text, fact
    # One A4 page: the text is cut, only the latest events, and the phone stays masked.
    assert long_text not in text and "……" in text
    assert "第 1 次现场核查记录" not in text and "更早的" in text
    assert "13812341234" not in page
    assert unit.get("/console/tickets/WM20990101-0001/print").status_code == 404
