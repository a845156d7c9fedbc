"""The annual statistics page (/statistics/) and its Excel workbook (/statistics/export/), B19(6).

City administrators and auditors choose the city (auditors without a city: any), the year and, optionally,
districts; district officers see their own districts only (see selectors.statistics_scope). Tables and
server-rendered SVG charts; each chart has a table with the same numbers."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rpms.core.errors import Forbidden, NotFound
from rpms.core.web import attempt

from . import charts, exports, selectors


def _request_city(request, cities):
    code = (request.GET.get("city") or "").strip()
    if code:
        city = next((c for c in cities if c.code == code), None)
        if city is None:
            raise NotFound(f"城市“{code[:32]}”不存在或您无权查看其统计。", code="city_not_found")
        return city
    own = next((c for c in cities if c.pk == request.user.city_id), None)
    return own or cities[0]


def _common(request):
    user = request.user
    if not (user.is_superuser or user.role in selectors.ALLOWED_ROLES):
        raise Forbidden("只有市级管理员、审计员和区级工作人员可以查看年度统计。")
    cities = selectors.statistics_cities(user)
    if not cities:
        raise Forbidden("您的账户未关联城市，无法查看年度统计。")
    city = _request_city(request, cities)
    district_codes = [code for code in request.GET.getlist("district") if code.strip()]
    return cities, city, district_codes


@login_required
@require_GET
def statistics_page(request):
    cities, city, district_codes = _common(request)
    today = selectors._today()
    years = selectors.statistics_years(city, today=today)
    year_text = (request.GET.get("year") or str(today.year)).strip()
    # Which districts the user may pick (raises for a user without any scope in this city).
    scope_districts, city_level = selectors.statistics_scope(user=request.user, city=city)
    choices = scope_districts if scope_districts is not None else list(city.districts.order_by("sort_order", "code"))
    computed = attempt(request, lambda: selectors.statistics_for_user(user=request.user, city=city, year=year_text,
                                                                      district_codes=district_codes))
    stats, error = computed.result, None if computed.accepted else computed.error
    context = {
        "cities": cities, "city": city, "years": years, "year_text": year_text[:8], "district_choices": choices,
        "selected_districts": set(district_codes), "stats": stats, "error": error, "city_level": city_level,
        "charts": charts.statistics_charts(stats) if stats else [],
        "appointment_columns": selectors.APPOINTMENT_COLUMNS,
        "export_query": request.GET.urlencode(),
    }
    return render(request, "reports/statistics.html", context)


@login_required
@require_GET
def statistics_export(request):
    """ONE workbook, a sheet per topic, for what the page shows."""
    _cities, city, district_codes = _common(request)
    year = request.GET.get("year") or str(selectors._today().year)
    stats = selectors.statistics_for_user(user=request.user, city=city, year=year, district_codes=district_codes)
    return exports.statistics_workbook_response(stats)
