"""Training reads, with scoping applied here once.

For other contexts (the assessment helper, statistics, the planner's dossier):

    training_hours(planner, year) -> Decimal                     # credited (confirmed) hours of a year
    training_hours_by_planner(planner_ids, year) -> {id: Decimal} # one query, 0 for planners without hours
    training_hours_by_year(planner) -> [{"year", "hours", "records"}]

Only CONFIRMED records count: a planner's own declaration waiting for confirmation, or rejected, does not."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, Q, Sum

from rpms.accounts.models import Role
from rpms.accounts.scoping import role_scope_q
from rpms.core.errors import DomainError, NotFound
from rpms.core.params import is_digits
from rpms.registry.models import Planner

from . import permissions
from .models import (
    Course,
    CourseMaterial,
    Enrolment,
    MaterialProgress,
    RecordStatus,
    TrainingCertificate,
    TrainingRecord,
    TrainingSource,
)

ZERO = Decimal("0.0")
TENTH = Decimal("0.1")


def _hours(value) -> Decimal:
    """A sum of hours with one decimal place on every database (SQLite drops it, PostgreSQL keeps it)."""
    return Decimal(value if value is not None else 0).quantize(TENTH)
LIST_LIMIT = 500


# --- hours (read by other contexts) ---------------------------------------------------------------------


def training_hours(planner, year: int) -> Decimal:
    """The planner's credited continuing-education hours in `year` (B23)."""
    planner_id = getattr(planner, "pk", planner)
    total = TrainingRecord.objects.filter(planner_id=planner_id, year=year, status=RecordStatus.CONFIRMED).aggregate(
        total=Sum("hours"))["total"]
    return _hours(total)


def training_hours_by_planner(planner_ids, year: int) -> dict[int, Decimal]:
    """{planner id: credited hours in `year`} for every id given (0.0 when none) — one query."""
    ids = [int(getattr(p, "pk", p)) for p in planner_ids]
    result = dict.fromkeys(ids, ZERO)
    if not ids:
        return result
    rows = (
        TrainingRecord.objects.filter(planner_id__in=ids, year=year, status=RecordStatus.CONFIRMED).order_by()
        .values("planner_id").annotate(total=Sum("hours"))
    )
    for row in rows:
        result[row["planner_id"]] = _hours(row["total"])
    return result


def training_hours_by_year(planner) -> list[dict]:
    """[{"year", "hours", "records", "by_source": {code: hours}}], newest year first — one query."""
    rows = (
        TrainingRecord.objects.filter(planner_id=getattr(planner, "pk", planner), status=RecordStatus.CONFIRMED)
        .order_by().values("year", "source").annotate(hours=Sum("hours"), records=Count("id"))
    )
    years: dict[int, dict] = {}
    for row in rows:
        entry = years.setdefault(row["year"], {"year": row["year"], "hours": ZERO, "records": 0, "by_source": {}})
        entry["hours"] += _hours(row["hours"])
        entry["records"] += row["records"]
        entry["by_source"][row["source"]] = _hours(row["hours"])
    for entry in years.values():
        entry["by_source_labels"] = [
            {"label": TrainingSource(code).label, "hours": hours} for code, hours in sorted(entry["by_source"].items())
        ]
    return sorted(years.values(), key=lambda e: e["year"], reverse=True)


# --- records ----------------------------------------------------------------------------------------------


def _year(value) -> int | None:
    raw = str(value or "").strip()
    if not raw:
        return None
    if not is_digits(raw) or not 2000 <= int(raw) <= 2100:
        raise DomainError("年度应为四位数字，如 2026。", code="invalid_year")
    return int(raw)


def record_scope_q(user) -> Q | None:
    return role_scope_q(user, planner="planner")


def record_list(*, user, planner=None, year=None, status: str = "", source: str = "", city=None):
    queryset = TrainingRecord.objects.select_related("planner", "city", "confirmed_by", "course")
    scope = record_scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if city is not None:
        queryset = queryset.filter(city=city)
    if planner is not None:
        queryset = queryset.filter(planner_id=getattr(planner, "pk", planner))
    year = _year(year)
    if year:
        queryset = queryset.filter(year=year)
    if status:
        if status not in RecordStatus.values:
            raise DomainError(f"未知的状态筛选“{status}”。", code="invalid_status")
        queryset = queryset.filter(status=status)
    if source:
        if source not in TrainingSource.values:
            raise DomainError(f"未知的来源筛选“{source}”。", code="invalid_source")
        queryset = queryset.filter(source=source)
    return queryset.order_by("-date", "-id")


