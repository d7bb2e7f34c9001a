"""The supervisor's dashboard: ranking, weekly volume, on-time trend, hotspots, CSV export."""

from __future__ import annotations

from tests.helpers import VALID, auth, signed_in


def test_dashboard_counts_ranks_and_exports(app, client) -> None:
    for _ in range(3):  # the same place and category, three times: a hotspot
        assert client.post("/api/v1/tickets", json=VALID, headers=auth()).status_code == 201
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    page = supervisor.get("/console/dashboard?from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "示范市城市管理局" in text and 'id="hotspots"' in text
    assert "占道经营" in text  # in the weekly volume and the hotspot
    assert "vendor/echarts.min.js" in text and "cdn" not in text.lower()
    exported = supervisor.get("/console/dashboard.csv?from=2026-11-01&to=2026-11-30")
    assert exported.mimetype == "text/csv"
    lines = exported.get_data().decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeff排名,单位,工单数,响应率") and "示范市城市管理局" in lines[1]


def test_dashboard_filters_and_bad_dates(app, client) -> None:
    client.post("/api/v1/tickets", json=VALID, headers=auth())
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    other = supervisor.get("/console/dashboard?from=2026-11-01&to=2026-11-30&district=nowhere")
    assert "所选期间没有已派单的工单" in other.get_data(as_text=True)
    bad = supervisor.get("/console/dashboard?from=2026-13-01&to=2026-01-01").get_data(as_text=True)
    assert "日期格式应为" in bad
    assert signed_in(app, "cgj", "demo-unit-1").get("/console/dashboard").status_code == 403
