"""The public site and each role's home page at "/"."""
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rpms.accounts.models import Role
from rpms.appointments.selectors import uncovered_by_district
from rpms.core.roles import ADMIN_ROLES
from rpms.publicinfo import pagecache

from . import selectors

UNCOVERED_SHOWN_PER_DISTRICT = 12  # the home page names the first units of each district, then links to the list


def _lookup_context(request, cities=None) -> dict:
    cities = cities if cities is not None else selectors.public_cities()
    city_code = request.GET.get("city", "").strip()
    city = next((c for c in cities if c.code == city_code), None)
    raw_query = request.GET.get("q", "")
    lookup = selectors.planner_lookup(q=raw_query, city=city)
    return {
        "lookup": lookup,
        "searched": "q" in request.GET,
        "cities": cities,
        "selected_city": city,
        "search_limit": selectors.SEARCH_DEFAULT_LIMIT,
        "examples": selectors.search_examples([city] if city else cities),
    }


@require_GET
def find_planner(request):
    """找到我的责任规划师: open to everyone, signed in or not. An anonymous visitor's page is kept in the shared
    cache per (city, search words) until an act changes what the city shows (rpms.publicinfo.pagecache)."""
    cities = selectors.public_cities_cached()
    city_code = request.GET.get("city", "").strip()
    city = next((c for c in cities if c.code == city_code), None)
    key = f"find:{city.code if city else ''}:{int('q' in request.GET)}:{selectors.normalise_query(request.GET.get('q', ''))}"
    return pagecache.cached_page(
        request, scopes=pagecache.city_scopes([city.pk] if city else [c.pk for c in cities]) or ["public:None"],
        key=key, render=lambda: render(request, "portal/home_public.html", _lookup_context(request, cities)),
    )


@require_GET
def home(request):
    user = request.user
    if not user.is_authenticated:
        return find_planner(request)
    role = user.role
    context = {"role": role}
    if role == Role.CITY_ADMIN:
        city = user.city
        coverage, uncovered = None, []
        if city:
            # Coverage is public information: kept in the city's public scope, which every act on appointments,
            # units, subdistricts and districts bumps (rpms.publicinfo.invalidation), per day (terms run by date).
            from rpms.core import clock, pubcache

            coverage, uncovered = pubcache.get_or_build(
                pubcache.public_scope(city.pk), f"home-coverage:{clock.today().isoformat()}",
                lambda: (selectors.coverage_overview(city), uncovered_by_district(city, limit=UNCOVERED_SHOWN_PER_DISTRICT)),
            )
        context.update(city=city, coverage=coverage, uncovered_by_district=uncovered,
                       pending=selectors.todo_items(user))
        return render(request, "portal/home_city_admin.html", context)
    if role == Role.DISTRICT_OFFICER:
        units, units_total = selectors.officer_units_shown(user)
        context.update(districts=selectors.officer_districts(user), units=units, units_total=units_total,
                       pending=selectors.todo_items(user))
        return render(request, "portal/home_district_officer.html", context)
    if role == Role.HIRING_ENTITY:
        context.update(subdistricts=selectors.entity_subdistricts(user), pending=selectors.todo_items(user))
        return render(request, "portal/home_hiring_entity.html", context)
    if role == Role.PLANNER:
        context.update(planner=selectors.planner_profile(user), pending=selectors.todo_items(user))
        return render(request, "portal/home_planner.html", context)
    if role in (Role.AUDITOR, Role.AUDIT_ADMIN):  # the audit administrator reads the trail of every city
        context.update(pending=selectors.todo_items(user) if role == Role.AUDITOR else [])
        return render(request, "portal/home_auditor.html", context)
    if role in ADMIN_ROLES:
        # 三权分立: an administrator's home shows its own pages and no institution work.
        return render(request, "portal/home_administrator.html", context)
    return render(request, "portal/home.html", context)
