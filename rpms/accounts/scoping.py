"""Who may see what. Selectors call these once, so no view can forget the scoping.

Non-public records of a district are visible to the city administrators of its city, the
auditors, and the district officers of that district; hiring-entity users see their own
subdistricts. Anything outside a user's scope is answered 404 (NotFound), not 403, so that
its existence is not revealed."""
from django.db.models import Q

from .models import Role


def is_city_wide(user, city) -> bool:
    """City administrators of the city and auditors (of the city, or of all cities)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    city_id = getattr(city, "pk", city)
    if user.role == Role.AUDITOR and user.city_id is None:
        return True
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        return user.city_id == city_id
    return False


def visible_district_ids(user, city) -> set[int] | None:
    """None means every district of the city; otherwise the set of district ids the user may see."""
    if is_city_wide(user, city):
        return None
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.role == Role.DISTRICT_OFFICER:
        return set(user.districts.filter(city=city).values_list("id", flat=True))
    if user.role == Role.HIRING_ENTITY:
        return set(user.subdistricts.filter(district__city=city).values_list("district_id", flat=True))
    return set()


def district_filter(user, city, field: str = "district") -> Q:
    """A Q object limiting a queryset's `field` (a District FK) to what the user may see."""
    ids = visible_district_ids(user, city)
    if ids is None:
        return Q()
    return Q(**{f"{field}__in": ids})


def can_manage_district(user, district) -> bool:
    """City administrators of the district's city and district officers of the district."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if user.role == Role.CITY_ADMIN:
        return user.city_id == district.city_id
    if user.role == Role.DISTRICT_OFFICER:
        return user.districts.filter(pk=district.pk).exists()
    return False
