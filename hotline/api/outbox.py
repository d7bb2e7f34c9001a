"""``/api/v1/outbox``: what notifications wait, what failed and why; retry failed ones."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..domain.states import Role
from ..extensions import hotline
from ..queues import queue_stats
from ..schemas.outbox import OutboxSummarySchema, RetryResultSchema, RetrySchema
from ..services.outbox import retry_failed, summary
from .auth import authenticated, db_session

blp = Blueprint("outbox", __name__, url_prefix="/api/v1/outbox",
                description="通知发送情况（管理员）")  # fmt: skip


@blp.route("")
class Outbox(MethodView):
    @blp.response(200, OutboxSummarySchema)
    @authenticated(Role.ADMIN)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self) -> dict[str, Any]:
        """各状态的通知数量、最近的失败原因与队列积压"""
        result = summary(db_session())
        redis_url = hotline().settings.redis_url
        result["queues"] = {}
        if redis_url:
            try:
                result["queues"] = queue_stats(redis_url)
            except Exception as exc:  # Redis down: the outbox above still tells the story
                result["queues"] = {"error": f"Redis 不可用（{type(exc).__name__}）"}
        return result


@blp.route("/retry")
class OutboxRetry(MethodView):
    @blp.response(200, RetryResultSchema)
    @authenticated(Role.ADMIN)
    @blp.arguments(RetrySchema(), required=False)  # no body: retry every failed message
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, args: dict[str, Any]) -> dict[str, int]:
        """重新发送失败的通知（不指定 ids 则全部重发）"""
        count = retry_failed(db_session(), now=hotline().now(), ids=args["ids"] or None)
        return {"retried": count}
