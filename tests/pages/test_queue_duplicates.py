"""待派单: a queued ticket that may repeat an older open one says so (可能重复), links to it and
says why; the original and unrelated tickets carry no mark."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.helpers import VALID, auth, signed_in

AGAIN = "早晚高峰时段菜市场门口又有流动摊贩占道经营，行人只好走到机动车道上，太危险了"
FUMES = "振兴路 3 号饭店油烟直排，楼上住户开不了窗。"


def file(client, **changes) -> str:
    # The chosen kind disagrees with routing: the ticket waits in the manual queue.
    body = {**VALID, "category": "illegal-parking", **changes}
    response = client.post("/api/v1/tickets", json=body, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


def cards(html: str) -> dict[str, str]:
    found = {}
    for card in re.split(r'<li class="q-item', html)[1:]:
        number = re.search(r'<a class="number" href="/console/tickets/([^"]+)"', card)
        assert number
        found[number.group(1)] = card
    return found


def test_the_queue_marks_a_possible_repeat_and_links_to_its_original(app, client, clock) -> None:
    first = file(client)
    clock.now += timedelta(hours=3)
    second = file(client, description=AGAIN, address="和平路菜市场西门")
    other = file(client, description=FUMES, address="振兴路 3 号", category="cooking-fumes")
    operator = signed_in(app, "operator", "demo-operator-1")
    page = operator.get("/console/queue?sort=newest")
    assert page.status_code == 200
    shown = cards(page.get_data(as_text=True))
    assert {first, second} <= set(shown)
    mark = shown[second]
    assert "可能重复" in mark
    assert f'href="/console/tickets/{first}">{first}</a>' in mark
    assert "同一地点（和平街道）" in mark and "内容相似" in mark
    assert "可能重复" not in shown[first]
    if other in shown:
        assert "可能重复" not in shown[other]
