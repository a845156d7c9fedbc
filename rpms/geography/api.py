"""Geography API.

`router` (mounted at /api/v1/cities, public): a city's districts with zone types, its active
responsibility units and their coverage.
`units_router` (mounted at /api/v1/units, signed-in city administrators, district officers; auditors
read): a unit's management record, merging, splitting, renaming (B4) and a subdistrict's zone type (B13).
"""
from datetime import datetime

from django.http import HttpResponse
from ninja import Router, Schema, Status

from rpms.accounts.models import Role
from rpms.core.api import auth_required, require_role

from . import selectors, services

# Mounted at /api/v1/cities (public geography of a city) and /api/v1/units (management) in config/api.py.
router = Router(tags=["区划与责任单元"])
units_router = Router(tags=["责任单元管理"])


class ErrorOut(Schema):
    code: str
    message: str


class DistrictOut(Schema):
    code: str
    name: str
    zone_type: str | None

    @staticmethod
    def resolve_zone_type(obj):
        return obj.zone_type or None


class SubdistrictBriefOut(Schema):
    code: str
    name: str


class UnitOut(Schema):
    id: int
    name: str
    district: str
    subdistricts: list[SubdistrictBriefOut]

    @staticmethod
    def resolve_district(obj):
        return obj.district.code

    @staticmethod
    def resolve_subdistricts(obj):
        return obj.current_subdistricts


class UncoveredUnitOut(Schema):
    id: int
    name: str
    district: str

    @staticmethod
    def resolve_district(obj):
        return obj.district.code


class CoverageOut(Schema):
    units: int
    covered: int
    uncovered: list[UncoveredUnitOut]


@router.get(
    "/{code}/districts", auth=None, response={200: list[DistrictOut], 404: ErrorOut}, summary="城市的区及功能区类型"
)
def districts(request, code: str):
    """城市的各区（按配置顺序），zone_type 为政策配置中的功能区类型代码，无则为 null。"""
    return selectors.district_list(selectors.city_get(code))


def _page_links(response, path: str, params: dict, *, page: int, pages: int) -> None:
    from urllib.parse import urlencode

    links = []
    if page < pages:
        links.append(f'<{path}?{urlencode({**params, "page": page + 1})}>; rel="next"')
    if page > 1:
        links.append(f'<{path}?{urlencode({**params, "page": page - 1})}>; rel="prev"')
    if links:
        response["Link"] = ", ".join(links)


