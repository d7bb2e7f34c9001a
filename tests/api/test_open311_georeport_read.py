"""The `georeport` client from PyPI reading our Open311 server over real HTTP, in XML (the
spec's primary format) and JSON: services, a definition, requests and one request."""

from __future__ import annotations

import pytest

from tests.helpers import VALID, auth

georeport = pytest.importorskip("georeport")


def create(client, **overrides) -> str:
    response = client.post("/api/v1/tickets", json={**VALID, **overrides}, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


@pytest.mark.parametrize("output_format", ["xml", "json"])
def test_georeport_client_reads_services_definition_and_requests(
    server, client, output_format
) -> None:
    first = create(client, reporter_name="王建国", latitude=39.91, longitude=116.39)
    second = create(client, category="noise", description="楼下酒吧夜里唱歌噪音扰民😫，吵得睡不着")
    api = georeport.GeoReport(root_address=server + "/open311/v2", output_format=output_format)

    services = {s["service_code"]: s for s in api.get_service_list()}
    assert services["street-vending"]["service_name"] == "占道经营"
    assert str(services["street-vending"]["metadata"]).lower() == "true"
    assert services["illegal-flyers"]["type"] == "batch"

    definition = api.get_service_definition("street-vending")
    attributes = definition["attributes"]
    if output_format == "xml":  # xmltodict: the wrapper element, then its items
        attributes = attributes["attribute"]
    period = next(a for a in attributes if a["code"] == "period")
    values = period["values"]["value"] if output_format == "xml" else period["values"]
    assert {"key": "night", "name": "夜间（20点以后）"} in [dict(v) for v in values]

    requests = api.get_service_requests()
    assert [r["service_request_id"] for r in requests] == [second, first]
    noise = api.get_service_requests(service_code="noise")
    noise = [noise] if isinstance(noise, dict) else noise  # xmltodict: one item is a dict
    assert [r["description"] for r in noise] == ["楼下酒吧夜里唱歌噪音扰民😫，吵得睡不着"]

    one = api.get_service_request(first)
    assert one["service_request_id"] == first and one["status"] == "open"
    assert float(one["lat"]) == 39.91 and float(one["long"]) == 116.39
    assert one["requested_datetime"] == "2026-11-21T02:30:00Z"
    assert "王建国" not in str(one) and VALID["reporter_phone"] not in str(one)


def test_georeport_client_sees_an_unknown_request_as_an_http_404(server) -> None:
    import requests

    api = georeport.GeoReport(root_address=server + "/open311/v2", output_format="xml")
    with pytest.raises(requests.HTTPError) as failure:
        api.get_service_request("WM20200101-0001")
    assert failure.value.response.status_code == 404
    assert failure.value.response.headers["Content-Type"] == "text/xml; charset=utf-8"
