"""One domain error type with a stable code and a Chinese message; views and the API map it to 4xx."""


class DomainError(Exception):
    status = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, details=None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if status is not None:
            self.status = status
        self.details = details

    def as_dict(self) -> dict:
        # `detail` and `message` carry the same Chinese text: integrations read either.
        data = {"code": self.code, "detail": self.message, "message": self.message}
        if self.details is not None:
            data["details"] = self.details
        return data


class NotFound(DomainError):
    """Also used when a record exists but lies outside the user's scope: we do not reveal it."""

    status = 404
    default_code = "not_found"

    def __init__(self, message: str = "记录不存在或您无权查看。", **kwargs):
        super().__init__(message, **kwargs)


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"

    def __init__(self, message: str = "您的角色无权执行此操作。", **kwargs):
        super().__init__(message, **kwargs)


class Conflict(DomainError):
    status = 409
    default_code = "conflict"


def bad_input_error(exc: BaseException) -> DomainError | None:
    """The client's fault behind an exception raised while reading or using a request, as a DomainError
    with a Chinese message — or None when `exc` is not one. One table for the API and the site:
    - a number no database (or `datetime`) can hold: OverflowError, and DataError from the database;
    - a body that cannot be parsed: multipart without a boundary or cut short, text that is not UTF-8;
    - a body over the limits of settings (DATA_UPLOAD_MAX_*): too big (413), too many fields or files."""
    from django.core.exceptions import (
        BadRequest,
        RequestDataTooBig,
        SuspiciousOperation,
        TooManyFieldsSent,
        TooManyFilesSent,
    )
    from django.db import DataError
    from django.http.multipartparser import MultiPartParserError

    if isinstance(exc, OverflowError):
        return DomainError("请求中的数值超出允许范围。", code="number_out_of_range")
    if isinstance(exc, DataError):
        return DomainError("提交的数据超出允许的范围或格式（如数值过大、文字过长）。", code="invalid_data")
    if isinstance(exc, MultiPartParserError):
        return DomainError("上传内容的格式有误：multipart/form-data 请求缺少分隔符（boundary）或内容不完整。",
                           code="invalid_multipart")
    if isinstance(exc, UnicodeDecodeError):
        return DomainError("请求内容不是有效的 UTF-8 文本。", code="invalid_encoding")
    if isinstance(exc, RequestDataTooBig):
        return DomainError("请求内容过大，超过系统允许的上限。", code="request_too_large", status=413)
    if isinstance(exc, TooManyFieldsSent):
        return DomainError("表单字段过多，超过系统允许的上限。", code="too_many_fields")
    if isinstance(exc, TooManyFilesSent):
        return DomainError("上传的文件过多，超过系统允许的上限。", code="too_many_files")
    if isinstance(exc, (BadRequest, SuspiciousOperation)):
        return DomainError("请求无法处理：请求内容不符合要求。", code="bad_request")
    return None
