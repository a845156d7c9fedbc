"""Who may act on dispatch records. Out-of-scope records answer 404 (never revealed); a role that
cannot act at all answers 403."""
from rpms.accounts.models import Role
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
