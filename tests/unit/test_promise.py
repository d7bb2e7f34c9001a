from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hotline.domain.promise import plain_time, resolve_promise
from hotline.domain.states import Status

TZ = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # Friday 18:00 in Shanghai


def test_the_deadline_in_plain_words() -> None:
    assert plain_time(DUE, TZ) == "12月4日（星期五）18:00"
    before = datetime(2026, 12, 3, tzinfo=UTC)
    assert resolve_promise(Status.ACCEPTED, DUE, now=before, tz=TZ) == (
        "应于 12月4日（星期五）18:00 前办结。"
    )
    late = resolve_promise(Status.IN_PROGRESS, DUE, now=datetime(2026, 12, 5, tzinfo=UTC), tz=TZ)
    assert late is not None and "已超过办理期限" in late


def test_before_dispatch_and_after_resolution() -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)
    assert "正在确定承办单位" in resolve_promise(Status.REPORTED, None, now=now, tz=TZ)
    assert "正在确定承办单位" in resolve_promise(Status.RETURNED, DUE, now=now, tz=TZ)
    assert resolve_promise(Status.RESOLVED, DUE, now=now, tz=TZ) is None
    assert resolve_promise(Status.CLOSED, DUE, now=now, tz=TZ) is None
