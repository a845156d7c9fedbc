"""Geography pages for city administrators, district officers (their own districts) and auditors
(read-only): responsibility units (B4) and districts with their zone types (B13)."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from rpms.accounts.models import Role
from rpms.accounts.scoping import can_manage_district, visible_district_ids
from rpms.cities.models import City
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.web import act

from . import selectors, services
from .models import SubdistrictKind

PAGE_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)
EDIT_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_OFFICER)


def _page_city(request) -> City:
    """The city whose geography the user works on; 403 for roles without these pages."""
    user = request.user
    if not (user.is_superuser or user.role in PAGE_ROLES):
        raise Forbidden("您的角色无权使用区划与责任单元管理页面。")
    if user.city_id:
        return user.city
    if user.is_superuser or user.role == Role.AUDITOR:  # city-wide readers of every city choose one
        code = request.GET.get("city") or request.POST.get("city")
        cities = City.objects.filter(is_active=True)
        city = cities.filter(code=code).first() if code else cities.first()
        if city is None:
            raise NotFound("尚未配置任何城市。" if not code else f"城市“{code}”不存在。")
        return city
    raise Forbidden("您的账户尚未关联城市，请联系市级管理员。", code="no_city")


def _can_edit(user, district) -> bool:
    return (user.is_superuser or user.role in EDIT_ROLES) and can_manage_district(user, district)


def _visible_districts(user, city):
    ids = visible_district_ids(user, city)
    return [d for d in selectors.district_list(city) if ids is None or d.pk in ids]


def _zone_label(city, code: str) -> str:
    info = selectors.zone_type_info(city, code)
    # A code the city's policy no longer lists is not shown raw (issue #17 item 3).
    if info:
        return info.get("label") or "未命名的功能区类型"
    return "本市政策中已无此类型" if code else ""


def _district_from_param(districts, code):
    if not code:
        return districts[0] if len(districts) == 1 else None
    district = next((d for d in districts if d.code == code), None)
    if district is None:
        raise NotFound(f"没有可查看的区划代码为“{code}”的区。", code="district_not_found")
    return district


# --- units ------------------------------------------------------------------------------------------


def _unit_list_context(request, city, district_code: str | None):
    user = request.user
    districts = _visible_districts(user, city)
    district = _district_from_param(districts, district_code)
    covered = selectors.covered_unit_ids(city)
    counts, units, paging = selectors.unit_list_page(
        city=city, district=district, user=user, covered=covered,
        page=request.GET.get("page") if request.method == "GET" else 1,
    )
    for unit in units:
        unit.is_covered = unit.pk in covered
        unit.zone_label = _zone_label(city, unit.district.zone_type)
    context = {
        "city": city,
        "districts": districts,
        "district": district,
        "units": units,
        "counts": counts,
        "paging": paging,
        "can_merge": bool(district) and _can_edit(user, district),
        "merge_subdistricts": [],
    }
    if context["can_merge"]:
        context["merge_subdistricts"] = selectors.subdistrict_list(district=district)
    return context


@login_required
@require_GET
def unit_list(request):
    city = _page_city(request)
    context = _unit_list_context(request, city, request.GET.get("district"))
    return render(request, "geography/unit_list.html", context)


@login_required
@require_POST
def unit_merge(request):
    city = _page_city(request)
    district_code = request.POST.get("district", "")
    codes = request.POST.getlist("subdistricts")
    name = request.POST.get("name", "")

    def refused(exc):
        context = _unit_list_context(request, city, district_code)
        context.update({"error": exc.message, "form_name": name, "form_codes": set(codes)})
        return render(request, "geography/unit_list.html", context, status=exc.status)

    return act(
        request,
        lambda: services.unit_merge(actor=request.user, subdistricts=selectors.subdistricts_by_codes(codes), name=name),
        success=lambda unit: f"已组成责任单元“{unit.name}”。",
        redirect_to=lambda unit: reverse("geography:unit_detail", kwargs={"pk": unit.pk}),
        on_refusal=refused,
    )


def _unit_detail_context(request, pk: int):
    user = request.user
    _page_city(request)
    unit = selectors.unit_get_for_management(user=user, pk=pk)
    city = unit.city
    subdistricts = []
    for subdistrict in unit.current_subdistricts:
        info = selectors.zone_type_info(city, subdistrict.zone_type)
        subdistricts.append({"obj": subdistrict, "zone": info, "zone_code": subdistrict.zone_type})
    return {
        "unit": unit,
        "city": city,
        "subdistricts": subdistricts,
        "district_zone": selectors.zone_type_info(city, unit.district.zone_type),
        "memberships": unit.all_memberships,
        "history": selectors.unit_history(unit),
        "is_covered": unit.pk in selectors.covered_unit_ids(city),
        "can_edit": unit.is_active and _can_edit(user, unit.district),
        "can_split": unit.is_active and len(subdistricts) > 1 and _can_edit(user, unit.district),
    }


@login_required
@require_GET
def unit_detail(request, pk: int):
    return render(request, "geography/unit_detail.html", _unit_detail_context(request, pk))


def _unit_form_error(request, pk: int, exc: DomainError, **extra):
    context = _unit_detail_context(request, pk)
    context.update({"error": exc.message, **extra})
    return render(request, "geography/unit_detail.html", context, status=exc.status)


@login_required
@require_POST
def unit_split(request, pk: int):
    _page_city(request)
    unit = selectors.unit_get_for_management(user=request.user, pk=pk)
    # Custom grouping: each subdistrict gets a group number; equal numbers form one unit.
    numbers = {key[len("group_"):]: value.strip() for key, value in request.POST.items() if key.startswith("group_")}

    def split():
        groups = None
        if request.POST.get("mode") == "groups":
            if any(not value for value in numbers.values()) or not numbers:
                raise DomainError("请为每个街道乡镇填写分组号。", code="group_required")
            by_number: dict[str, list[str]] = {}
            for code, number in numbers.items():
                by_number.setdefault(number, []).append(code)
            groups = [selectors.subdistricts_by_codes(codes) for codes in by_number.values()]
        return services.unit_split(actor=request.user, unit=unit, groups=groups)

    return act(
        request, split,
        success=lambda created: f"已拆分为 {len(created)} 个责任单元：{'、'.join(u.name for u in created)}。",
        redirect_to=lambda _: f"{reverse('geography:unit_list')}?district={unit.district.code}",
        on_refusal=lambda exc: _unit_form_error(request, pk, exc, form_groups=numbers),
    )


@login_required
@require_POST
def unit_rename(request, pk: int):
    _page_city(request)
    unit = selectors.unit_get_for_management(user=request.user, pk=pk)
    name = request.POST.get("name", "")
    return act(request, lambda: services.unit_rename(actor=request.user, unit=unit, name=name), success="已更名。",
               redirect_to=reverse("geography:unit_detail", kwargs={"pk": pk}),
               on_refusal=lambda exc: _unit_form_error(request, pk, exc, form_name=name))


# --- districts and zone types ------------------------------------------------------------------------


@login_required
@require_GET
def district_list(request):
    city = _page_city(request)
    visible = visible_district_ids(request.user, city)
    districts = selectors.district_list(city)
    for district in districts:
        district.zone_label = _zone_label(city, district.zone_type)
        district.is_visible = visible is None or district.pk in visible
    return render(
        request,
        "geography/district_list.html",
        {"city": city, "districts": districts, "zone_types": services.zone_type_choices(city)},
    )


def _district_detail_context(request, code: str):
    city = _page_city(request)
    district = next((d for d in _visible_districts(request.user, city) if d.code == code), None)
    if district is None:
        raise NotFound(f"没有可查看的区划代码为“{code}”的区。", code="district_not_found")
    subdistricts = selectors.subdistrict_list(district=district)
    for subdistrict in subdistricts:
        subdistrict.zone_label = _zone_label(city, subdistrict.zone_type)
        subdistrict.kind_label = SubdistrictKind(subdistrict.kind).label
    user = request.user
    return {
        "city": city,
        "district": district,
        "district_zone": selectors.zone_type_info(city, district.zone_type),
        "subdistricts": subdistricts,
        "zone_types": services.zone_type_choices(city),
        "can_set_zone": user.is_superuser or (user.role == Role.CITY_ADMIN and user.city_id == city.pk),
        "can_manage": _can_edit(user, district),
    }


@login_required
@require_GET
def district_detail(request, code: str):
    return render(request, "geography/district_detail.html", _district_detail_context(request, code))


@login_required
@require_POST
def subdistrict_zone_type(request, code: str):
    context = _district_detail_context(request, code)
    target = request.POST.get("subdistrict", "")
    subdistrict = next((s for s in context["subdistricts"] if s.code == target), None)
    if subdistrict is None:
        raise NotFound(f"该区没有代码为“{target}”的街道乡镇。", code="subdistrict_not_found")
    return act(
        request,
        lambda: services.subdistrict_zone_type_set(
            actor=request.user, subdistrict=subdistrict, zone_type=request.POST.get("zone_type", "")
        ),
        success=f"已更新{subdistrict.name}的功能区类型。",
        redirect_to=reverse("geography:district_detail", kwargs={"code": code}),
        on_refusal=lambda exc: render(request, "geography/district_detail.html", {**context, "error": exc.message},
                                      status=exc.status),
    )
