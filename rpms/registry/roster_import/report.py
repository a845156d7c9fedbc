"""Reads: an import for its city's administrators, the recent imports, progress, the report, the error rows."""
from __future__ import annotations

from rpms.accounts.models import Role
from rpms.core.errors import Forbidden, NotFound
from rpms.core.spreadsheet import import_error_rows, import_progress, import_report_base

from ..models import RosterImport


def _require_manager(user, city) -> None:
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级管理员可以导入名册。")
    if not user.is_superuser and user.city_id != city.pk:
        raise NotFound()


# --- reads ---------------------------------------------------------------------------------------------------

def roster_import_get(*, user, import_id) -> RosterImport:
    """An import for its city's administrators; another city's import is 404, other roles 403."""
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级管理员可以导入名册。")
    found = RosterImport.objects.select_related("city__policy", "uploaded_by", "started_by").filter(pk=import_id).first()
    if found is None:
        raise NotFound()
    _require_manager(user, found.city)
    return found


def roster_imports_recent(*, user, city, limit: int = 20) -> list[RosterImport]:
    _require_manager(user, city)
    return list(
        RosterImport.objects.filter(city=city).select_related("uploaded_by")
        .defer("errors", "skipped").order_by("-created_at", "-id")[:limit]
    )


def roster_import_progress(roster_import: RosterImport) -> dict:
    return import_progress(roster_import)


def roster_import_report(roster_import: RosterImport) -> dict:
    """The validation report and progress as JSON (errors in Chinese, no personal identifiers)."""
    return import_report_base(roster_import)


def roster_errors_rows(roster_import: RosterImport):
    return import_error_rows(roster_import)
