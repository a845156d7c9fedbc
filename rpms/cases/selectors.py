"""Reads for outstanding cases. Public reads return PUBLISHED cases only; staff reads are scoped:
city administrators and auditors see their city's cases, district officers their districts', a planner
its own. Anything else is 404."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q

from rpms.accounts.models import Role
from rpms.accounts.scoping import role_scope_q
from rpms.appointments.models import Appointment
from rpms.cities.models import City
from rpms.core import clock
from rpms.core.errors import NotFound
from rpms.geography.models import District, ResponsibilityUnit, UnitMembership

from .models import Case, CasePhoto, CaseStatus

PUBLIC_PAGE_SIZE = 12
STAFF_PAGE_SIZE = 30
STAFF_ROLES = (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER, Role.PLANNER)


def _photos() -> Prefetch:
    return Prefetch("photos", queryset=CasePhoto.objects.order_by("sort_order", "id"))


def _base():
    return Case.objects.select_related("city__policy", "district", "unit", "planner").prefetch_related(_photos())


# --- public ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicFilters:
    city: City | None = None
    district: District | None = None
    zone_type: str = ""
    duty_category: str = ""


def public_filters_parse(params) -> PublicFilters:
    """Filters from a query string; unknown values are ignored (a public page never errors on them)."""
    city = None
    code = str(params.get("city", "") or "").strip()
    if code:
        city = City.objects.select_related("policy").filter(code=code, is_active=True).first()
    district = None
    raw = str(params.get("district", "") or "").strip()
    if raw:
        queryset = District.objects.select_related("city")
        if city is not None:
            queryset = queryset.filter(city=city)
        district = queryset.filter(code=raw[:12]).first()
        if district is not None and city is None:
            city = City.objects.select_related("policy").filter(pk=district.city_id).first()
    zone_type = str(params.get("zone_type", "") or "").strip()[:32]
    duty = str(params.get("duty_category", "") or params.get("duty", "") or "").strip()[:50]
    return PublicFilters(city=city, district=district, zone_type=zone_type, duty_category=duty)


def public_case_list(filters: PublicFilters | None = None):
    filters = filters or PublicFilters()
    queryset = _base().published()
    if filters.city is not None:
        queryset = queryset.filter(city=filters.city)
    if filters.district is not None:
        queryset = queryset.filter(district=filters.district)
    if filters.zone_type:
        queryset = queryset.filter(zone_type=filters.zone_type)
    if filters.duty_category:
        queryset = queryset.filter(duty_category=filters.duty_category)
    return queryset.order_by("-published_at", "-id")


def public_case_get(pk) -> Case:
    case = _base().published().filter(pk=pk).first()
    if case is None:
        raise NotFound("案例不存在或尚未发布。")
    return case


def public_filter_options(filters: PublicFilters) -> dict:
    """The choices of the public filter form: cities with published cases, the districts with published
    cases, and the zone types and duty categories of the city (all cities' when none is chosen)."""
    published = Case.objects.published()
    city_ids = set(published.values_list("city_id", flat=True))
    cities = list(City.objects.filter(is_active=True).select_related("policy").order_by("sort_order", "code"))
    shown = [filters.city] if filters.city is not None else [c for c in cities if c.pk in city_ids] or cities
    district_ids = published.filter(city__in=shown).values("district_id")
    districts = list(District.objects.filter(pk__in=district_ids).select_related("city").order_by("city__sort_order", "sort_order", "code"))
    groups = []
    for city in shown:
        policy = getattr(city, "policy", None)
        groups.append({
            "city": city,
            "zone_types": [{"code": z["code"], "label": z["label"]} for z in (policy.zone_types if policy else []) or []],
            "duty_categories": [{"code": d["code"], "label": d["label"]} for d in (policy.duty_categories if policy else []) or []],
            "districts": [d for d in districts if d.city_id == city.pk],
        })
    return {"cities": cities, "groups": groups, "multi_city": len(shown) > 1}


# --- staff -------------------------------------------------------------------------------------------------


def _scope_q(user) -> Q | None:
    """None: everything (superuser); else a Q limiting cases to what the user may see."""
    return role_scope_q(user, district="district",
                        rules={Role.PLANNER: lambda planner: Q(author=planner) | Q(planner__user=planner)})


def case_list(*, user, status: str = ""):
    # the policy profile once per city (a prefetch), not joined into every row (issue #15)
    queryset = (Case.objects.select_related("city", "district", "unit", "planner", "author")
                .prefetch_related(_photos(), "city__policy"))
    scope = _scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if status in CaseStatus.values:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-submitted_at", "-id")


def case_get(*, user, pk) -> Case:
    queryset = _base().select_related("author", "decided_by").filter(pk=pk)
    scope = _scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    case = queryset.first()
    if case is None:
        raise NotFound("案例不存在或您无权查看。")
    return case


def case_photo(*, user, case_pk, photo_pk) -> CasePhoto:
    """A photo: anyone's once its case is published; before, only those who may see the case."""
    photo = CasePhoto.objects.select_related("case").filter(pk=photo_pk, case_id=case_pk).first()
    if photo is None:
        raise NotFound("图片不存在或您无权查看。")
    if not photo.case.is_public:
        case_get(user=user, pk=case_pk)
    return photo


def planner_units(user) -> list[ResponsibilityUnit]:
    """The units the planner (or team) acting as `user` serves or served: where it may submit a case."""
    if getattr(user, "role", "") != Role.PLANNER:
        return []
    unit_ids = Appointment.objects.filter(planner__user=user, start__lte=clock.today()).values("unit_id")
    return list(
        ResponsibilityUnit.objects.filter(pk__in=unit_ids).select_related("district", "city__policy")
        .prefetch_related(Prefetch(
            "memberships", queryset=UnitMembership.objects.filter(left_at__isnull=True).select_related("subdistrict__district"),
            to_attr="active_memberships",
        ))
        .order_by("district__sort_order", "name", "pk")
    )


def can_review(user, case: Case) -> bool:
    return getattr(user, "is_authenticated", False) and (
        user.is_superuser or (user.role == Role.CITY_ADMIN and user.city_id == case.city_id)
    )


def is_author(user, case: Case) -> bool:
    return getattr(user, "is_authenticated", False) and (
        case.author_id == user.pk or (case.planner.user_id is not None and case.planner.user_id == user.pk)
    )


def pending_items(user) -> list:
    """The cases' lines on the role home pages: the city's review queue; a planner's returned cases."""
    from django.urls import reverse

    from rpms.core.pending import PendingItem

    if not getattr(user, "is_authenticated", False):
        return []
    if user.role == Role.CITY_ADMIN and user.city_id:
        count = Case.objects.filter(city_id=user.city_id, status=CaseStatus.SUBMITTED).count()
        if count:
            return [PendingItem(title="优秀案例待审核", url=reverse("cases:manage_list") + "?status=submitted",
                                count=count, level="info")]
    if user.role == Role.PLANNER:
        count = Case.objects.filter(Q(author=user) | Q(planner__user=user), status=CaseStatus.RETURNED).count()
        if count:
            return [PendingItem(title="优秀案例被退回，待修改", url=reverse("cases:manage_list") + "?status=returned",
                                count=count, level="warn")]
    return []
