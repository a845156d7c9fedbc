"""Who may act on dispatch records. Out-of-scope records answer 404 (never revealed); a role that
cannot act at all answers 403."""
from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.core.errors import Forbidden, NotFound


def is_authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def require_city_admin(user, city, *, what: str = "办理此事项") -> None:
    """CITY_ADMIN of `city` (superusers pass); an administrator of another city gets 404."""
    if not is_authenticated(user):
        raise Forbidden("请先登录。")
    if user.is_superuser:
        return
    if user.role != Role.CITY_ADMIN:
        raise Forbidden(f"只有市级管理员可以{what}。")
    if user.city_id != getattr(city, "pk", city):
        raise NotFound()


def is_city_admin_of(user, city) -> bool:
    if not is_authenticated(user):
        return False
    return bool(user.is_superuser) or (user.role == Role.CITY_ADMIN and user.city_id == getattr(city, "pk", city))


def officer_district_ids(user) -> set[int]:
    if not is_authenticated(user) or user.role != Role.DISTRICT_OFFICER:
        return set()
    return set(user.districts.values_list("pk", flat=True))


def is_officer_of(user, district) -> bool:
    return is_authenticated(user) and user.role == Role.DISTRICT_OFFICER and district.pk in officer_district_ids(user)


def may_record_conflict(user, planner, *, unit=None, district=None) -> bool:
    """A planner declares its own conflicts; a city administrator of its city, or the district officer
    of the unit's (or the named) district, records them (P6(2))."""
    if not is_authenticated(user):
        return False
    if user.is_superuser:
        return True
    if planner.user_id is not None and planner.user_id == user.pk:
        return True
    if user.role == Role.CITY_ADMIN:
        return user.city_id == planner.city_id
    if user.role == Role.DISTRICT_OFFICER:
        target = unit.district if unit is not None else district
        return target is not None and target.pk in officer_district_ids(user)
    return False


def request_out_of_scope(user, request) -> bool:
    """True when the user's role reads dispatch requests but `request` lies outside their scope (another
    district's, another city's): the services refuse it as 404, never revealing it. False for a request in
    scope, and for a role that reads no request at all (refused as 403)."""
    if not is_authenticated(user) or user.is_superuser:
        return False
    if user.role == Role.DISTRICT_OFFICER:
        return request.district_id not in officer_district_ids(user)
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        return not is_city_wide(user, request.city_id)
    return False


def conflict_out_of_scope(user, planner, *, unit=None, district=None) -> bool:
    """True when a conflict declaration's planner or target lies outside the user's scope: another planner's
    record (a planner), another city's planner or unit (city administrators, auditors), another district's
    unit or district (district officers). Refused as 404; a role that records no conflicts stays 403."""
    if not is_authenticated(user) or user.is_superuser:
        return False
    target = unit.district if unit is not None else district
    if user.role == Role.PLANNER:
        return planner.user_id != user.pk
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        return not is_city_wide(user, planner.city_id) or (target is not None and not is_city_wide(user, target.city_id))
    if user.role == Role.DISTRICT_OFFICER:
        return target is None or target.pk not in officer_district_ids(user)
    return False
