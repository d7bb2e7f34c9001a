"""Dispatch on intake (with the stored explanation) and by operators (corrections)."""

from __future__ import annotations

import csv

from click.testing import CliRunner
from sqlalchemy import select

from hotline.cli import main
from hotline.models import RoutingCorrection, TicketEvent
from tests.helpers import VALID, auth


def create(client, **overrides) -> dict:
    response = client.post("/api/v1/tickets", json={**VALID, **overrides}, headers=auth())
    assert response.status_code == 201, response.json
    return response.json


def dispatch(client, number: str, token: str = "hl_demo_operator", **body):
    return client.post(f"/api/v1/tickets/{number}/actions/dispatch", json=body, headers=auth(token))


def test_intake_stores_the_explanation_operators_see(client) -> None:
    ticket = create(client, address="和平新村小区门口")
    routing = client.get(f"/api/v1/tickets/{ticket['number']}", headers=auth()).json["routing"]
    assert routing["confident"] and routing["label"] == "占道经营"
    assert routing["ruleset"] == "示范市默认规则" and routing["ruleset_version"] == 1
    terms = [m["term"] for m in routing["candidates"][0]["matches"]]
    assert "流动摊贩" in terms or "占道经营" in terms
    assert routing["places"][0]["source"] == "address"
    assert routing["lead_unit_name"] == "示范市城市管理局"


def test_operator_redispatch_is_a_correction(client, db) -> None:
    ticket = create(client)
    response = dispatch(
        client, ticket["number"], version=ticket["version"], lead_unit="dept-sthjj",
        co_units=["st-heping"], category="noise", note="实为噪音",
    )  # fmt: skip
    assert response.status_code == 200, response.json
    body = response.json
    assert body["lead_unit"]["code"] == "dept-sthjj"
    assert [u["code"] for u in body["co_units"]] == ["st-heping"]
    assert body["version"] == ticket["version"] + 1
    with db.transaction() as session:
        correction = session.scalar(select(RoutingCorrection))
        assert (correction.predicted_category, correction.category) == ("street-vending", "noise")
        assert correction.lead_unit == "dept-sthjj" and "摊贩" in correction.text
        events = session.scalars(select(TicketEvent).order_by(TicketEvent.sequence)).all()
        assert events[-1].kind == "dispatched" and events[-1].body.startswith("已改派")


def test_dispatch_agreeing_with_routing_is_not_a_correction(client, db) -> None:
    ticket = create(client)
    response = dispatch(
        client, ticket["number"], version=ticket["version"], lead_unit="dept-cgj",
        co_units=[u["code"] for u in ticket["co_units"]],
    )  # fmt: skip
    assert response.status_code == 200
    with db.transaction() as session:
        assert session.scalar(select(RoutingCorrection)) is None


def test_manual_queue_dispatch_is_a_training_row(client, db, tmp_path, settings, monkeypatch):
    ticket = create(client, category=None, description="请问这个事情找谁办理呢")
    assert ticket["status"] == "reported"
    dispatch(client, ticket["number"], version=ticket["version"], lead_unit="dept-mzj")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "x")
    out = tmp_path / "corrections.csv"
    result = CliRunner().invoke(main, ["routing", "corrections", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert rows[0]["label"] == "dept-mzj" and rows[0]["text"] == "请问这个事情找谁办理呢"
    assert rows[0]["ticket"] == ticket["number"]


def test_stale_version_is_409_with_the_current_one(client) -> None:
    ticket = create(client)
    response = dispatch(
        client, ticket["number"], version=ticket["version"] - 1, lead_unit="dept-cgj"
    )
    assert response.status_code == 409
    assert response.json["current_version"] == ticket["version"]


def test_bad_dispatch_input(client) -> None:
    number = create(client)["number"]
    version = client.get(f"/api/v1/tickets/{number}", headers=auth()).json["version"]
    response = dispatch(client, number, version=version, lead_unit="nope", co_units=["nada"])
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"lead_unit", "co_units"}
    assert dispatch(client, number, lead_unit="dept-cgj").status_code == 422  # no version
    assert dispatch(client, number, "hl_demo_unit", version=version,
                    lead_unit="dept-cgj").status_code == 403  # fmt: skip
    missing = dispatch(client, "WM20990101-0001", version=1, lead_unit="dept-cgj")
    assert missing.status_code == 404
