"""Annual statistics API (B19(6)), mounted at the API root (/api/v1/):

- GET /cities/{code}/statistics?year=YYYY[&district=CODE…]         the year in numbers (JSON; see selectors)
- GET /cities/{code}/statistics/export?year=YYYY[&district=CODE…]  the same as ONE Excel workbook

City administrators of the city and auditors: the whole city (optionally narrowed to districts). District
officers: their own districts only; the city-level figures (pool, removals) are null and the total is the
sum of their districts. Other roles: 403. A district outside the caller's scope: 404. A bad year: 400."""
from typing import Any

from ninja import Query, Router, Schema

from rpms.cities.selectors import city_get
from rpms.core.api import auth_required, require_role

from . import exports, selectors

router = Router(tags=["年度统计"])


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _stats(request, code: str, year: str | None, district: list[str] | None) -> dict:
    require_role(request, *selectors.ALLOWED_ROLES)
    city = city_get(code)
    if not year:
        from rpms.core.errors import DomainError

        raise DomainError("请指定统计年度（year=YYYY）。", code="year_required")
    return selectors.statistics_for_user(user=request.user, city=city, year=year, district_codes=district or ())


@router.get("/cities/{code}/statistics", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="年度统计（各区与合计）")
def city_statistics(request, code: str, year: str | None = None, district: Query[list[str]] = None):
    return _stats(request, code, year, district)


@router.get("/cities/{code}/statistics/export", auth=auth_required, response={200: None, **ERRORS},
            summary="年度统计 Excel 工作簿（每个主题一张工作表）")
def city_statistics_export(request, code: str, year: str | None = None, district: Query[list[str]] = None):
    return exports.statistics_workbook_response(_stats(request, code, year, district))
