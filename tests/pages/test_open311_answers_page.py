"""What an Open311 client answered to a category's questions (its service definition's
attributes) is shown to the people handling the ticket, in the questions' own words."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.helpers import signed_in

ADMIN = ("admin", "demo-admin-1")


def test_the_ticket_page_shows_the_answers_to_the_questions(app, client) -> None:
    form = [("api_key", "hl_demo_operator"), ("service_code", "street-vending"),
            ("address_string", "文明区和平路 12 号菜市场门口"),
            ("description", "和平路菜市场门口每天傍晚流动摊贩占道经营，行人只能走机动车道。"),
            ("attribute[period]", "evening"), ("attribute[impact][]", "walkway"),
            ("attribute[impact][]", "noise"), ("attribute[stalls]", "6"),
            ("attribute[detail]", "")]  # fmt: skip
    answer = client.post("/open311/v2/requests.json", data=urlencode(form).encode(),
                         content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert answer.status_code == 201, answer.data
    number = answer.get_json()[0]["service_request_id"]
    page = signed_in(app, *ADMIN).get(f"/console/tickets/{number}").get_data(as_text=True)
    assert "补充信息" in page
    assert "摊贩通常在什么时段出现：傍晚（17—20点）" in page
    assert "造成了哪些影响？（可多选）：占用人行道、噪音扰民" in page
    assert "大约有几个摊位：6" in page
    assert "其他需要说明的情况" not in page  # not answered: not shown
