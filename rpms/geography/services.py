"""Geography writes: loading the division tables, zone-type overrides (B13) and forming, splitting and
renaming responsibility units (B4). Each function is one act: atomic, validated, one audit row.

`actor=None` means the system (management commands, seeding); views and the API always pass the
signed-in user, so an anonymous request never reaches a write unchecked."""
from collections import defaultdict

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction

from rpms.accounts.models import Role
from rpms.accounts.scoping import can_manage_district
from rpms.core import clock, hooks, pubcache
from rpms.core.audit import audit_log
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound

from .divisions import classify_subdistrict, is_development_zone_name, read_districts, read_subdistricts
from .models import District, ResponsibilityUnit, Subdistrict, UnitMembership

UNIT_MANAGER_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_OFFICER)
UNIT_NAME_MAX = ResponsibilityUnit._meta.get_field("name").max_length


# --- helpers ---------------------------------------------------------------------------------------


def _full_clean(instance, *, exclude=None, bulk: bool = False) -> None:
    """`full_clean()` with the Django messages turned into one Chinese DomainError.

    In bulk paths the foreign keys are excluded (they point at rows just read or created, and checking
    them costs one query per row) and uniqueness is left to the database constraints."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=not bulk, validate_constraints=not bulk)
    except ValidationError as exc:
        parts = []
        for field, messages in exc.message_dict.items():
            try:
                label = str(instance._meta.get_field(field).verbose_name)
            except Exception:  # noqa: BLE001 - NON_FIELD_ERRORS and the like carry no label
                label = ""
            parts.extend(f"{label}：{message}" if label else message for message in messages)
        raise DomainError("；".join(parts), code="invalid") from exc


def zone_type_choices(city) -> list[dict]:
    """The city's zone types from its policy profile (code, label, focus); [] when it has none."""
    try:
        return list(city.policy.zone_types or [])
    except ObjectDoesNotExist:
        return []


def _zone_type_article(city, zone_type: str) -> str:
    """The article the city's policy gives for a zone type (B13 in Beijing); "" where it gives none."""
    policy = getattr(city, "policy", None)
    item = policy.zone_type(zone_type) if policy is not None and zone_type else None
    return (item or {}).get("article", "")


def _coverage_article(city) -> str:
    """The city's article for covering its area with responsibility units (B4 / P6(2))."""
    from rpms.cities.selectors import policy_article

    return policy_article(city, "coverage") if hasattr(city, "policy") else ""


def _check_zone_type(city, zone_type: str) -> None:
    if not zone_type:
        return
    try:
        policy = city.policy
    except ObjectDoesNotExist:
        raise DomainError(f"{city.name}尚未配置政策，不能设置功能区类型。", code="policy_missing") from None
    choices = {item.get("code"): item.get("label", item.get("code")) for item in policy.zone_types or []}
    if zone_type not in choices:
        allowed = "、".join(f"{code}（{label}）" for code, label in choices.items()) or "无（该城市未设功能区类型）"
        raise DomainError(
            f"功能区类型“{zone_type}”不在{city.name}的政策配置中。可选：{allowed}。", code="unknown_zone_type"
        )


def _ensure_unit_manager_role(actor) -> None:
    if actor is None:
        return
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录。", code="login_required")
    if not actor.is_superuser and actor.role not in UNIT_MANAGER_ROLES:
        raise Forbidden("只有市级管理员和区级工作人员可以调整责任单元。")


def _ensure_can_manage_units(actor, district: District) -> None:
    """B4: city administrators and the district's officers shape its units. Other roles → 403;
    an officer of another district → 404 (the unit's management record is not revealed)."""
    _ensure_unit_manager_role(actor)
    if actor is not None and not can_manage_district(actor, district):
        raise NotFound()


def _unit_picture(unit: ResponsibilityUnit, subdistricts) -> dict:
    return {
        "id": unit.pk,
        "name": unit.name,
        "district": unit.district.code,
        "subdistricts": sorted(s.code for s in subdistricts),
    }


def _group_name(subdistricts: list[Subdistrict]) -> str:
    name = "、".join(s.name for s in subdistricts)
    if len(name) > UNIT_NAME_MAX:
        name = f"{subdistricts[0].name}等{len(subdistricts)}个街道乡镇"
    return name


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写责任单元名称。", code="name_required")
    if len(name) > UNIT_NAME_MAX:
        raise DomainError(f"责任单元名称不能超过 {UNIT_NAME_MAX} 个字。", code="name_too_long")
    return name


