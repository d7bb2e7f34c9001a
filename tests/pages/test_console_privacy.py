"""The console obeys the API's rule for reporters' names and phones
(hotline.domain.privacy.may_see_phone): operators and supervisors see them, units only when
the resident agreed to be contacted, admins never — on the ticket page, in search and on the
call-intake page."""

from __future__ import annotations

import re

from tests.helpers import VALID, auth, signed_in, token_of

PHONE, NAME = "13812341234", "张三"


def create(client, **fields) -> str:
    response = client.post("/api/v1/tickets", headers=auth(),
                           json={**VALID, "reporter_name": NAME, **fields})  # fmt: skip
    assert response.status_code == 201, response.json
    number = response.json["number"]
    assert response.json["lead_unit"]["code"] == "dept-cgj"  # the demo unit handles it
    return number


def reporter_line(page: str) -> str:
    return re.search(r"<dt>反映人</dt><dd>(.*?)</dd>", page, re.S).group(1)


def found(client, query: str, number: str) -> bool:
    page = client.get("/console/search", query_string={"q": query}).get_data(as_text=True)
    return f'href="/console/tickets/{number}"' in page


def test_admins_see_no_reporter_and_cannot_search_by_phone(app, client) -> None:
    number = create(client, consent_contact=True)
    admin = signed_in(app, "admin", "demo-admin-1")
    line = reporter_line(admin.get(f"/console/tickets/{number}").get_data(as_text=True))
    assert PHONE not in line and NAME not in line
    assert not found(admin, PHONE, number) and not found(admin, "138 1234 1234", number)
    assert found(admin, number, number) and found(admin, "菜市场", number)  # the rest works
    operator = signed_in(app, "operator", "demo-operator-1")
    line = reporter_line(operator.get(f"/console/tickets/{number}").get_data(as_text=True))
    assert PHONE in line and NAME in line
    assert found(operator, PHONE, number)


def test_units_find_by_phone_only_residents_who_agreed_to_be_called(app, client) -> None:
    agreed = create(client, consent_contact=True)
    declined = create(client, consent_contact=False)
    text = "和平路菜市场门口流动摊贩占道经营，请回电 13812341234"
    written = create(client, consent_contact=False, reporter_phone="13900001111",
                     description=text)  # fmt: skip
    unit = signed_in(app, "cgj", "demo-unit-1")
    assert found(unit, PHONE, agreed)
    assert not found(unit, PHONE, declined)
    assert not found(unit, PHONE, written)  # nor through the words of the text
    assert found(unit, declined, declined)  # by number, as before
    page = unit.get(f"/console/tickets/{agreed}").get_data(as_text=True)
    assert PHONE in reporter_line(page)
    page = unit.get(f"/console/tickets/{declined}").get_data(as_text=True)
    assert PHONE not in reporter_line(page) and NAME not in reporter_line(page)
    operator = signed_in(app, "operator", "demo-operator-1")
    assert all(found(operator, PHONE, n) for n in (agreed, declined, written))


def test_call_intake_gives_admins_no_history_by_phone(app, client) -> None:
    number = create(client)

    def check(user: str, password: str) -> str:
        staff = signed_in(app, user, password)
        token = token_of(staff.get("/console/call").get_data(as_text=True))
        response = staff.post("/console/call", data={"csrf_token": token, "step": "check",
                                                     "reporter_phone": PHONE})  # fmt: skip
        assert response.status_code == 200
        return response.get_data(as_text=True)

    admin = check("admin", "demo-admin-1")
    assert number not in admin and "管理员不能按来电号码查询历史工单" in admin
    assert number in check("operator", "demo-operator-1")
    assert number in check("supervisor", "demo-supervisor-1")
