"""``/api/v1/templates``: the Chinese notification texts, edited by admins."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..domain.states import Role
from ..errors import ValidationFailed
from ..extensions import hotline
from ..schemas import StrictSchema, Text
from ..services import templates as service
from .auth import authenticated, db_session, principal

blp = Blueprint("templates", __name__, url_prefix="/api/v1/templates",
                description="通知模板（管理员）")  # fmt: skip


class TemplateSchema(Schema):
    key = fields.String(metadata={"description": "如 resident.accepted、unit.dispatched"})
    audience = fields.String(metadata={"description": "resident、unit 或 supervisor"})
    audience_name = fields.String()
    body = fields.String(metadata={"description": "Jinja 模板，如 工单{{ number }}已签收"})
    subject = fields.String(metadata={"description": "邮件标题"})
    sms_template_id = fields.String(
        allow_none=True, metadata={"description": "短信服务商审核通过的模板编号"}
    )
    customised = fields.Boolean(metadata={"description": "是否已改过（否则为系统默认文本）"})
    updated_at = fields.DateTime(allow_none=True)
    default_body = fields.String()
    variables = fields.Dict(metadata={"description": "可用的变量及其含义"})


class TemplateEditSchema(StrictSchema):
    body = Text(required=True, min_len=1, max_len=4000, multiline=True)
    subject = Text(load_default=None, allow_none=True, max_len=200)
    sms_template_id = Text(load_default=None, allow_none=True, max_len=60)


class PreviewArgsSchema(StrictSchema):
    body = Text(load_default=None, allow_none=True, max_len=4000, multiline=True)
    subject = Text(load_default=None, allow_none=True, max_len=200)


class PreviewSchema(Schema):
    ok = fields.Boolean()
    problems = fields.Dict()
    body = fields.String(allow_none=True, metadata={"description": "用示例数据生成的内容"})
    subject = fields.String(allow_none=True)


@blp.route("")
class Templates(MethodView):
    @blp.response(200, TemplateSchema(many=True))
    @authenticated(Role.ADMIN)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self) -> list[dict[str, Any]]:
        """全部通知模板（未改过的显示系统默认文本）"""
        return [t.as_dict() for t in service.list_templates(db_session())]


@blp.route("/<key>")
class TemplateItem(MethodView):
    @blp.response(200, TemplateSchema)
    @authenticated(Role.ADMIN)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, key: str) -> dict[str, Any]:
        """一个通知模板"""
        return service.get_template(db_session(), key).as_dict()

    @blp.response(200, TemplateSchema)
    @authenticated(Role.ADMIN)
    @blp.arguments(TemplateEditSchema())
    @blp.doc(security=[{"bearerAuth": []}])
    def put(self, args: dict[str, Any], key: str) -> dict[str, Any]:
        """修改通知模板（检查语法和变量，有误则不保存）"""
        saved = service.save_template(db_session(), key, actor=principal().actor,
                                      now=hotline().now(), **args)  # fmt: skip
        return saved.as_dict()

    @blp.response(200, TemplateSchema)
    @authenticated(Role.ADMIN)
    @blp.doc(security=[{"bearerAuth": []}])
    def delete(self, key: str) -> dict[str, Any]:
        """恢复为系统默认文本"""
        reset = service.reset_template(db_session(), key, actor=principal().actor,
                                       now=hotline().now())  # fmt: skip
        return reset.as_dict()


@blp.route("/<key>/preview")
class TemplatePreview(MethodView):
    @blp.response(200, PreviewSchema)
    @authenticated(Role.ADMIN)
    @blp.arguments(PreviewArgsSchema())
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, args: dict[str, Any], key: str) -> dict[str, Any]:
        """用示例数据预览（可预览尚未保存的文本；有误时 422，说明原因）"""
        current = service.get_template(db_session(), key)
        result = service.preview(key, args["body"], args["subject"], current)
        if not result["ok"]:  # the same answer as saving the text would get
            first = next(iter(result["problems"].values()))[0]
            raise ValidationFailed(result["problems"], detail=f"模板有误：{first}")
        return result
