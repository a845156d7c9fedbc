"""Who may do what with a suggestion (B11(2), B22, P3(3)).

- Handle (reply, forward, record the department's answer, close): a planner serving the unit today, or
  a district officer of the suggestion's district (the district receives what arrives in a vacant unit
  and watches overdue ones).
- Moderate (hide / show again): the city administrators of the suggestion's city.
- Release for publication where the city reviews first (policy `suggestions_premoderated`): a district
  officer of the suggestion's district or a city administrator of its city.
- Read: the above, plus auditors; scoping lives in selectors (out of scope → 404).
- Work proposals: written by a planner serving the unit; acknowledged by the unit's hiring entity
  (users whose subdistricts are among the unit's current subdistricts)."""
from rpms.accounts.models import Role
from rpms.accounts.scoping import can_manage_district
from rpms.appointments.serving import serving_appointment
from rpms.core import clock



def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def can_handle(user, suggestion, *, on=None) -> bool:
    if not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    if user.role == Role.PLANNER:
        return serving_appointment(user=user, unit=suggestion.unit_id, on=on or clock.today()) is not None
    if user.role == Role.DISTRICT_OFFICER:
        return can_manage_district(user, suggestion.district)
    return False


def can_moderate(user, suggestion) -> bool:
    if not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    return user.role == Role.CITY_ADMIN and user.city_id == suggestion.city_id


def can_release(user, suggestion) -> bool:
    """Review before publication (policy `suggestions_premoderated`): a district officer of the
    suggestion's district or a city administrator of its city."""
    if not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    if user.role == Role.CITY_ADMIN:
        return user.city_id == suggestion.city_id
    if user.role == Role.DISTRICT_OFFICER:
        return can_manage_district(user, suggestion.district)
    return False


def sees_full_contact(user, suggestion, *, on=None) -> bool:
    """Those who handle the suggestion may call the resident back; city-wide readers see it masked."""
    return can_handle(user, suggestion, on=on)


def is_unit_entity(user, unit) -> bool:
    """A hiring-entity user of one of the unit's current subdistricts."""
    if not _authenticated(user) or user.role != Role.HIRING_ENTITY:
        return False
    current = unit.memberships.filter(left_at__isnull=True).values("subdistrict_id")
    return user.subdistricts.filter(pk__in=current).exists()
