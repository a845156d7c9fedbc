"""Who may publish and read the city's public information records.

City administrators of the city publish announcements and interpretations (B22: the city work team runs
the information system); auditors of the city read the management pages; everyone reads what is
published. Another city's record is answered 404, never revealed."""
from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.core.errors import Forbidden, NotFound


def is_publisher(user, city) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return user.role == Role.CITY_ADMIN and user.city_id == getattr(city, "pk", city)


def require_publisher(user, city) -> None:
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级管理员可以发布公示公告和政策解读。")
    if not is_publisher(user, city):
        raise NotFound()


def require_manager_reader(user, city=None) -> None:
    """The management pages: city administrators and auditors (of the city, when one is given)."""
    if not getattr(user, "is_authenticated", False) or not (
        user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR)
    ):
        raise Forbidden("您的角色无权管理公示公告和政策解读。")
    if city is not None and not is_city_wide(user, city):
        raise NotFound()
