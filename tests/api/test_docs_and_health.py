"""OpenAPI document, the docs page without CDN, and the probes."""

from __future__ import annotations

import re

from hotline.config import Settings
from tests.helpers import auth


def test_openapi_describes_every_endpoint(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    assert set(paths["/api/v1/tickets"]) >= {"get", "post"}
    assert "get" in paths["/api/v1/tickets/{number}"]
    assert "get" in paths["/healthz"] and "503" in paths["/readyz"]["get"]["responses"]
    post = paths["/api/v1/tickets"]["post"]
    assert "201" in post["responses"] and "422" in post["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    schemas = spec["components"]["schemas"]
    assert {"ApiTicketSubmission", "Ticket", "TicketPage", "Problem"} <= set(schemas)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_openapi_says_every_error_is_problem_json(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    responses = spec["components"]["responses"]
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        assert set(responses[name]["content"]) == {"application/problem+json"}, name
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in {"get", "post", "put", "delete", "patch"}:
                assert "default" in operation["responses"], (method, path)
    params = spec["paths"]["/api/v1/imports/{batch_id}"]["parameters"]
    assert params[0]["schema"]["maximum"] == 2**31 - 1  # ids as the database stores them


def test_docs_page_uses_only_local_assets(client) -> None:
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/api/v1/docs/assets/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200


def test_healthz(client) -> None:
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_reports_database_and_inline_jobs(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["database"]["ok"] is True
    assert "inline" in response.json["checks"]["redis"]["mode"]


def test_readyz_is_503_when_redis_is_configured_but_down(settings, db, clock) -> None:
    from dataclasses import replace

    from hotline.app import create_app

    broken: Settings = replace(settings, redis_url="redis://127.0.0.1:1/0")
    app = create_app(broken, database=db)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["ok"] is False
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_readyz_is_200_with_the_real_redis(settings, db, redis_url) -> None:
    from dataclasses import replace

    from hotline.app import create_app

    app = create_app(replace(settings, redis_url=redis_url), database=db)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["redis"]["ok"] is True


def test_problem_for_unknown_api_path(client) -> None:
    response = client.get("/api/v1/nope", headers=auth())
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
