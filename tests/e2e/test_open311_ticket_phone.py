"""A report filed by an Open311 client, on the ticket page of the unit's officer: the answers
to the category's questions are there and the page fits a phone (390) and a desktop."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import no_sideways_scroll, shot, sign_in

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_open311_answers_on_the_ticket_page(page, server, client, size) -> None:
    form = [("api_key", "hl_demo_operator"), ("service_code", "street-vending"),
            ("address_string", "文明区和平路 12 号菜市场门口东侧人行道（靠近公交站台）"),
            ("description", "和平路菜市场门口每天傍晚流动摊贩占道经营，行人只能走机动车道。"
                            "摊贩推车把盲道也占了，老人和推婴儿车的居民只能绕行。"),
            ("attribute[period]", "evening"), ("attribute[impact][]", "walkway"),
            ("attribute[impact][]", "traffic"), ("attribute[impact][]", "litter"),
            ("attribute[stalls]", "12"),
            ("attribute[detail]", "周末更严重，晚上八点以后还有烧烤摊，油烟和垃圾很多。"),
            ]  # fmt: skip
    answer = client.post("/open311/v2/requests.json", data=urlencode(form).encode(),
                         content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert answer.status_code == 201, answer.data
    number = answer.get_json()[0]["service_request_id"]
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "admin", "demo-admin-1")
    assert page.goto(f"{server}/console/tickets/{number}").status == 200
    complaint = page.locator("section.complaint").inner_text()
    assert "补充信息" in complaint and "大约有几个摊位：12" in complaint
    assert "来源" in complaint and "Open311" in complaint
    no_sideways_scroll(page)
    shot(page, f"ticket-open311-answers-{size}")
