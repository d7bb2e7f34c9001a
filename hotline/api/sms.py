"""``POST /api/v1/sms/inbound``: residents' SMS replies, forwarded by the SMS gateway and
signed with the secret shared with it (HOTLINE_SMS_INBOUND_SECRET)."""

from __future__ import annotations

from datetime import UTC
from functools import wraps
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..errors import HotlineError, ValidationFailed
from ..extensions import hotline
from ..schemas.fields import StrictSchema
from ..services.inbound_sms import Reply, SignatureError, receive, verify_signature

SIGNATURE_HEADER = "X-Hotline-Signature"

blp = Blueprint("sms", __name__, url_prefix="/api/v1/sms",
                description="短信网关回调：市民回复的短信（评价）")  # fmt: skip


class InboundSmsSchema(StrictSchema):
    id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "短信网关的消息编号（重复推送同一编号只处理一次）"},
    )
    phone = fields.String(
        required=True,
        validate=validate.Length(min=1, max=30),
        metadata={"description": "发送短信的手机号码"},
    )
    text = fields.String(
        required=True,
        validate=validate.Length(max=1000),
        metadata={"description": "短信内容，如 1、2、3、满意、不满意"},
    )
    received_at = fields.AwareDateTime(
        default_timezone=UTC,
        load_default=None,
        metadata={"description": "网关收到短信的时间（ISO 8601，可不填）"},
    )


class InboundResultSchema(Schema):
    outcome = fields.String(metadata={"description": (
        "rated（已按评价办结）、reopened（不满意，已退回重办）、unknown_reply（未识别，已回复"
        "说明短信）、no_ticket（没有待评价的工单，已回复说明短信）")})  # fmt: skip
    ticket = fields.String(allow_none=True, metadata={"description": "匹配到的工单编号"})
    repeated = fields.Boolean(metadata={"description": "此编号此前已处理过，本次未做任何改动"})


class BadSignature(HotlineError):
    status = 401
    code = "bad-signature"
    title = "签名无效"


class InboundDisabled(HotlineError):
    # 404, not 503: the endpoint does not exist for this deployment, and no client should
    # keep retrying it (nor should a 5xx be the answer to anything but a fault).
    status = 404
    code = "sms-inbound-disabled"
    title = "未配置短信回复接收"


def signed(view: Any) -> Any:
    """The gateway's signature over the raw body, checked before the body is read: without
    a configured secret nothing is accepted at all."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = hotline()
        secret = app.settings.sms_inbound_secret
        if not request.headers.get(SIGNATURE_HEADER):
            raise BadSignature("缺少签名（X-Hotline-Signature: t=…,v1=…）")
        if not secret:
            raise InboundDisabled("服务器未配置 HOTLINE_SMS_INBOUND_SECRET，不接收短信回复")
        try:
            verify_signature(secret, request.headers.get(SIGNATURE_HEADER),
                             request.get_data(cache=True), now=app.now())  # fmt: skip
        except SignatureError as exc:
            error = BadSignature(exc.message)
            error.status = exc.status
            raise error from exc
        return view(*args, **kwargs)

    return wrapper


_SIGNATURE_DOC = {
    "in": "header", "name": SIGNATURE_HEADER, "required": True, "schema": {"type": "string"},
    "description": "t=<unix 时间>,v1=<HMAC-SHA256(密钥, \"<t>.\" + 原始请求体) 的十六进制>；"
                   "时间与服务器相差超过 5 分钟的请求被拒绝",
}  # fmt: skip


@blp.route("/inbound")
class Inbound(MethodView):
    @blp.response(200, InboundResultSchema)
    @signed
    @blp.arguments(InboundSmsSchema())
    @blp.doc(parameters=[_SIGNATURE_DOC])
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """市民回复的短信：1满意、2基本满意、3不满意（退回重办），其他内容回复说明短信

        按网关消息编号去重：重复推送返回第一次的处理结果。签名方式与本系统的 webhook 相同。
        """
        app = hotline()
        now = app.now()
        reply = Reply(args["id"], args["phone"], args["text"], args["received_at"] or now)
        with app.db.transaction() as session:
            try:
                handled = receive(session, reply, now=now, clock=app.calendars.clock(session))
            except ValueError as exc:
                raise ValidationFailed({"phone": ["不是有效的手机号码或带区号的固定电话"]}) from exc
        return {"outcome": handled.outcome, "ticket": handled.number,
                "repeated": handled.repeated}  # fmt: skip
