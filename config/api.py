"""Assembles the JSON API at /api/v1/ from each bounded context's router."""
import logging

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import DataError, connection
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError as NinjaValidationError

from rpms.core.errors import DomainError, bad_input_error

logger = logging.getLogger("rpms.api")

api = NinjaAPI(
    title="责任规划师管理信息系统 API",
    version="1.0",
    description="RPMS JSON API. 错误响应统一为 {\"code\": ..., \"detail\": 中文说明, \"message\": 同 detail}。",
    urls_namespace="api",
)


def _error_body(code: str, message: str, **extra) -> dict:
    return {"code": code, "detail": message, "message": message, **extra}


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


def _bad_input(request, exc):
    """Bad input that surfaced as an exception (rpms.core.errors.bad_input_error): 4xx, never 500."""
    error = bad_input_error(exc)
    logger.warning("Bad input on %s: %r", request.path, exc)
    return api.create_response(request, error.as_dict(), status=error.status)


for _exc_class in (OverflowError, DataError, MultiPartParserError, UnicodeDecodeError, BadRequest, SuspiciousOperation):
    api.add_exception_handler(_exc_class, _bad_input)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    fields = []
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", []) if part not in ("query", "body", "path", "payload")]
        fields.append({"field": ".".join(loc), "error": err.get("type", "")})
    names = "、".join(f["field"] for f in fields if f["field"]) or "请求内容"
    return api.create_response(
        request,
        _error_body("invalid_input", f"请求参数有误：{names} 缺失或格式不正确。", details=fields),
        status=422,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return api.create_response(request, _error_body("unauthenticated", "未登录或令牌无效、已过期。"), status=401)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, _error_body("not_found", "记录不存在或您无权查看。"), status=404)


# ninja raises HttpError with English text for a few input problems; users get Chinese.
_HTTP_ERROR_ZH = {
    "Cannot parse request body": ("invalid_json", "请求体不是有效的 JSON。"),
    # SessionAuth(csrf=True) (rpms.core.api): a browser session's unsafe call without its CSRF token.
    "CSRF check Failed": ("csrf_failed", "请求缺少有效的 CSRF 令牌，请刷新页面后重试。"),
}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code, message = _HTTP_ERROR_ZH.get(str(exc), ("error", "请求无法处理。" if exc.status_code < 500 else "服务器内部错误。"))
    return api.create_response(request, _error_body(code, message), status=exc.status_code)


@api.get("/health", auth=None, tags=["系统"], summary="健康检查")
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except Exception:  # noqa: BLE001 - any database failure is reported, not raised
        database = "error"
    status = 200 if database == "ok" else 503
    return api.create_response(request, {"status": "ok" if database == "ok" else "degraded", "database": database}, status=status)


def _mount():
    from rpms.accounts.api import register_router
    from rpms.accounts.api import router as accounts_router
    from rpms.accounts.city_api import accounts_router as city_accounts_router, delegations_router
    from rpms.cities.api import router as cities_router
    from rpms.core.audit_api import router as audit_router
    from rpms.core.jobs_api import router as jobs_router
    from rpms.geography.api import router as geography_router, units_router
    from rpms.recruitment.api import router as recruitment_router
    from rpms.registry.api import router as registry_router
    from rpms.workdays.api import router as workdays_router
    from rpms.documents.api import router as documents_router
    from rpms.dispatch.api import router as dispatch_router
    from rpms.appointments.api import router as appointments_router
    from rpms.duties.api import router as duties_router
    from rpms.opinions.api import router as opinions_router
    from rpms.suggestions.api import router as suggestions_router
    from rpms.assessments.api import router as assessments_router
    from rpms.finance.api import router as finance_router
    from rpms.training.api import router as training_router
    from rpms.reports.api import router as reports_router
    from rpms.publicinfo.api import router as publicinfo_router
    from rpms.cases.api import router as cases_router
    from rpms.notifications.api import router as notifications_router

    api.add_router("/auth", accounts_router)
    api.add_router("/cities", cities_router)
    api.add_router("/cities", geography_router)
    api.add_router("/units", units_router)
    api.add_router("/workdays", workdays_router)
    api.add_router("/audit", audit_router)
    api.add_router("/jobs", jobs_router)
    api.add_router("/accounts", register_router)
    api.add_router("/accounts", city_accounts_router)  # issue #17 item 7
    api.add_router("/delegations", delegations_router)
    api.add_router("", recruitment_router)
    api.add_router("", registry_router)
    api.add_router("", documents_router)
    api.add_router("", dispatch_router)
    api.add_router("", appointments_router)
    api.add_router("", duties_router)
    api.add_router("", opinions_router)
    api.add_router("", suggestions_router)
    api.add_router("", assessments_router)
    api.add_router("", finance_router)
    api.add_router("", training_router)
    api.add_router("", reports_router)
    api.add_router("", publicinfo_router)
    api.add_router("", cases_router)
    api.add_router("", notifications_router)


_mount()
