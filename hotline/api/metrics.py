"""``GET /api/v1/metrics``: 三率 and friends per unit, category or street."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..domain.clock import local_period
from ..domain.numbering import local_day
from ..domain.states import Role
from ..extensions import hotline
from ..schemas.metrics import MetricsQuery, MetricsSchema
from ..services.metrics import compute
from .auth import authenticated, db_session

blp = Blueprint("metrics", __name__, url_prefix="/api/v1/metrics",
                description="三率（响应率、解决率、满意率）等指标")  # fmt: skip


@blp.route("")
class Metrics(MethodView):
    @blp.response(200, MetricsSchema)
    @authenticated(Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR)
    @blp.arguments(MetricsQuery(), location="query", unknown=RAISE)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """按单位、类别或街道统计；默认最近 30 天（北京时间，含首尾两天）

        统计所选期间受理的工单（公式第 2 版）。响应率 = 按时签收且按时首次答复 / 应响应的工单：
        已派单，且已签收并答复，或签收、首次反馈时限已过而未按时做到；时限未到的不计入。
        """
        app = hotline()
        now = app.now()
        today = local_day(now, app.settings.timezone)
        end_day = args.get("to") or today
        start_day = args.get("from_") or end_day - timedelta(days=29)
        start, end = local_period(start_day, end_day, app.settings.timezone)
        result = compute(db_session(), group_by=args["group_by"], start=start, end=end, now=now)
        result["period"] = {"from": start_day.isoformat(), "to": end_day.isoformat()}
        return result
