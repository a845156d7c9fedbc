"""Who is responsible for what, read from the accounts (read-only), in a bounded number of queries.

Each helper loads one city's people once, so a reminder run costs a fixed number of queries per
provider however many items are due."""
from __future__ import annotations

from collections import defaultdict

from rpms.accounts.delegation import delegates_today
from rpms.accounts.models import Role, User
from rpms.geography.models import UnitMembership


def city_admins(city) -> list:
    return list(User.objects.filter(role=Role.CITY_ADMIN, city=city, is_active=True).order_by("pk"))


def district_officers_by_district(city) -> dict[int, list]:
    """District id → the active district officers of that district."""
    through = User.districts.through
    rows = (
        through.objects.filter(district__city=city, user__role=Role.DISTRICT_OFFICER, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    )
    result: dict[int, list] = defaultdict(list)
    for row in rows:
        result[row.district_id].append(row.user)
    return _add_delegates(result)


def _add_delegates(result: dict[int, list]) -> dict[int, list]:
    """Each list followed by the colleagues acting for its people today (issue 17 item 7), one query in all."""
    delegates = delegates_today([u for users in result.values() for u in users])
    if delegates:
        for key, users in result.items():
            result[key] = with_delegates_from(users, delegates)
    return result


def with_delegates_from(users: list, delegates: dict[int, list]) -> list:
    seen, out = {u.pk for u in users}, list(users)
    for user in users:
        for delegate in delegates.get(user.pk, ()):
            if delegate.pk not in seen:
                seen.add(delegate.pk)
                out.append(delegate)
    return out


def hiring_entities_by_unit(city, unit_ids) -> dict[int, list]:
    """Unit id → the active hiring-entity users of one of the unit's current subdistricts."""
    unit_ids = set(unit_ids)
    if not unit_ids:
        return {}
    memberships = UnitMembership.objects.filter(unit_id__in=unit_ids, left_at__isnull=True).values_list(
        "unit_id", "subdistrict_id"
    )
    units_of_subdistrict: dict[int, set[int]] = defaultdict(set)
    for unit_id, subdistrict_id in memberships:
        units_of_subdistrict[subdistrict_id].add(unit_id)
    if not units_of_subdistrict:
        return {}
    through = User.subdistricts.through
    rows = (
        through.objects.filter(
            subdistrict_id__in=list(units_of_subdistrict), user__role=Role.HIRING_ENTITY, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    )
    result: dict[int, list] = defaultdict(list)
    for row in rows:
        for unit_id in units_of_subdistrict[row.subdistrict_id]:
            if row.user not in result[unit_id]:
                result[unit_id].append(row.user)
    return _add_delegates(result)
