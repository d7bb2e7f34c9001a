"""督办 and the dashboard in a real browser, at a phone's width (390) and a desktop's (1366):
decisions taken on the board with their facts in view, charts whose legends keep off the
axes, and figures that open the tickets behind them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.helpers import VALID, api_act, auth

OPERATOR, UNIT, SUPERVISOR = auth(), auth("hl_demo_unit"), auth("hl_demo_supervisor")
SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def asked_for_more_time(client, clock) -> str:
    clock.now = shanghai(23, 9)  # Monday; resolve by Friday 27th 17:00
    number = client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]
    api_act(client, number, "accept", UNIT)
    api_act(client, number, "request_extension", UNIT, reason="摊主流动性大，需联合执法",
            until="2026-12-01T17:00:00+08:00")  # fmt: skip
    clock.now = shanghai(23, 11)
    return number


@pytest.mark.parametrize("size", SIZES)
def test_an_extension_is_approved_with_the_requested_date_in_view(page, server, client, clock,
                                                                  size) -> None:  # fmt: skip
    number = asked_for_more_time(client, clock)
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in(page, server, "supervisor", "demo-supervisor-1")
    assert page.url.endswith("/console/supervision")
    card = page.locator(f"#extension-{number}")
    assert card.get_by_text("2026-12-01 17:00").is_visible()  # the requested date
    assert card.get_by_text("摊主流动性大，需联合执法").is_visible()
    assert card.get_by_text("0 次（最多 3 次）").is_visible()
    approve = card.get_by_role("radio", name=re.compile("^批准"))
    assert not approve.is_checked() and not card.get_by_role("radio", name="不批准").is_checked()
    no_sideways_scroll(page)
    box = approve.locator("xpath=ancestor::label").bounding_box()
    assert box["height"] >= 44  # a thumb can hit it
    shot(page, f"supervisor-board-extension-{size}")

    with page.expect_navigation():  # nothing chosen: refused, the reason beside the choice
        card.get_by_role("button", name="提交审批").click()
    card = page.locator(f"#extension-{number}")
    assert page.url.endswith(f"#extension-{number}")  # the card in view, not the page's top
    reason = card.get_by_text("请选择批准或不批准")
    assert reason.is_visible() and 0 <= reason.bounding_box()["y"] < SIZES[size][1]
    shot(page, f"supervisor-board-extension-refused-{size}")

    card.get_by_role("radio", name=re.compile("^批准")).check()
    card.get_by_label("说明（可不填）").fill("同意，请按期办结")
    with page.expect_navigation():
        card.get_by_role("button", name="提交审批").click()
    assert page.get_by_text(f"{number}：已批准延期，办结时限改为 2026-12-01 17:00").is_visible()
    assert page.locator(f"#extension-{number}").count() == 0
    shot(page, f"supervisor-board-extension-approved-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_a_return_is_ruled_with_its_unit_and_reason_in_view(page, server, client, size) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]
    api_act(client, number, "return", UNIT, reason="该点位属于市场监管职责，不是城管的")
    other = client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]
    api_act(client, other, "return", UNIT, reason="不归我们管")
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in(page, server, "supervisor", "demo-supervisor-1")
    card = page.locator(f"#return-{number}")
    assert card.get_by_text("示范市城市管理局").first.is_visible()
    assert card.get_by_text("该点位属于市场监管职责，不是城管的").is_visible()
    assert not card.get_by_role("radio", name="退单成立，重新派单").is_checked()
    no_sideways_scroll(page)
    shot(page, f"supervisor-board-return-{size}")
    card.get_by_role("radio", name=re.compile("^退回原单位办理")).check()
    with page.expect_navigation():
        card.get_by_role("button", name="提交裁决").click()
    assert page.get_by_text(f"{number}：已退回原单位办理").is_visible()
    assert page.locator(f"#return-{number}").count() == 0


# ---------------------------------------------------------------- the dashboard

# Complaints routed to six units, some with long names, so the phone has to cope with them.
TEXTS = {"street-vending": VALID["description"],
         "road-damage": "和平路人行道路面坑洼破损，老人容易摔倒",
         "noise": "和平路工地夜间施工噪音扰民，凌晨还在打桩",
         "wet-markets": "和平路农贸市场卫生脏乱，污水横流",
         "civilized-dog-keeping": "和平路小区有人遛狗不拴绳，狗粪没人清理",
         "power-outage": "和平路小区突然停电，已经三个小时没有来电"}  # fmt: skip
CATEGORIES = tuple(TEXTS)


def busy_weeks(client, clock) -> None:
    """Three weeks of complaints for six units; some answered, resolved and rated."""
    for week in range(3):
        for index, category in enumerate(CATEGORIES):
            clock.now = shanghai(9 + 7 * week + index % 5, 9 + index)
            for _ in range(1 + (index + week) % 3):
                body = {**VALID, "category": category,
                        "description": f"{TEXTS[category]}（第 {week} 周）"}
                number = client.post("/api/v1/tickets", json=body, headers=OPERATOR).json["number"]
                if category == "street-vending" and week < 2:
                    clock.now += timedelta(minutes=30)
                    api_act(client, number, "accept", UNIT)
                    api_act(client, number, "feedback", UNIT, body="已到场处理")
                    api_act(client, number, "waive_co_units", SUPERVISOR)
                    api_act(client, number, "resolve", UNIT, reply="已劝离")
                    api_act(client, number, "confirm", OPERATOR, resolved=True,
                            satisfaction="satisfied" if week else "dissatisfied")
    clock.now = shanghai(30, 10)


def text_boxes(page, chart_id: str) -> list[dict]:
    """Every text ECharts painted in a chart (each line a tspan), with its box on the canvas."""
    return page.evaluate("""(id) => {
        const chart = echarts.getInstanceByDom(document.getElementById(id));
        return chart.getZr().storage.getDisplayList(true)
          .filter((el) => el.type === "tspan" && el.style && el.style.text && !el.invisible)
          .map((el) => { const r = el.getPaintRect();
                         return {text: String(el.style.text), x: r.x, y: r.y, w: r.width,
                                 h: r.height}; });
    }""", chart_id)  # fmt: skip


def overlapping(boxes: list[dict], legend: set[str]) -> list[tuple[str, str]]:
    def meets(a: dict, b: dict) -> bool:
        return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and \
            a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]

    keys = [b for b in boxes if b["text"] in legend]
    others = [b for b in boxes if b["text"] not in legend]
    return [(k["text"], o["text"]) for k in keys for o in others if meets(k, o)]


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_charts_fit_and_open_their_tickets(page, server, client, clock, size) -> None:
    busy_weeks(client, clock)
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in(page, server, "supervisor", "demo-supervisor-1")
    page.goto(f"{server}/console/dashboard?from=2026-11-09&to=2026-11-30")
    page.wait_for_function("document.querySelectorAll('.chart canvas').length === 3")
    no_sideways_scroll(page)

    # Legends keep off the axis labels and the bars' names, and the names off each other.
    rates = {"响应率", "解决率", "满意率"}
    painted = text_boxes(page, "chart-ranking")
    assert overlapping(painted, rates) == []
    names = [b for b in painted if b["text"].startswith("示范市")]
    assert len(names) == 6
    for index, name in enumerate(names):
        assert overlapping([name, *names[index + 1:]], {name["text"]}) == [], name["text"]
    names = {page.locator("#volume tbody th").nth(i).inner_text()
             for i in range(page.locator("#volume tbody th").count())}
    assert overlapping(text_boxes(page, "chart-volume"), names) == []
    # Week labels name their days.
    assert page.locator("#volume thead th").nth(1).inner_text() == "11月9日–15日"

    # Unit names are never squeezed to a character a line: each name's line is wider than
    # three characters, and the whole name shows.
    units = page.locator("#ranking tbody th.unit")
    assert units.count() == 6
    for index in range(units.count()):
        name = units.nth(index)
        assert name.bounding_box()["width"] > 3 * 16
        assert name.inner_text() in {"示范市城市管理局", "示范市住房和城乡建设局",
                                     "示范市生态环境局", "示范市市场监督管理局", "示范市公安局",
                                     "示范市供电公司"}  # fmt: skip
    # Week headers break only after their dash, never a character a line.
    week = page.locator("#volume thead th.week").nth(1)
    assert week.bounding_box()["height"] < 3 * 24
    shot(page, f"dashboard-{size}")

    # A bar of the weekly chart opens the tickets behind it: that category in that week.
    page.locator("#chart-volume").scroll_into_view_if_needed()
    point = page.evaluate("""() => {
        const el = document.getElementById("chart-volume");
        const chart = echarts.getInstanceByDom(el);
        const first = chart.getOption().series[0];
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [1, first.data[1] / 2]);
        const box = el.getBoundingClientRect();
        return {x: box.left + x, y: box.top + y, name: first.name};
    }""")
    with page.expect_navigation():
        page.mouse.click(point["x"], point["y"])
    query = parse_qs(urlsplit(page.url).query)
    assert urlsplit(page.url).path == "/console/search"
    assert query["from"] == ["2026-11-16"] and query["to"] == ["2026-11-22"]
    assert query["category"] == ["street-vending"] and point["name"] == "占道经营"
    shot(page, f"dashboard-drill-search-{size}")

    # And a cell of the ranking, without any script: a plain link.
    page.go_back()
    cell = page.locator("#ranking tr", has_text="示范市城市管理局").locator("td[data-label=超期] a")
    with page.expect_navigation():
        cell.click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["unit"] == ["dept-cgj"] and query["overdue"] == ["1"]