def _create_units(*, city, district, groups: list[tuple[str, list[Subdistrict]]], now) -> list[ResponsibilityUnit]:
    """Creates one unit per (name, subdistricts) group with open memberships, in two bulk inserts.

    The caller has closed any open membership of these subdistricts first; if another request got in
    between, the database constraint `one_active_unit_per_subdistrict` stops it and nothing is kept."""
    units = [
        ResponsibilityUnit(city=city, district=district or members[0].district, name=name) for name, members in groups
    ]
    for unit in units:
        _full_clean(unit, exclude=["city", "district"], bulk=True)
    memberships = []
    try:
        with transaction.atomic():
            ResponsibilityUnit.objects.bulk_create(units)
            for unit, (_, members) in zip(units, groups):
                for subdistrict in members:
                    membership = UnitMembership(unit=unit, subdistrict=subdistrict, joined_at=now)
                    _full_clean(membership, exclude=["unit", "subdistrict"], bulk=True)
                    memberships.append(membership)
            UnitMembership.objects.bulk_create(memberships)
            hooks.rows_written_in_bulk(ResponsibilityUnit, city_id=city.pk)
    except IntegrityError as exc:
        raise Conflict("有街道乡镇刚被其他操作划入了责任单元，请刷新后重试。", code="membership_conflict") from exc
    pubcache.bump(pubcache.public_scope(city.pk))  # bulk writes send no signals: the public pages are stale now
    return units


# --- divisions -------------------------------------------------------------------------------------


