"""Who may act on duties.

- The planner: acts through its account (an individual's user, or a team's account) and only in a
  unit it serves on the day concerned (`rpms.appointments.serving.serving_appointment`).
- The hiring entity of a unit: a HIRING_ENTITY user whose subdistricts include one of the unit's
  current subdistricts. It confirms or queries duty records, answers data requests addressed to it,
  and issues work certificates.
- The district officer of the unit's district: may confirm or query too, answers data requests and
  monitoring feedback.
- City administrators and auditors read city-wide (selectors), but never download non-public
  materials (B16(1))."""
from django.db.models import Q

from rpms.accounts.models import Role
from rpms.geography.models import UnitMembership


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def planner_of(user):
    """The Planner row the user acts as, or None."""
    if not _authenticated(user) or user.role != Role.PLANNER:
        return None
    try:
        return user.planner
    except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist: a planner account without a registry row
        return None


def officer_district_ids(user) -> set[int]:
    if not _authenticated(user) or user.role != Role.DISTRICT_OFFICER:
        return set()
    cached = getattr(user, "_duties_district_ids", None)
    if cached is None:
        cached = set(user.districts.values_list("pk", flat=True))
        user._duties_district_ids = cached
    return cached


def entity_unit_ids(user) -> set[int]:
    """The active units whose current subdistricts include one of a hiring-entity user's (one query)."""
    if not _authenticated(user) or user.role != Role.HIRING_ENTITY:
        return set()
    cached = getattr(user, "_duties_unit_ids", None)
    if cached is None:
        cached = set(
            UnitMembership.objects.filter(
                left_at__isnull=True, unit__dissolved_at__isnull=True, subdistrict__in=user.subdistricts.all()
            ).values_list("unit_id", flat=True)
        )
        user._duties_unit_ids = cached
    return cached


def district_units_subquery(user):
    """The units of a district officer's districts, as a subquery (no query of its own)."""
    from rpms.geography.models import ResponsibilityUnit

    return ResponsibilityUnit.objects.filter(district__in=user.districts.values("pk")).values("pk")


def is_unit_entity(user, unit) -> bool:
    return getattr(unit, "pk", unit) in entity_unit_ids(user)


def is_unit_officer(user, unit) -> bool:
    return unit.district_id in officer_district_ids(user)


def is_city_admin_of(user, city_id) -> bool:
    return _authenticated(user) and (
        user.is_superuser or (user.role == Role.CITY_ADMIN and user.city_id == city_id)
    )


def can_confirm_duty(user, record) -> bool:
    """The hiring entity of the record's unit or the officer of its district (not the planner)."""
    return is_unit_entity(user, record.unit_id) or is_unit_officer(user, record.unit)


def is_record_planner(user, obj) -> bool:
    return _authenticated(user) and obj.planner.user_id is not None and obj.planner.user_id == user.pk


def can_answer_data_request(user, request) -> bool:
    """Addressed to the entity: its users or the district officer. Addressed to a department (which does
    not log in): the district officer records its answer, or the planner who received the materials."""
    if is_unit_officer(user, request.unit):
        return True
    if request.addressee == "entity":
        return is_unit_entity(user, request.unit_id)
    return is_record_planner(user, request)


def can_download_confidential(user, request) -> bool:
    """B16(1): non-public materials reach only the requesting planner, the unit's entity and district officer."""
    return is_record_planner(user, request) or is_unit_entity(user, request.unit_id) or is_unit_officer(user, request.unit)


def can_manage_extra_work(user, appointment) -> bool:
    return (
        (_authenticated(user) and appointment.planner.user_id == user.pk)
        or is_unit_entity(user, appointment.unit_id)
        or is_unit_officer(user, appointment.unit)
    )


def can_answer_feedback(user, feedback) -> bool:
    """The district officer of the unit's district; for a city-level department, also the city administrator."""
    if feedback.district_id in officer_district_ids(user):
        return True
    return feedback.addressee == "department" and feedback.department.district_id is None and is_city_admin_of(
        user, feedback.city_id
    )


def scope_q(user, *, city_field: str = "city", unit_field: str = "unit", planner_field: str = "planner") -> Q | None:
    """The rows of a duties table the user may read, as a Q; None means nothing at all.

    Planner: its own; hiring entity: its units; district officer: its districts; city administrator:
    its city; auditor: its city (or every city when not bound to one)."""
    from rpms.accounts.scoping import role_scope_q

    # Subqueries, not id lists: a scoped read (e.g. an hours summary) stays ONE query.
    return role_scope_q(
        user, city=city_field, district=f"{unit_field}__district", planner=planner_field,
        rules={
            # The entity's few unit ids, read first (one small query, kept on the user): as a nested semi-join
            # (memberships → subdistricts → the entity's users) PostgreSQL may plan the summary's aggregate over
            # it badly on fresh statistics — the fuzz's test database ran one for minutes (issue #15).
            Role.HIRING_ENTITY: lambda entity: Q(**{f"{unit_field}__in": sorted(entity_unit_ids(entity))}),
            # `unit_id IN (the districts' units)`: no join to the units, and a list ordered by date reads the
            # (date, id) index backwards, keeping the rows of the officer's units (issue #15).
            Role.DISTRICT_OFFICER: lambda officer: Q(**{f"{unit_field}__in": district_units_subquery(officer)}),
        },
        everything=Q(), nothing=None,
    )
