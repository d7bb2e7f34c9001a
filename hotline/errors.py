"""Errors a caller can cause. The API renders them as problem+json, pages as friendly Chinese."""

from __future__ import annotations


class HotlineError(Exception):
    status = 400
    code = "bad-request"
    title = "请求无效"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(HotlineError):
    pass


class Unauthorized(HotlineError):
    status = 401
    code = "unauthorized"
    title = "需要有效的访问令牌"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="hotline"'})


class Forbidden(HotlineError):
    status = 403
    code = "forbidden"
    title = "无权执行此操作"


class NotFound(HotlineError):
    status = 404
    code = "not-found"
    title = "未找到"


class Conflict(HotlineError):
    status = 409
    code = "conflict"
    title = "与当前状态冲突"


class PayloadTooLarge(HotlineError):
    status = 413
    code = "payload-too-large"
    title = "提交的内容过大"


class UnsupportedMedia(HotlineError):
    status = 415
    code = "unsupported-media-type"
    title = "不支持的文件类型"


class ValidationFailed(HotlineError):
    status = 422
    code = "validation-error"
    title = "提交的内容有误"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None) -> None:
        super().__init__(detail or "请根据各字段的提示修改后重新提交", errors=errors)