@router.get(
    "/{code}/units", auth=None, response={200: list[UnitOut], 404: ErrorOut}, summary="城市的责任单元"
)
def units(request, response: HttpResponse, code: str, district: str | None = None, uncovered: bool = False,
          page: int = 1):
    """现行责任单元及其组成街道乡镇；district=区划代码 只看一个区；uncovered=1 只看尚无在聘责任规划师的单元。
    分页：每页至多 500 个（page=页码）；总数见响应头 X-Total-Count，下一页见 Link（rel="next"）。"""
    city = selectors.city_get(code)
    page = max(1, min(page, 10_000))
    found, total = selectors.unit_page(city=city, district_code=district, uncovered_only=uncovered, page=page)
    pages = max(1, -(-total // selectors.UNITS_PAGE_SIZE))
    response["X-Total-Count"] = str(total)
    params = {k: v for k, v in {"district": district or "", "uncovered": "1" if uncovered else ""}.items() if v}
    _page_links(response, f"/api/v1/cities/{code}/units", params, page=page, pages=pages)
    return found


@router.get("/{code}/coverage", auth=None, response={200: CoverageOut, 404: ErrorOut}, summary="责任单元覆盖情况")
def coverage(request, response: HttpResponse, code: str, district: str | None = None):
    """有在聘责任规划师的责任单元为已覆盖（B4：责任规划师应覆盖全市）。uncovered 至多列出前 500 个；
    未覆盖总数见响应头 X-Uncovered-Count，完整的分页列表见 Link（/cities/{code}/units?uncovered=1）。"""
    summary = selectors.coverage_summary(selectors.city_get(code), district_code=district,
                                         uncovered_limit=selectors.UNITS_PAGE_SIZE)
    response["X-Uncovered-Count"] = str(summary["uncovered_total"])
    params = {"uncovered": "1", **({"district": district} if district else {})}
    from urllib.parse import urlencode

    response["Link"] = f'</api/v1/cities/{code}/units?{urlencode(params)}>; rel="related"'
    return summary


# --- management --------------------------------------------------------------------------------------


class DistrictRefOut(Schema):
    code: str
    name: str


class SubdistrictOut(Schema):
    code: str
    name: str
    kind: str
    is_development_zone: bool
    is_statistical: bool
    zone_type: str | None

    @staticmethod
    def resolve_zone_type(obj):
        return obj.zone_type or None


class MembershipOut(Schema):
    subdistrict: SubdistrictBriefOut
    joined_at: datetime
    left_at: datetime | None


class HistoryOut(Schema):
    at: datetime
    actor: str
    action: str
    article: str
    summary: str
    before: dict | list | None
    after: dict | list | None

    @staticmethod
    def resolve_actor(obj):
        return obj.actor_repr


class UnitDetailOut(Schema):
    id: int
    name: str
    city: str
    district: DistrictRefOut
    active: bool
    dissolved_at: datetime | None
    subdistricts: list[SubdistrictOut]
    memberships: list[MembershipOut]
    history: list[HistoryOut]


def _unit_detail(unit) -> dict:
    return {
        "id": unit.pk,
        "name": unit.name,
        "city": unit.city.code,
        "district": unit.district,
        "active": unit.is_active,
        "dissolved_at": unit.dissolved_at,
        "subdistricts": unit.current_subdistricts,
        "memberships": unit.all_memberships,
        "history": selectors.unit_history(unit),
    }


class MergeIn(Schema):
    subdistricts: list[str]
    name: str


class SplitIn(Schema):
    groups: list[list[str]] | None = None


class RenameIn(Schema):
    name: str


class ZoneTypeIn(Schema):
    zone_type: str | None = None


class SubdistrictZoneOut(Schema):
    code: str
    name: str
    district: str
    zone_type_override: str | None
    zone_type: str | None

    @staticmethod
    def resolve_district(obj):
        return obj.district.code

    @staticmethod
    def resolve_zone_type_override(obj):
        return obj.zone_type_override or None

    @staticmethod
    def resolve_zone_type(obj):
        return obj.zone_type or None


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@units_router.get(
    "/{int:unit_id}", auth=auth_required, response={200: UnitDetailOut, **ERRORS}, summary="责任单元管理详情"
)
def unit_detail(request, unit_id: int):
    """组成街道乡镇的历次变动与操作日志；只有能管理该区的用户和审计员可见，其他情况 404。"""
    require_role(request, Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)
    return _unit_detail(selectors.unit_get_for_management(user=request.user, pk=unit_id))


@units_router.post("/merge", auth=auth_required, response={201: UnitDetailOut, **ERRORS}, summary="合并为一个责任单元")
def unit_merge(request, payload: MergeIn):
    """B4：将同一区的多个街道乡镇组成一个责任单元。"""
    require_role(request, Role.CITY_ADMIN, Role.DISTRICT_OFFICER)
    unit = services.unit_merge(
        actor=request.user, subdistricts=selectors.subdistricts_by_codes(payload.subdistricts), name=payload.name
    )
    return Status(201, _unit_detail(selectors.unit_get_for_management(user=request.user, pk=unit.pk)))


@units_router.post(
    "/{int:unit_id}/split", auth=auth_required, response={200: list[UnitOut], **ERRORS}, summary="拆分责任单元"
)
def unit_split(request, unit_id: int, payload: SplitIn | None = None):
    """B4：撤销该责任单元，默认每个街道乡镇各成一个单元；也可给出分组 groups（街道乡镇代码的列表的列表）。"""
    require_role(request, Role.CITY_ADMIN, Role.DISTRICT_OFFICER)
    unit = selectors.unit_get_for_management(user=request.user, pk=unit_id)
    groups = None
    if payload is not None and payload.groups is not None:
        groups = [selectors.subdistricts_by_codes(group) for group in payload.groups]
    created = services.unit_split(actor=request.user, unit=unit, groups=groups)
    return selectors.unit_list(city=unit.city, ids=[u.pk for u in created])


@units_router.patch(
    "/{int:unit_id}", auth=auth_required, response={200: UnitDetailOut, **ERRORS}, summary="责任单元更名"
)
def unit_rename(request, unit_id: int, payload: RenameIn):
    require_role(request, Role.CITY_ADMIN, Role.DISTRICT_OFFICER)
    unit = selectors.unit_get_for_management(user=request.user, pk=unit_id)
    services.unit_rename(actor=request.user, unit=unit, name=payload.name)
    return _unit_detail(selectors.unit_get_for_management(user=request.user, pk=unit_id))


@units_router.patch(
    "/subdistricts/{code}/zone-type",
    auth=auth_required,
    response={200: SubdistrictZoneOut, **ERRORS},
    summary="设置街道乡镇的功能区类型",
)
def subdistrict_zone_type(request, code: str, payload: ZoneTypeIn):
    """B13：市级管理员单独指定某街道乡镇的功能区类型（如昌平、房山的山区镇）；zone_type 为 null 或空串则恢复为所属区的类型。"""
    require_role(request, Role.CITY_ADMIN)
    subdistrict = services.subdistrict_zone_type_set(
        actor=request.user, subdistrict=selectors.subdistrict_get(code), zone_type=payload.zone_type or ""
    )
    return subdistrict
