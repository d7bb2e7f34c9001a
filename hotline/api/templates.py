"""``/api/v1/templates``: the Chinese notification texts, edited by admins."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..domain.states import Role
from ..errors import ValidationFailed
from ..extensions import hotline
from ..schemas.templates import PreviewArgsSchema, PreviewSchema, TemplateEditSchema, TemplateSchema
from ..services import templates as service
from .auth import authenticated, db_session, principal

blp = Blueprint("templates", __name__, url_prefix="/api/v1/templates",
                description="通知模板（管理员）")  # fmt: skip


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
