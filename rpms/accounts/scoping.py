"""Who may see what. Selectors call these once, so no view can forget the scoping.

Non-public records of a district are visible to the city administrators of its city, the
auditors, and the district officers of that district; hiring-entity users see their own
subdistricts. Anything outside a user's scope is answered 404 (NotFound), not 403, so that
its existence is not revealed."""
from collections.abc import Callable, Mapping

from django.db.models import Exists, OuterRef, Q

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


# --- the role switch, written once -----------------------------------------------------------------------------

_NOTHING = object()  # sentinel: "a Q that matches no row", built afresh for every call


def _unit_of_own_subdistricts(user, unit: str) -> Q:
    """Rows whose unit (`unit`: the path to a ResponsibilityUnit) has an open membership of one of the
    hiring entity's subdistricts."""
    # By the app registry, as User.subdistricts names its model: accounts sits below geography.
    from django.apps import apps

    own = apps.get_model("geography", "UnitMembership").objects.filter(
        unit=OuterRef(unit), left_at__isnull=True, subdistrict__in=user.subdistricts.values("pk")
    )
    return Q(Exists(own))


def role_scope_q(user, *, city: str | None = "city", district: str | None = None, unit: str | None = None,
                 planner: str | None = None, rules: Mapping[str, Callable] | None = None,
                 everything=None, nothing=_NOTHING):
    """The rows of a table `user` may read, as a Q — the role switch every selector used to write itself.

    Paths name where a row keeps its city (`city`: a City FK), its district (`district`: a District FK),
    its responsibility unit (`unit`: for the hiring entity's subdistricts) and its planner (`planner`: a
    Planner FK). Per role:
    - signed out → `nothing`;
    - superuser, and an auditor bound to no city → `everything` (None by default: "do not filter");
    - city administrator, auditor of a city → the rows of their city (`city`);
    - district officer → the rows of their districts (`district`);
    - hiring entity (street office) → the rows of units holding one of their subdistricts (`unit`);
    - planner → their own rows (`planner`).
    `rules` maps a role to a function `user → Q` that replaces (or supplies) its rule. A role without a rule
    or path, and any role this function does not know, gets `nothing` (deny by default: Q(pk__in=[]) unless
    the caller asks for another value, e.g. None)."""
    def none():
        return Q(pk__in=[]) if nothing is _NOTHING else nothing

    if not getattr(user, "is_authenticated", False):
        return none()
    if user.is_superuser or (user.role == Role.AUDITOR and user.city_id is None):
        return everything
    rule = (rules or {}).get(user.role)
    if rule is not None:
        return rule(user)
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR) and city:
        return Q(**{f"{city}_id": user.city_id})
    if user.role == Role.DISTRICT_OFFICER and district:
        return Q(**{f"{district}__in": user.districts.values("pk")})
    if user.role == Role.HIRING_ENTITY and unit:
        return _unit_of_own_subdistricts(user, unit)
    if user.role == Role.PLANNER and planner:
        return Q(**{f"{planner}__user": user})
    return none()


def scope_queryset(queryset, user, **paths):
    """`queryset` limited by `role_scope_q(user, **paths)` (unfiltered for everything, empty for nothing)."""
    q = role_scope_q(user, **paths)
    return queryset if q is None else queryset.filter(q)