def record_get(*, user, pk) -> TrainingRecord:
    record = TrainingRecord.objects.select_related("planner__city", "city__policy", "confirmed_by", "course").filter(pk=pk).first()
    if record is None or not permissions.can_view_planner_training(user, record.planner):
        raise NotFound()
    return record


def planner_get(*, user, pk) -> Planner:
    planner = Planner.objects.select_related("city__policy", "user").filter(pk=pk).first()
    if planner is None or not permissions.can_view_planner_training(user, planner):
        raise NotFound()
    return planner


def pending_records(*, user):
    """Declarations waiting for the city administrator's confirmation."""
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        return TrainingRecord.objects.none()
    return record_list(user=user, status=RecordStatus.PENDING)


def certificates_for(planner) -> list[TrainingCertificate]:
    return list(
        TrainingCertificate.objects.select_related("document").filter(planner=planner).order_by("-year", "-created_at")
    )


def certificate_get(*, user, pk) -> TrainingCertificate:
    certificate = TrainingCertificate.objects.select_related("document__city", "planner__city").filter(pk=pk).first()
    if certificate is None or not permissions.can_view_planner_training(user, certificate.planner):
        raise NotFound()
    return certificate


# --- courses --------------------------------------------------------------------------------------------


def _count_of(queryset):
    from django.db.models import IntegerField, Subquery
    from django.db.models.functions import Coalesce

    counted = queryset.order_by().values("course").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def course_list(*, user, city=None):
    """Managers and city-wide readers: every course of their city; planners: the published courses of
    theirs, each with `my_enrolment` (a list of 0 or 1). Material and enrolment counts annotated."""
    # Counted per listed course (correlated subqueries), not by grouping the product of every course's
    # materials and enrolments (issue #15).
    queryset = Course.objects.select_related("city").annotate(
        material_count=_count_of(CourseMaterial.objects.filter(course=OuterRef("pk"))),
        enrolment_count=_count_of(Enrolment.objects.filter(course=OuterRef("pk"))),
        completed_count=_count_of(Enrolment.objects.filter(course=OuterRef("pk"), completed_at__isnull=False)),
    )
    planner = permissions.planner_of(user)
    if planner is not None:
        return queryset.filter(city_id=planner.city_id, published=True).prefetch_related(
            Prefetch("enrolments", queryset=Enrolment.objects.filter(planner=planner), to_attr="my_enrolment")
        ).order_by("-published_at", "-id")
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if user.is_superuser or (user.role == Role.AUDITOR and user.city_id is None):
        return (queryset.filter(city=city) if city is not None else queryset).order_by("city", "-created_at", "-id")
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        return queryset.filter(city_id=user.city_id).order_by("published", "-published_at", "-created_at", "-id")
    return queryset.none()


def course_get(*, user, pk) -> Course:
    course = Course.objects.select_related("city__policy", "created_by").prefetch_related("materials").filter(pk=pk).first()
    if course is None or not permissions.can_view_course(user, course):
        raise NotFound()
    return course


def course_enrolments(course):
    return list(
        Enrolment.objects.filter(course=course).select_related("planner", "completed_by", "record")
        .annotate(finished=Count("progress", filter=Q(progress__finished_at__isnull=False)))
        .order_by("planner__name", "id")
    )


def progress_map(enrolment) -> dict[int, MaterialProgress]:
    if enrolment is None:
        return {}
    return {p.material_id: p for p in MaterialProgress.objects.filter(enrolment=enrolment)}


def material_get(*, user, pk) -> tuple[CourseMaterial, Enrolment | None]:
    """A material and the user's enrolment, if the user is entitled to it (else 404, never revealed)."""
    material = CourseMaterial.objects.select_related("course__city__policy").filter(pk=pk).first()
    if material is None:
        raise NotFound("文件不存在或您无权查看。")
    planner = permissions.planner_of(user)
    enrolment = None
    if planner is not None:
        enrolment = Enrolment.objects.filter(course_id=material.course_id, planner=planner).first()
    if not permissions.can_access_material(user, material, enrolled=enrolment is not None):
        raise NotFound("文件不存在或您无权查看。")
    return material, enrolment


def city_planners(city):
    """The city's planners for the attendance form (pool members first)."""
    return list(Planner.objects.filter(city=city).exclude(pool_status="removed").order_by("name", "id"))
