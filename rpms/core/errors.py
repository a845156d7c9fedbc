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
