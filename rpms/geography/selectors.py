"""Geography reads. Districts, subdistricts and the active units with their subdistricts are public
(the portal shows who serves each street); a unit's management record (membership history, audit
rows) is visible only to those who may manage its district and to city-wide readers (auditors)."""
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Prefetch, Q

from rpms.accounts.scoping import can_manage_district, district_filter, is_city_wide
from rpms.cities.models import City
from rpms.core.errors import DomainError, NotFound
from rpms.core.models import ActionLog

from .models import District, ResponsibilityUnit, Subdistrict, UnitMembership

UNIT_OBJECT_TYPE = ResponsibilityUnit._meta.label_lower
SEARCH_LIMIT_MAX = 50


def city_get(code: str) -> City:
    city = City.objects.filter(code=code, is_active=True).first()
    if city is None:
        raise NotFound(f"城市“{code}”不存在。", code="city_not_found")
    return city


def district_get(*, city, code: str) -> District:
    district = District.objects.filter(city=city, code=code).select_related("city").first()
    if district is None:
        raise NotFound(f"{city.name}没有区划代码为“{code}”的区。", code="district_not_found")
    return district


def district_list(city) -> list[District]:
    """The city's districts in their configured order, each with `subdistrict_count` and
    `active_unit_count`."""
    return list(
        District.objects.filter(city=city).annotate(
            subdistrict_count=Count("subdistricts", distinct=True),
            active_unit_count=Count("units", filter=Q(units__dissolved_at__isnull=True), distinct=True),
        )
    )


def _active_memberships_prefetch() -> Prefetch:
    return Prefetch(
        "memberships",
        queryset=UnitMembership.objects.filter(left_at__isnull=True)
        .select_related("subdistrict")
        .order_by("subdistrict__code"),
        to_attr="active_memberships",
    )


def _active_units(city):
    return (
        ResponsibilityUnit.objects.filter(city=city, dissolved_at__isnull=True)
        .select_related("district")
        .prefetch_related(_active_memberships_prefetch())
    )


def unit_list(
    *, city, district_code: str | None = None, user=None, ids: list[int] | None = None
) -> list[ResponsibilityUnit]:
    """Active units of the city (optionally of one district, or with the given ids), each with
    `current_subdistricts` (two queries whatever the number of units). With `user`, limited to the
    districts that user may see."""
    units = _active_units(city)
    if district_code:
        units = units.filter(district=district_get(city=city, code=district_code))
    if ids is not None:
        units = units.filter(pk__in=ids)
    if user is not None:
        units = units.filter(district_filter(user, city))
    return list(units)


