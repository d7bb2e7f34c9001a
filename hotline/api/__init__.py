"""The staff/machine API under ``/api/v1`` (flask-smorest), with its OpenAPI document."""

from __future__ import annotations

import http
import json
from importlib.resources import files
from typing import Any

from flask import Blueprint, Flask, request, send_from_directory
from flask_smorest import Api

from ..errors import BadRequest, PayloadTooLarge
from ..extensions import hotline
from ..request import ENVELOPE
from ..schemas.problems import ProblemSchema

API_PREFIX = "/api/v1"
JSON_METHODS = {"POST", "PUT", "PATCH"}
RULESET_JSON_BYTES = 32 * 1024 * 1024


PROBLEM_JSON = "application/problem+json"


class HotlineApi(Api):
    """flask-smorest without its own error handlers: the app renders problem+json for all,
    and the document says so (every operation's default response is a problem)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        problem_doc = {"content": {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}}
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response.update(problem_doc)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "错误（RFC 9457 problem details，中文说明）", **problem_doc}
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


def _swagger_assets() -> Blueprint:
    """Swagger UI served from the installed swagger-ui-bundle package: no CDN."""
    bundle = files("swagger_ui_bundle") / "vendor"
    folder = next(p for p in bundle.iterdir() if p.name.startswith("swagger-ui-"))
    bp = Blueprint("swagger_assets", __name__)

    @bp.get(f"{API_PREFIX}/docs/assets/<path:filename>")
    def asset(filename: str) -> Any:
        return send_from_directory(str(folder), filename, max_age=86400)

    return bp


def check_json_body() -> None:
    """400 for a wrong content type or unparsable JSON, 413 for an oversized body.

    webargs would otherwise read a non-JSON body as "empty" and answer with misleading 422s.
    """
    if not request.path.startswith(API_PREFIX + "/") or request.method not in JSON_METHODS:
        return
    if request.path.endswith("/attachments"):
        return  # multipart photos, bounded per endpoint (uploads.py)
    if request.path.startswith(API_PREFIX + "/rulesets/") and request.path.endswith("/places"):
        return  # a gazetteer file, multipart, bounded by the admin file limit
    if request.path == API_PREFIX + "/imports":
        # A call-centre export: refused before a byte of it is read when it says it is too big.
        limit = hotline().settings.import_max_bytes
        if request.content_length is not None and request.content_length > limit + ENVELOPE:
            raise PayloadTooLarge(f"导入文件不能超过 {limit // (1024 * 1024)} MB")
        return
    limit = hotline().settings.max_json_bytes
    if request.path.startswith(API_PREFIX + "/rulesets"):
        limit = RULESET_JSON_BYTES  # a learned ruleset carries its vocabulary
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"请求体不能超过 {limit // 1024} KB")
    if (
        not request.content_length
        and not request.is_json
        and not request.headers.get("Transfer-Encoding")
    ):
        return  # no body at all (e.g. POST …/activate); endpoints needing one answer 422
    if not request.is_json:
        raise BadRequest("请求体必须是 JSON（Content-Type: application/json）")
    request.max_content_length = limit
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLarge(f"请求体不能超过 {limit // 1024} KB")
    try:
        json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("请求体不是有效的 JSON") from exc


def init_api(app: Flask) -> None:
    from .actions import blp as actions_blp
    from .calls import blp as calls_blp
    from .imports import blp as imports_blp
    from .metrics import blp as metrics_blp
    from .outbox import blp as outbox_blp
    from .rulesets import blp as rulesets_blp
    from .sms import blp as sms_blp
    from .templates import blp as templates_blp
    from .tickets import blp as tickets_blp

    app.config.update(
        API_TITLE="文明直通车 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{API_PREFIX}/docs/assets/",
        # No badge from validator.swagger.io: the page must not reach outside.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={
            "info": {
                "description": "文明直通车（civility express hotline）：工单受理、查询与跟踪。"
                "错误均以 application/problem+json 返回。",
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                },
            },
        },
    )
    api = HotlineApi(app)
    api.register_blueprint(tickets_blp)
    api.register_blueprint(actions_blp)
    api.register_blueprint(metrics_blp)
    api.register_blueprint(outbox_blp)
    api.register_blueprint(rulesets_blp)
    api.register_blueprint(templates_blp)
    api.register_blueprint(imports_blp)
    api.register_blueprint(calls_blp)
    api.register_blueprint(sms_blp)
    app.register_blueprint(_swagger_assets())
    app.before_request(check_json_body)
    app.extensions["hotline.api"] = api
