"""Who may do what in training.

- City administrator of the city: manages courses and materials, confirms live attendance, records hours
  for any planner of the city (confirmed at once), confirms or rejects planners' own declarations,
  issues certificates. Auditors of the city read everything.
- Planner (a user linked to a Planner row): reads the city's published courses, enrols, studies the
  materials (served only to the enrolled), completes online courses, declares practice and external
  training (pending until confirmed), reads its own records and exports its certificate.
- Anyone else: nothing (404 for a record, a course or a material)."""
from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.appointments.permissions import is_city_admin_of


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def planner_of(user):
    """The Planner row of a planner user, or None."""
    if not _authenticated(user) or user.role != Role.PLANNER:
        return None
    cached = getattr(user, "_training_planner", False)
    if cached is False:
        from rpms.registry.models import Planner

        cached = Planner.objects.select_related("city__policy").filter(user=user).first()
        user._training_planner = cached
    return cached


def is_course_manager(user, city) -> bool:
    return is_city_admin_of(user, city)


def can_read_city(user, city) -> bool:
    return is_city_wide(user, city)


def can_view_course(user, course) -> bool:
    if can_read_city(user, course.city_id):
        return True
    planner = planner_of(user)
    return planner is not None and planner.city_id == course.city_id and course.published


def can_access_material(user, material, *, enrolled: bool) -> bool:
    """City-wide readers of the course's city; a planner only while enrolled in the published course."""
    course = material.course
    if can_read_city(user, course.city_id):
        return True
    planner = planner_of(user)
    return planner is not None and planner.city_id == course.city_id and course.published and enrolled


def can_view_planner_training(user, planner) -> bool:
    if not _authenticated(user):
        return False
    if can_read_city(user, planner.city_id):
        return True
    return planner.user_id is not None and planner.user_id == user.pk