def unit_list_page(*, city, district: District | None = None, user=None, covered: set[int], page=1,
                   page_size: int = 100) -> tuple[dict, list[ResponsibilityUnit], dict]:
    """The staff list of active units, one page at a time (issue #15: a city of 3,500 units was one 1 MB page).

    → (counts, units of the page, paging). The counts cover every unit the filter selects — units, their
    subdistricts, those made of several, covered and uncovered — from ONE narrow query; the page's units are
    loaded with their subdistricts (two queries). `covered` is `covered_unit_ids(city)`; `district` one the caller has already
    checked the user may see."""
    from rpms.core.params import page_number

    units = ResponsibilityUnit.objects.filter(city=city, dissolved_at__isnull=True)
    if district is not None:
        units = units.filter(district=district)
    if user is not None:
        units = units.filter(district_filter(user, city))
    # One narrow query (unit id, its number of subdistricts) for every unit the filter selects; the counts are taken
    # from it here. (An aggregate with `pk IN (covered…)` compared each unit with thousands of ids: 0.2 s at 10×.)
    sizes = dict(units.order_by().values("pk").annotate(n_members=Count("memberships", filter=Q(memberships__left_at__isnull=True)))
                 .values_list("pk", "n_members"))
    totals = {"units": len(sizes), "subdistricts": sum(sizes.values()),
              "multi": sum(1 for n in sizes.values() if n > 1), "covered": len(sizes.keys() & covered)}
    counts = {**totals, "uncovered": totals["units"] - totals["covered"]}
    pages = max(1, -(-counts["units"] // page_size))
    number = min(page_number(page), pages)
    rows = list(units.select_related("district").prefetch_related(_active_memberships_prefetch())
                [(number - 1) * page_size: number * page_size])
    return counts, rows, {"number": number, "pages": pages, "has_previous": number > 1, "has_next": number < pages,
                          "previous": number - 1, "next": number + 1, "size": page_size}


def covered_unit_ids(city) -> set[int]:
    """Ids of the city's active units that have an active appointment (B4: the whole city is to be
    covered).

    "Active" is computed from the appointments' dates (`Appointment.objects.active()`, today), so a
    term that has run out or a planner who has left no longer covers the unit. Answered by rpms.appointments
    (a higher layer) through the COVERED_UNITS hook."""
    from rpms.core import hooks

    covered: set[int] = set()
    for answer in hooks.run(hooks.COVERED_UNITS, city=city):
        covered |= set(answer or ())
    return covered


UNCOVERED_SHOWN = 100
UNITS_PAGE_SIZE = 500


def units_filtered(city, *, district_code: str | None = None, user=None):
    units = ResponsibilityUnit.objects.filter(city=city, dissolved_at__isnull=True)
    if district_code:
        units = units.filter(district=district_get(city=city, code=district_code))
    if user is not None:
        units = units.filter(district_filter(user, city))
    return units


def coverage_summary(city, *, user=None, district_code: str | None = None, uncovered_limit: int | None = None) -> dict:
    """{"units": N, "covered": M, "uncovered": [ResponsibilityUnit, ...], "uncovered_total": N - M} over the
    active units; with `uncovered_limit` only the first that many uncovered units are loaded (in the units'
    order), the count is still of all. Three queries whatever the number of units: the units' ids, the
    covered ids (the appointments' hook), the uncovered units shown (with their district)."""
    ordered_ids = list(units_filtered(city, district_code=district_code, user=user).values_list("pk", flat=True))
    covered = covered_unit_ids(city)
    uncovered_ids = [pk for pk in ordered_ids if pk not in covered]
    shown_ids = uncovered_ids if uncovered_limit is None else uncovered_ids[:uncovered_limit]
    uncovered = list(ResponsibilityUnit.objects.filter(pk__in=shown_ids).select_related("district")) if shown_ids else []
    return {"units": len(ordered_ids), "covered": len(ordered_ids) - len(uncovered_ids), "uncovered": uncovered,
            "uncovered_total": len(uncovered_ids)}


def unit_page(*, city, district_code: str | None = None, uncovered_only: bool = False, page: int = 1,
              page_size: int | None = None) -> tuple[list[ResponsibilityUnit], int]:
    """(a page of the city's active units, in their order, with `current_subdistricts`; how many there are).
    `uncovered_only`: those without an appointment in force. Three queries whatever the number of units."""
    page_size = page_size or UNITS_PAGE_SIZE
    units = units_filtered(city, district_code=district_code)
    if uncovered_only:
        covered = covered_unit_ids(city)
        ids = [pk for pk in units.values_list("pk", flat=True) if pk not in covered]
        total = len(ids)
        start = (page - 1) * page_size
        chosen = ids[start:start + page_size]
        return (list(_active_units(city).filter(pk__in=chosen)) if chosen else []), total
    total = units.count()
    start = (page - 1) * page_size
    return list(_active_units(city).filter(pk__in=units.values("pk"))[start:start + page_size]), total


def unit_get_for_management(*, user, pk: int) -> ResponsibilityUnit:
    """A unit (active or dissolved) with all its memberships, for those who may manage its district
    and city-wide readers; anyone else gets NotFound, whether or not it exists."""
    unit = (
        ResponsibilityUnit.objects.select_related("district", "city")
        .prefetch_related(
            _active_memberships_prefetch(),
            Prefetch(
                "memberships",
                queryset=UnitMembership.objects.select_related("subdistrict").order_by(
                    "joined_at", "subdistrict__code"
                ),
                to_attr="all_memberships",
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if unit is None or not (can_manage_district(user, unit.district) or is_city_wide(user, unit.city)):
        raise NotFound()
    return unit


def unit_history(unit: ResponsibilityUnit) -> list[ActionLog]:
    """The audit rows about this unit, oldest first: its own rows (rename, split, the merge that formed
    it), the merges that took its subdistricts, the split that formed it and the default creation.

    Every unit row names the units it touched in `after["unit_ids"]`; the candidates are the rows of
    units that ever shared a subdistrict with this one (few), filtered on that list."""
    subdistrict_ids = UnitMembership.objects.filter(unit=unit).values("subdistrict_id")
    related_ids = set(
        UnitMembership.objects.filter(subdistrict_id__in=subdistrict_ids).values_list("unit_id", flat=True)
    ) | {unit.pk}
    rows = ActionLog.objects.filter(
        Q(object_type=UNIT_OBJECT_TYPE, object_id__in=[str(pk) for pk in related_ids])
        | Q(action="geography.units_create_default", city_code=unit.city.code)
    ).select_related("actor").order_by("at", "id")
    own = str(unit.pk)
    return [
        row
        for row in rows
        if (row.object_type == UNIT_OBJECT_TYPE and row.object_id == own)
        or unit.pk in ((row.after or {}).get("unit_ids") or [])
    ]


def subdistrict_search(*, q: str, city=None, limit: int = 20) -> list[Subdistrict]:
    """Subdistricts whose name contains `q` (e.g. "学院" finds 学院路街道), each with `current_unit`
    (None when in no active unit). Public: used by "find my planner". Two queries at most."""
    q = (q or "").strip()
    if not q:
        return []
    limit = max(1, min(int(limit), SEARCH_LIMIT_MAX))
    found = Subdistrict.objects.filter(name__contains=q).select_related("district", "district__city")
    if city is not None:
        found = found.filter(district__city=city)
    found = found.order_by("district__city__sort_order", "district__sort_order", "code")[:limit]
    return _with_current_unit(found)


def subdistrict_list(*, district: District) -> list[Subdistrict]:
    """The district's subdistricts by code, each with `current_unit` (None when in no active unit)."""
    return _with_current_unit(district.subdistricts.select_related("district").order_by("code"))


def _with_current_unit(subdistricts) -> list[Subdistrict]:
    result = list(
        subdistricts.prefetch_related(
            Prefetch(
                "memberships",
                queryset=UnitMembership.objects.filter(left_at__isnull=True).select_related("unit"),
                to_attr="active_memberships",
            )
        )
    )
    for subdistrict in result:
        memberships = subdistrict.active_memberships
        subdistrict.current_unit = memberships[0].unit if memberships else None
    return result


def zone_type_info(city, code: str) -> dict | None:
    """The policy's entry for a zone type code ({"code", "label", "focus"}), or None."""
    if not code:
        return None
    try:
        return city.policy.zone_type(code)
    except ObjectDoesNotExist:
        return None


def subdistricts_by_codes(codes: list[str]) -> list[Subdistrict]:
    """The subdistricts with these codes, in the given order; unknown codes → DomainError (400)."""
    codes = [str(code).strip() for code in codes if str(code).strip()]
    found = {s.code: s for s in Subdistrict.objects.filter(code__in=codes).select_related("district", "district__city")}
    missing = [code for code in codes if code not in found]
    if missing:
        raise DomainError(f"街道乡镇代码不存在：{'、'.join(missing)}。", code="unknown_subdistrict")
    return [found[code] for code in dict.fromkeys(codes)]


def subdistrict_get(code: str) -> Subdistrict:
    subdistrict = Subdistrict.objects.select_related("district", "district__city").filter(code=code).first()
    if subdistrict is None:
        raise NotFound(f"街道乡镇代码“{code}”不存在。", code="subdistrict_not_found")
    return subdistrict


# --- lookups by what people type (spreadsheet imports) --------------------------------------------------


def district_lookup(city) -> dict[str, tuple[int, str]]:
    """{folded name, code or name without 区/县/市: (district id, name)} for the city's districts, so
    that "海淀区", "海淀" and "110108" all find Haidian."""
    import re

    from rpms.core.spreadsheet import fold

    table = {}
    for district in District.objects.filter(city=city).only("id", "code", "name"):
        entry = (district.pk, district.name)
        table[fold(district.name)] = entry
        table[district.code] = entry
        short = re.sub(r"(区|县|市)$", "", district.name)
        if len(short) >= 2:
            table.setdefault(short, entry)
    return table


def unit_lookup(city) -> dict[tuple[int, str] | str, ResponsibilityUnit]:
    """The city's units that are not dissolved, found by (district id, folded unit name), (district id,
    folded name of one of its current subdistricts) or a current subdistrict's code. Two queries."""
    from rpms.core.spreadsheet import fold

    table: dict = {}
    units = _active_units(city).select_related("city__policy")
    for unit in units:
        table.setdefault((unit.district_id, fold(unit.name)), unit)
        for subdistrict in unit.current_subdistricts:
            table.setdefault((unit.district_id, fold(subdistrict.name)), unit)
            table.setdefault(subdistrict.code, unit)
    return table