@transaction.atomic
def divisions_load(*, actor, city, geography: dict) -> dict:
    """Creates or updates the districts listed in `geography` (in that order) and all their
    township-level rows from data/divisions; applies `subdistrict_zone_overrides`.

    `geography` is the "geography" section of data/cities/<code>.json:
    {"division_code": "1101", "districts": [{"code", "zone_type"}, ...],
     "subdistrict_zone_overrides": {code: zone type}, "article": optional article cited in the audit row}.
    Idempotent: a second run with the same input writes nothing (and no audit row). Overrides set
    since by an administrator are kept unless the input names the same subdistrict. Districts of the
    city not listed are left alone (units may refer to them)."""
    entries = geography.get("districts") or []
    if not entries:
        raise DomainError("区划配置中没有列出任何区。", code="no_districts")
    division_code = str(geography.get("division_code") or city.division_code or "")
    overrides = {str(code): (zone or "") for code, zone in (geography.get("subdistrict_zone_overrides") or {}).items()}

    source = {row.code: row for row in read_districts()}
    listed = []
    for position, entry in enumerate(entries, start=1):
        code = str(entry.get("code", "")).strip()
        row = source.get(code)
        if row is None:
            raise DomainError(f"区划代码 {code or '（空）'} 不在区划数据中。", code="unknown_district")
        if division_code and row.parent_code != division_code:
            raise DomainError(f"{row.name}（{code}）不属于区划 {division_code}。", code="district_outside_city")
        if any(code == other.code for _, other, _ in listed):
            raise DomainError(f"区划代码 {code} 重复列出。", code="duplicate_district")
        zone_type = (entry.get("zone_type") or "").strip()
        _check_zone_type(city, zone_type)
        listed.append((position, row, zone_type))
    district_codes = [row.code for _, row, _ in listed]

    listed_codes = set(district_codes)
    rows = [row for row in read_subdistricts() if row.parent_code in listed_codes]
    row_codes = {row.code for row in rows}
    unknown = sorted(set(overrides) - row_codes)
    if unknown:
        raise DomainError(f"功能区类型调整中的街道乡镇代码不在所载区划中：{'、'.join(unknown)}。", code="unknown_subdistrict")
    for zone_type in set(overrides.values()):
        _check_zone_type(city, zone_type)

    # Districts
    existing = {d.code: d for d in District.objects.filter(code__in=district_codes)}
    foreign = [d for d in existing.values() if d.city_id != city.pk]
    if foreign:
        raise Conflict(f"区划代码 {foreign[0].code} 已属于其他城市。", code="district_of_other_city")
    district_fields = ["name", "zone_type", "is_development_zone", "sort_order"]
    new_districts, changed_districts = [], []
    for sort_order, row, zone_type in listed:
        values = {
            "name": row.name,
            "zone_type": zone_type,
            "is_development_zone": is_development_zone_name(row.name),
            "sort_order": sort_order,
        }
        district = existing.get(row.code)
        if district is None:
            district = District(city=city, code=row.code, **values)
            new_districts.append(district)
        elif any(getattr(district, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(district, field, value)
            changed_districts.append(district)
        else:
            continue
        _full_clean(district, exclude=["city"], bulk=True)
    District.objects.bulk_create(new_districts)
    pubcache.bump(pubcache.public_scope(city.pk))  # bulk writes send no signals: the public pages are stale now
    hooks.rows_written_in_bulk(District, city_id=city.pk)
    if changed_districts:
        District.objects.bulk_update(changed_districts, district_fields)
    districts = {**existing, **{d.code: d for d in new_districts}}

    # Subdistricts
    existing_subs = {s.code: s for s in Subdistrict.objects.filter(code__in=row_codes).select_related("district")}
    foreign = [s for s in existing_subs.values() if s.district.city_id != city.pk]
    if foreign:
        raise Conflict(f"街道乡镇代码 {foreign[0].code} 已属于其他城市。", code="subdistrict_of_other_city")
    sub_fields = ["district", "name", "kind", "is_development_zone", "is_statistical", "zone_type_override"]
    new_subs, changed_subs = [], []
    kinds = {row.code: classify_subdistrict(row.code, row.name) for row in rows}
    for row in rows:
        kind = kinds[row.code]
        subdistrict = existing_subs.get(row.code)
        values = {
            "district": districts[row.parent_code],
            "name": row.name,
            "kind": kind.kind,
            "is_development_zone": kind.is_development_zone,
            "is_statistical": kind.is_statistical,
            "zone_type_override": overrides.get(row.code, subdistrict.zone_type_override if subdistrict else ""),
        }
        if subdistrict is None:
            subdistrict = Subdistrict(code=row.code, **values)
            new_subs.append(subdistrict)
        elif any(getattr(subdistrict, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(subdistrict, field, value)
            changed_subs.append(subdistrict)
        else:
            continue
        _full_clean(subdistrict, exclude=["district"], bulk=True)
    Subdistrict.objects.bulk_create(new_subs)
    if changed_subs:
        Subdistrict.objects.bulk_update(changed_subs, sub_fields)

    counts = {
        "districts": len(listed),
        "subdistricts": len(rows),
        "districts_created": len(new_districts),
        "districts_updated": len(changed_districts),
        "subdistricts_created": len(new_subs),
        "subdistricts_updated": len(changed_subs),
        "development_zones": sum(1 for kind in kinds.values() if kind.is_development_zone),
        "statistical_units": sum(1 for kind in kinds.values() if kind.is_statistical),
    }
    if new_districts or changed_districts or new_subs or changed_subs:
        audit_log(
            actor=actor,
            action="geography.divisions_load",
            obj=city,
            city_code=city.code,
            after={**counts, "division_code": division_code, "district_codes": district_codes,
                   "subdistrict_zone_overrides": overrides},
            article=str(geography.get("article") or ""),
            summary=(
                f"载入{city.name}区划：{counts['districts']}个区、{counts['subdistricts']}个街道乡镇"
                f"（新增区{counts['districts_created']}、更新区{counts['districts_updated']}，"
                f"新增街道乡镇{counts['subdistricts_created']}、更新{counts['subdistricts_updated']}）"
            ),
        )
    return counts


@transaction.atomic
def subdistrict_zone_type_set(*, actor, subdistrict: Subdistrict, zone_type: str) -> Subdistrict:
    """B13: a city administrator sets the zone type of one subdistrict (昌平、房山's mountain towns are
    eco-conservation while their districts are multi-point); "" clears it back to the district's."""
    subdistrict = Subdistrict.objects.select_for_update().select_related("district__city").get(pk=subdistrict.pk)
    city = subdistrict.district.city
    if actor is not None:
        if not getattr(actor, "is_authenticated", False):
            raise Forbidden("请先登录。", code="login_required")
        if not actor.is_superuser:
            if actor.role != Role.CITY_ADMIN:
                raise Forbidden("只有市级管理员可以调整街道乡镇的功能区类型。")
            if actor.city_id != city.pk:
                raise NotFound()
    zone_type = (zone_type or "").strip()
    _check_zone_type(city, zone_type)
    if zone_type == subdistrict.zone_type_override:
        raise DomainError("功能区类型没有变化。", code="unchanged")
    before = {"zone_type_override": subdistrict.zone_type_override, "zone_type": subdistrict.zone_type}
    subdistrict.zone_type_override = zone_type
    _full_clean(subdistrict, exclude=["district"])
    subdistrict.save(update_fields=["zone_type_override"])
    audit_log(
        actor=actor,
        action="geography.subdistrict_zone_type_set",
        obj=subdistrict,
        city_code=city.code,
        before=before,
        after={"zone_type_override": zone_type, "zone_type": subdistrict.zone_type},
        article=_zone_type_article(city, zone_type or before["zone_type_override"] or before["zone_type"]),
        summary=(
            f"{subdistrict.district.name}{subdistrict.name}功能区类型设为 {zone_type}"
            if zone_type
            else f"{subdistrict.district.name}{subdistrict.name}功能区类型恢复为所属区的类型"
        ),
    )
    return subdistrict


# --- responsibility units (B4) ----------------------------------------------------------------------


@transaction.atomic
def units_create_default(*, actor, city) -> int:
    """B4 default: one unit per subdistrict of the city not yet in an active unit, named after it.
    Returns how many were created; a second run creates none and writes no audit row."""
    taken = UnitMembership.objects.filter(left_at__isnull=True).values("subdistrict_id")
    free = list(
        Subdistrict.objects.filter(district__city=city)
        .exclude(pk__in=taken)
        .select_related("district")
        .order_by("district__sort_order", "district__code", "code")
    )
    if not free:
        return 0
    units = _create_units(city=city, district=None, groups=[(s.name, [s]) for s in free], now=clock.now())
    audit_log(
        actor=actor,
        action="geography.units_create_default",
        obj=city,
        city_code=city.code,
        after={"created": len(units), "unit_ids": [u.pk for u in units], "subdistricts": [s.code for s in free]},
        article=_coverage_article(city),
        summary=f"按街道乡镇为{city.name}建立{len(units)}个责任单元",
    )
    return len(units)


@transaction.atomic
def unit_merge(*, actor, subdistricts: list[Subdistrict], name: str) -> ResponsibilityUnit:
    """B4: forms one unit from several subdistricts of one district. Their current memberships end;
    a unit left without subdistricts is dissolved."""
    picked = list({s.pk: s for s in subdistricts}.values())
    _ensure_unit_manager_role(actor)
    if len(picked) < 2:
        raise DomainError("合并责任单元至少需要选择两个街道乡镇。", code="too_few_subdistricts")
    district_ids = {s.district_id for s in picked}
    if len(district_ids) > 1:
        raise DomainError("只能将同一个区内的街道乡镇合并为一个责任单元。", code="mixed_districts")
    district = District.objects.select_related("city").get(pk=district_ids.pop())
    _ensure_can_manage_units(actor, district)
    name = _clean_name(name)
    picked_ids = {s.pk for s in picked}

    source_unit_ids = UnitMembership.objects.filter(subdistrict_id__in=picked_ids, left_at__isnull=True).values(
        "unit_id"
    )
    open_members = list(
        UnitMembership.objects.select_for_update()
        .filter(unit_id__in=source_unit_ids, left_at__isnull=True)
        .select_related("unit__district", "subdistrict")
        .order_by("unit_id", "subdistrict__code")
    )
    members_by_unit = defaultdict(list)
    for membership in open_members:
        members_by_unit[membership.unit].append(membership)
    if len(members_by_unit) == 1:
        (only_unit, members), = members_by_unit.items()
        if {m.subdistrict_id for m in members} == picked_ids:
            raise DomainError(f"所选街道乡镇已组成责任单元“{only_unit.name}”。", code="already_one_unit")

    now = clock.now()
    moving = [m for m in open_members if m.subdistrict_id in picked_ids]
    emptied = [
        unit for unit, members in members_by_unit.items() if all(m.subdistrict_id in picked_ids for m in members)
    ]
    UnitMembership.objects.filter(pk__in=[m.pk for m in moving]).update(left_at=now)
    ResponsibilityUnit.objects.filter(pk__in=[u.pk for u in emptied]).update(dissolved_at=now, updated_at=now)
    pubcache.bump(pubcache.public_scope(district.city_id))  # bulk updates send no signals
    hooks.rows_written_in_bulk(ResponsibilityUnit, city_id=district.city_id)
    ordered = sorted(picked, key=lambda s: s.code)
    (unit,) = _create_units(city=district.city, district=district, groups=[(name, ordered)], now=now)

    touched = sorted({unit.pk, *(u.pk for u in members_by_unit)})
    audit_log(
        actor=actor,
        action="geography.unit_merge",
        obj=unit,
        before={"units": [_unit_picture(u, [m.subdistrict for m in ms]) for u, ms in members_by_unit.items()]},
        after={
            "unit": _unit_picture(unit, ordered),
            "dissolved_unit_ids": sorted(u.pk for u in emptied),
            "unit_ids": touched,
        },
        article=_coverage_article(district.city),
        summary=f"将{district.name}{'、'.join(s.name for s in ordered)}合并为责任单元“{name}”",
    )
    return unit


@transaction.atomic
def unit_split(
    *, actor, unit: ResponsibilityUnit, groups: list[list[Subdistrict]] | None = None
) -> list[ResponsibilityUnit]:
    """B4: dissolves a unit and forms new ones from its subdistricts: by default one per subdistrict,
    or the given groups, which must together hold each of its subdistricts exactly once."""
    unit = ResponsibilityUnit.objects.select_for_update().select_related("district__city").get(pk=unit.pk)
    _ensure_can_manage_units(actor, unit.district)
    if not unit.is_active:
        raise Conflict(f"责任单元“{unit.name}”已撤销，不能拆分。", code="unit_dissolved")
    members = list(
        unit.memberships.select_for_update()
        .filter(left_at__isnull=True)
        .select_related("subdistrict", "subdistrict__district")
        .order_by("subdistrict__code")
    )
    current = {m.subdistrict_id: m.subdistrict for m in members}
    if groups is None:
        plan = [[s] for s in current.values()]
    else:
        plan = [list({s.pk: s for s in group}.values()) for group in groups if group]
        flat = [s.pk for group in plan for s in group]
        if len(flat) != len(set(flat)):
            raise DomainError("同一个街道乡镇不能分入两个责任单元。", code="overlapping_groups")
        if set(flat) != set(current):
            raise DomainError("拆分方案必须恰好包含该责任单元现有的全部街道乡镇。", code="groups_mismatch")
        plan = [sorted((current[s.pk] for s in group), key=lambda s: s.code) for group in plan]
    if len(plan) < 2:
        raise DomainError("拆分后至少应有两个责任单元；只有一个街道乡镇的责任单元无需拆分。", code="nothing_to_split")

    now = clock.now()
    before = {"unit": _unit_picture(unit, current.values())}
    UnitMembership.objects.filter(pk__in=[m.pk for m in members]).update(left_at=now)
    pubcache.bump(pubcache.public_scope(unit.city_id))  # a bulk update sends no signals
    unit.dissolved_at = now
    unit.save(update_fields=["dissolved_at", "updated_at"])
    created = _create_units(
        city=unit.district.city, district=unit.district, groups=[(_group_name(group), group) for group in plan], now=now
    )
    audit_log(
        actor=actor,
        action="geography.unit_split",
        obj=unit,
        before=before,
        after={
            "units": [_unit_picture(new, group) for new, group in zip(created, plan)],
            "unit_ids": sorted([unit.pk, *(u.pk for u in created)]),
        },
        article=_coverage_article(unit.district.city),
        summary=f"将责任单元“{unit.name}”拆分为{len(created)}个责任单元",
    )
    return created


@transaction.atomic
def unit_rename(*, actor, unit: ResponsibilityUnit, name: str) -> ResponsibilityUnit:
    unit = ResponsibilityUnit.objects.select_for_update().select_related("district__city").get(pk=unit.pk)
    _ensure_can_manage_units(actor, unit.district)
    if not unit.is_active:
        raise Conflict(f"责任单元“{unit.name}”已撤销，不能改名。", code="unit_dissolved")
    name = _clean_name(name)
    if name == unit.name:
        raise DomainError("新名称与原名称相同。", code="unchanged")
    before = {"name": unit.name}
    unit.name = name
    _full_clean(unit)
    unit.save(update_fields=["name", "updated_at"])
    audit_log(
        actor=actor,
        action="geography.unit_rename",
        obj=unit,
        before=before,
        after={"name": name, "unit_ids": [unit.pk]},
        article=_coverage_article(unit.district.city),
        summary=f"责任单元“{before['name']}”更名为“{name}”",
    )
    return unit
