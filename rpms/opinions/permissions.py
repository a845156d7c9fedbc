"""Who may do what with a written opinion.

- Drafting and issuing: only a planner serving the unit on the day (an appointment in force,
  `rpms.appointments.serving`); a draft is edited by its author only and seen by nobody else.
- Issued opinions go to the unit's hiring entity (users whose subdistricts are in the unit's current
  memberships) and to the district; the city administrators and auditors see them city-wide; the
  planners serving the unit see them too. Everyone else gets 404 (not revealed).
- The design unit's response and the departments' answers are recorded by a planner serving the unit
  (or the author) or by the hiring entity."""
from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.appointments.serving import serving_appointment
from rpms.geography.models import UnitMembership

from .models import OpinionStatus


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_serving_planner(user, unit) -> bool:
    return _authenticated(user) and user.role == Role.PLANNER and serving_appointment(user=user, unit=unit) is not None


def is_hiring_entity_of(user, unit) -> bool:
    if not _authenticated(user) or user.role != Role.HIRING_ENTITY:
        return False
    unit_id = getattr(unit, "pk", unit)
    return UnitMembership.objects.filter(
        unit_id=unit_id, left_at__isnull=True, subdistrict__in=user.subdistricts.all()
    ).exists()


def is_district_officer_of(user, unit) -> bool:
    return (
        _authenticated(user)
        and user.role == Role.DISTRICT_OFFICER
        and user.districts.filter(pk=unit.district_id).exists()
    )


def is_recipient(user, opinion) -> bool:
    """The hiring entity and the district officers of the unit: whose inbox it reaches."""
    if opinion.status == OpinionStatus.DRAFT:
        return False
    return is_hiring_entity_of(user, opinion.unit) or is_district_officer_of(user, opinion.unit)


def is_author(user, opinion) -> bool:
    return _authenticated(user) and opinion.author_id == user.pk


def can_view(user, opinion) -> bool:
    if not _authenticated(user):
        return False
    if is_author(user, opinion):
        return True
    if opinion.status == OpinionStatus.DRAFT:
        return False  # a draft is the author's own until issued
    if user.is_superuser or is_city_wide(user, opinion.city_id):
        return True
    return is_recipient(user, opinion) or is_serving_planner(user, opinion.unit)


def can_edit(user, opinion) -> bool:
    return opinion.status == OpinionStatus.DRAFT and is_author(user, opinion)


def can_record_response(user, opinion) -> bool:
    if opinion.status != OpinionStatus.ISSUED:
        return False
    return is_author(user, opinion) or is_serving_planner(user, opinion.unit) or is_hiring_entity_of(user, opinion.unit)
