"""``/api/v1/rulesets``: routing rulesets for admins — list, read, edit drafts, test, evaluate,
activate, export."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields

from routing.rules import RulesetError, csv_rows, dump_yaml

from ..domain.states import Role
from ..errors import PayloadTooLarge, ValidationFailed
from ..exports import csv_text
from ..extensions import hotline
from ..models import RulesetRecord
from ..schemas.fields import StrictSchema, boolean
from ..schemas.imports import ImportFileSchema
from ..schemas.rulesets import (
    DecisionSchema,
    EvaluateSchema,
    ExportQuerySchema,
    ReportSchema,
    RouteTestSchema,
    RulesetDetailSchema,
    RulesetSummarySchema,
    RulesetWriteSchema,
)
from ..services import rulesets as service
from ..services.evaluation import evaluate_ruleset
from ..services.ticket_routing import decision_record
from .auth import authenticated, db_session, principal

blp = Blueprint(
    "rulesets", __name__, url_prefix="/api/v1/rulesets",
    description="自动分派规则集（管理员）：草稿 → 启用 → 归档",
)  # fmt: skip
ADMIN = (Role.ADMIN,)
SECURITY = [{"bearerAuth": []}]


def summary(record: RulesetRecord, *, detail: bool = False) -> dict[str, Any]:
    rules = record.data.get("rules", [])
    result = {
        "id": record.id, "name": record.name, "version": record.version, "status": record.status,
        "source": record.source, "notes": record.notes, "rules": len(rules),
        "keywords": sum(len(r.get("keywords", {})) for r in rules),
        "places": len(record.data.get("places", [])), "created_at": record.created_at,
        "updated_at": record.updated_at, "activated_at": record.activated_at,
    }  # fmt: skip
    if detail:
        result["data"] = record.data
    return result


def _payload(args: dict[str, Any]) -> dict[str, Any]:
    try:
        if args.get("yaml") is not None:
            return service.parse_ruleset_text(args["yaml"], "yaml")
        if args.get("csv") is not None:
            return service.parse_ruleset_text(args["csv"], "csv")
    except RulesetError as exc:
        raise service.ruleset_problem(exc) from exc
    return args["data"]


@blp.route("")
class RulesetCollection(MethodView):
    @blp.response(200, RulesetSummarySchema(many=True))
    @authenticated(*ADMIN)
    @blp.doc(security=SECURITY)
    def get(self) -> list[dict[str, Any]]:
        """所有规则集版本（新的在前）"""
        from sqlalchemy import select

        records = db_session().scalars(select(RulesetRecord).order_by(RulesetRecord.id.desc()))
        return [summary(r) for r in records]

    @blp.response(201, RulesetDetailSchema)
    @authenticated(*ADMIN)
    @blp.arguments(RulesetWriteSchema())
    @blp.doc(security=SECURITY)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """新建草稿（JSON、YAML 或 CSV）；有任何错误则整份不保存"""
        record = service.create_ruleset(
            db_session(), _payload(args), source="api", now=hotline().now(),
            actor=principal().actor, name=args.get("name"), notes=args.get("notes"),
        )  # fmt: skip
        return summary(record, detail=True)


@blp.route("/<int:ruleset_id>")
class RulesetItem(MethodView):
    @blp.response(200, RulesetDetailSchema)
    @authenticated(*ADMIN)
    @blp.doc(security=SECURITY)
    def get(self, ruleset_id: int) -> dict[str, Any]:
        """一个版本的全部内容"""
        return summary(service.get_ruleset(db_session(), ruleset_id), detail=True)

    @blp.response(200, RulesetDetailSchema)
    @authenticated(*ADMIN)
    @blp.arguments(RulesetWriteSchema())
    @blp.doc(security=SECURITY)
    def put(self, args: dict[str, Any], ruleset_id: int) -> dict[str, Any]:
        """修改草稿（已启用或已归档的版本不可修改：请先复制）"""
        session = db_session()
        record = service.get_ruleset(session, ruleset_id)
        service.update_draft(session, record, _payload(args), now=hotline().now())
        return summary(record, detail=True)


@blp.route("/<int:ruleset_id>/copy")
class RulesetCopy(MethodView):
    @blp.response(201, RulesetDetailSchema)
    @authenticated(*ADMIN)
    @blp.doc(security=SECURITY)
    def post(self, ruleset_id: int) -> dict[str, Any]:
        """复制为新的草稿版本，以便修改"""
        session = db_session()
        record = service.copy_as_draft(
            session, service.get_ruleset(session, ruleset_id), now=hotline().now(),
            actor=principal().actor,
        )  # fmt: skip
        return summary(record, detail=True)


@blp.route("/<int:ruleset_id>/activate")
class RulesetActivate(MethodView):
    @blp.response(200, RulesetSummarySchema)
    @authenticated(*ADMIN)
    @blp.doc(security=SECURITY)
    def post(self, ruleset_id: int) -> dict[str, Any]:
        """启用该版本（原启用的版本归档）；记入审计日志"""
        app, session = hotline(), db_session()
        record = service.activate(
            session, service.get_ruleset(session, ruleset_id), now=app.now(),
            actor=principal().actor,
        )  # fmt: skip
        app.routers.forget_active()
        return summary(record)


@blp.route("/<int:ruleset_id>/test")
class RulesetTest(MethodView):
    @blp.response(200, DecisionSchema)
    @authenticated(*ADMIN)
    @blp.arguments(RouteTestSchema())
    @blp.doc(security=SECURITY)
    def post(self, args: dict[str, Any], ruleset_id: int) -> dict[str, Any]:
        """用该版本分派一段文字，返回结论与依据"""
        session = db_session()
        compiled = hotline().routers.compiled(session, service.get_ruleset(session, ruleset_id))
        decision = compiled.router.route(
            args["text"], title=args.get("title") or "", place=args.get("place") or "",
            lat=args.get("latitude"), lng=args.get("longitude"),
        )  # fmt: skip
        return decision_record(compiled, decision)


@blp.route("/<int:ruleset_id>/evaluate")
class RulesetEvaluate(MethodView):
    @blp.response(200, ReportSchema)
    @authenticated(*ADMIN)
    @blp.arguments(EvaluateSchema())
    @blp.doc(security=SECURITY)
    def post(self, args: dict[str, Any], ruleset_id: int) -> dict[str, Any]:
        """在带标签的样本上评估：准确率、宏平均 F1、各标签得分、混淆矩阵、速度"""
        session = db_session()
        compiled = hotline().routers.compiled(session, service.get_ruleset(session, ruleset_id))
        rows = [(row["text"], row["label"]) for row in args["rows"]]
        return evaluate_ruleset(compiled, rows).to_dict()


@blp.route("/<int:ruleset_id>/export")
class RulesetExport(MethodView):
    @authenticated(*ADMIN)
    @blp.arguments(ExportQuerySchema(), location="query", unknown=RAISE)
    @blp.doc(security=SECURITY, responses={"200": {"description": "YAML、CSV 或 JSON 文件"}})
    def get(self, args: dict[str, Any], ruleset_id: int) -> Response:
        """导出为 YAML / CSV / JSON"""
        import json

        from routing.rules import from_dict

        record = service.get_ruleset(db_session(), ruleset_id)
        fmt = args["format"]
        if fmt == "json":
            body, mimetype = (
                json.dumps(record.data, ensure_ascii=False, indent=2),
                "application/json",
            )
        else:
            try:
                ruleset = from_dict(record.data)
            except RulesetError as exc:  # stored data is validated; this is defensive
                raise ValidationFailed({"ruleset": str(exc).splitlines()}) from exc
            body = dump_yaml(ruleset) if fmt == "yaml" else csv_text(csv_rows(ruleset), bom=False)
            mimetype = "application/yaml" if fmt == "yaml" else "text/csv"
        filename = f"ruleset-{record.id}-v{record.version}.{fmt}"
        return Response(
            body, content_type=mimetype + "; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )  # fmt: skip


# ---------------------------------------------------------------- the gazetteer as a file


class PlacesFormSchema(StrictSchema):
    merge = boolean(
        load_default=False, metadata={"description": "保留原有地名，文件中同名的替换原有的"}
    )
    dry_run = boolean(load_default=False, metadata={"description": "只检查，不保存"})


class PlacesImportSchema(Schema):
    base = fields.Nested(RulesetSummarySchema, metadata={"description": "作为基础的版本"})
    ruleset = fields.Nested(RulesetSummarySchema, allow_none=True,
                            metadata={"description": "新的草稿版本；只检查时为 null"})  # fmt: skip
    rows = fields.Integer(metadata={"description": "文件中的地名数"})
    replaced = fields.Integer(metadata={"description": "合并时替换的同名地名数"})
    places = fields.Integer(metadata={"description": "新版本的地名总数"})
    located = fields.Integer(metadata={"description": "其中有坐标的"})
    merge = fields.Boolean()
    dry_run = fields.Boolean()


@blp.route("/<int:ruleset_id>/places")
class RulesetPlaces(MethodView):
    @blp.response(201, PlacesImportSchema, description="已生成新的草稿版本（或只检查时的结果）")
    @authenticated(*ADMIN)
    @blp.arguments(PlacesFormSchema(), location="form")
    @blp.arguments(ImportFileSchema(), location="files")
    @blp.doc(security=SECURITY)
    def post(self, form: dict[str, Any], files: dict[str, Any], ruleset_id: int) -> Any:
        """导入地名库文件（CSV / XLSX：地名、别名、单位代码、纬度、经度），以该版本为基础
        生成新的草稿版本；文件有任何错误则不保存，错误逐行列出"""
        import tempfile
        from pathlib import Path

        from routing.gazetteer_file import not_a_table

        from ..importers.reader import TableError, open_table
        from ..request import ADMIN_FILE_BYTES, received_bytes

        app, session = hotline(), db_session()
        service.get_ruleset(session, ruleset_id)  # a 404 before the file is read
        upload = files["file"]
        if received_bytes(upload) > ADMIN_FILE_BYTES:
            raise PayloadTooLarge(f"地名库文件不能超过 {ADMIN_FILE_BYTES // (1024 * 1024)} MB")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("places" + Path(upload.filename or "").suffix.lower()[:6])
            upload.save(path)
            with path.open("rb") as handle:
                wrong_kind = not_a_table(handle.read(16))
            if wrong_kind:
                raise ValidationFailed({"file": [wrong_kind]}, detail=wrong_kind)
            try:
                with open_table(path) as table:
                    result = service.import_places(
                        session, table.header, table.rows, now=app.now(),
                        actor=principal().actor, ref=str(ruleset_id), merge=form["merge"],
                        dry_run=form["dry_run"], filename=upload.filename,
                    )  # fmt: skip
            except TableError as exc:
                reason = str(exc).replace("，可用 --encoding 指定", "")
                detail = f"无法读取文件：{reason}"
                raise ValidationFailed({"file": [reason]}, detail=detail) from exc
        body = {
            "base": summary(result.base),
            "ruleset": summary(result.record) if result.record is not None else None,
            "rows": result.rows, "replaced": result.replaced, "places": result.total,
            "located": result.located, "merge": result.merge, "dry_run": result.record is None,
        }  # fmt: skip
        return body, 200 if result.record is None else 201
