"""Reads for suggestions and work proposals.

Public reads return only what a resident may see: visible (not hidden) and released (policy
`suggestions_premoderated`) suggestions of active units with
their public replies and the department they went to — never contact details, photos, the department's
internal answer or the recipients. Staff reads are scoped here once:

    superuser, auditor without a city   everything
    city administrator, auditor          their city
    district officer                     their districts
    planner                              the units they serve today
    anyone else                          nothing (the list answers 403, a record 404)

Every list is a fixed number of queries whatever the number of rows (select_related/prefetch_related),
and "overdue" is an annotation computed from `due_on` and today's date, so lists can filter on it."""
from __future__ import annotations

from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce

from rpms.accounts.models import Role
from rpms.accounts.scoping import role_scope_q
from rpms.appointments.models import Appointment
from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.geography.models import Department, ResponsibilityUnit, UnitMembership

from .models import (
    Suggestion, SuggestionPhoto, SuggestionReply, SuggestionStatus, WorkProposal, WorkProposalStatus, awaiting_release_q, released_q,
)
from .services import normalise_tracking_code

PUBLIC_PAGE_SIZE = 20
STAFF_PAGE_SIZE = 50
PAGE_SIZE_MAX = 200


def overdue_q(today) -> Q:
    """Unanswered in public, not closed, not hidden, and the last day of the reply period has passed."""
    return Q(replied_at__isnull=True, hidden_at__isnull=True, due_on__lt=today) & ~Q(status=SuggestionStatus.CLOSED)


def pending_q() -> Q:
    """Waiting for a public reply (not closed, not hidden)."""
    return Q(replied_at__isnull=True, hidden_at__isnull=True) & ~Q(status=SuggestionStatus.CLOSED)


def _with_overdue(queryset, today):
    return queryset.annotate(overdue=ExpressionWrapper(overdue_q(today), output_field=BooleanField()))


# --- public --------------------------------------------------------------------------------------------------


def _unit_memberships() -> Prefetch:
    return Prefetch(
        "memberships",
        queryset=UnitMembership.objects.filter(left_at__isnull=True).select_related("subdistrict").order_by("subdistrict__code"),
        to_attr="active_memberships",
    )


def public_unit_get(unit_id) -> ResponsibilityUnit:
    """An active unit, for the public suggestion pages; dissolved or unknown → 404."""
    try:
        unit_id = int(unit_id)
    except (TypeError, ValueError):
        raise NotFound("责任单元不存在。", code="unit_not_found") from None
    unit = (
        ResponsibilityUnit.objects.filter(pk=unit_id, dissolved_at__isnull=True)
        .select_related("district", "city__policy")
        .prefetch_related(_unit_memberships())
        .first()
    )
    if unit is None:
        raise NotFound("责任单元不存在或已撤销。", code="unit_not_found")
    return unit


def _public_replies() -> Prefetch:
    return Prefetch("replies", queryset=SuggestionReply.objects.order_by("replied_at", "id"), to_attr="public_replies")


def _public_queryset():
    # Only the columns a public page may show are loaded: no contact column leaves the database. Held for
    # review (not yet released) is not public.
    return (
        Suggestion.objects.filter(released_q(), hidden_at__isnull=True)
        .select_related("department", "unit", "district", "subdistrict")
        .only(
            "id", "tracking_code", "category", "content", "status", "received_at", "received_on", "due_on",
            "replied_at", "forwarded_at", "closed_at", "hidden_at", "unit_vacant",
            "department__id", "department__name", "unit__id", "unit__name", "district__id", "district__name",
            "subdistrict__id", "subdistrict__name",
        )
        .prefetch_related(_public_replies())
    )


def public_unit_suggestions(unit, *, page: int = 1, page_size: int = PUBLIC_PAGE_SIZE) -> tuple[list[Suggestion], int]:
    """(this page of the unit's visible suggestions with their replies, total visible). Three queries."""
    page_size = max(1, min(int(page_size), PAGE_SIZE_MAX))
    page = max(1, int(page))
    queryset = _public_queryset().filter(unit=unit).order_by("-received_at", "-id")
    total = queryset.count()
    start = (page - 1) * page_size
    return list(queryset[start:start + page_size]), total


def public_suggestion_by_code(code) -> Suggestion:
    """The suggestion with this tracking code, for the tracking page (hidden ones too: the page then
    says it was hidden and why, without its text or replies; one awaiting review says so, likewise).
    Unknown → 404."""
    code = normalise_tracking_code(code)
    if not code:
        raise NotFound("请输入查询码。", code="tracking_code_not_found")
    suggestion = (
        Suggestion.objects.filter(tracking_code=code)
        .select_related("department", "unit", "district", "subdistrict", "city")
        .defer("contact_name", "contact_phone")
        .prefetch_related(_public_replies())
        .first()
    )
    if suggestion is None:
        raise NotFound("查询码不存在，请核对后重新输入。", code="tracking_code_not_found")
    return suggestion


# --- staff ---------------------------------------------------------------------------------------------------


def _scope_q(user, today) -> Q | None:
    """The suggestions (or proposals: same fields) the user may read; None: no access at all."""
    def serving(planner) -> Q:
        return Q(unit_id__in=Appointment.objects.active(on=today).filter(planner__user=planner).values("unit_id"))

    def districts(officer) -> Q:
        # The officer's district ids as literal values (one small query), not a subquery: with one district
        # PostgreSQL then reads the (district, received_at) index in list order instead of sorting the
        # district's every suggestion before the page (issue #15).
        return Q(district_id__in=list(officer.districts.values_list("pk", flat=True)))

    return role_scope_q(user, district="district", rules={Role.PLANNER: serving, Role.DISTRICT_OFFICER: districts},
                        everything=Q(), nothing=None)


def _staff_queryset(today):
    """The staff lists' rows: no grouping, so the paginator counts the filtered rows and the page's LIMIT is read
    through the (city|district|unit, received_at) indexes; reply and photo counts are attached to the page's rows
    afterwards (`attach_staff_counts`), never computed over the whole table (issue #15)."""
    return _with_overdue(
        Suggestion.objects.select_related("unit", "district", "city", "department", "subdistrict"),
        today,
    )


def _child_count(model):
    return Coalesce(
        Subquery(model.objects.filter(suggestion_id=OuterRef("pk")).order_by().values("suggestion_id")
                 .annotate(n=Count("id")).values("n")[:1]),
        0,
    )


def attach_staff_counts(rows):
    """Give each suggestion of a page `reply_count` and `photo_count`. ONE query over the page's ids."""
    rows = list(rows)
    if rows:
        counts = {
            pk: (replies, photos)
            for pk, replies, photos in Suggestion.objects.filter(pk__in=[s.pk for s in rows])
            .annotate(n_replies=_child_count(SuggestionReply), n_photos=_child_count(SuggestionPhoto))
            .values_list("pk", "n_replies", "n_photos")
        }
        for suggestion in rows:
            suggestion.reply_count, suggestion.photo_count = counts.get(suggestion.pk, (0, 0))
    return rows


def suggestion_list(*, user, status: str = "", overdue: bool | None = None, unit_id=None, district_id=None,
                    hidden: bool | None = None, vacant: bool | None = None, pending: bool | None = None,
                    q: str = "", awaiting_release: bool | None = None):
    """The suggestions the user may read, newest first, annotated with `overdue` (one query for the whole list;
    `attach_staff_counts` gives a page's rows `reply_count` and `photo_count`). Roles without access → 403."""
    today = clock.today()
    scope = _scope_q(user, today)
    if scope is None:
        raise Forbidden("您的角色无权查看意见建议。")
    queryset = _staff_queryset(today).filter(scope)
    if status:
        if status not in SuggestionStatus.values:
            raise DomainError("状态参数不正确。", code="invalid_status")
        queryset = queryset.filter(status=status)
    if overdue is not None:
        queryset = queryset.filter(overdue_q(today)) if overdue else queryset.exclude(overdue_q(today))
    if pending is not None:
        queryset = queryset.filter(pending_q()) if pending else queryset.exclude(pending_q())
    if unit_id:
        queryset = queryset.filter(unit_id=unit_id)
    if district_id:
        queryset = queryset.filter(district_id=district_id)
    if hidden is not None:
        queryset = queryset.filter(hidden_at__isnull=not hidden)
    if vacant is not None:
        queryset = queryset.filter(unit_vacant=vacant)
    if awaiting_release is not None:
        queryset = queryset.filter(awaiting_release_q()) if awaiting_release else queryset.exclude(awaiting_release_q())
    q = " ".join(str(q or "").split())[:50]
    if q:
        queryset = queryset.filter(Q(content__contains=q) | Q(tracking_code=normalise_tracking_code(q)) | Q(unit__name__contains=q))
    return queryset.order_by("-received_at", "-id")


def suggestion_get(*, user, pk) -> Suggestion:
    """One suggestion with its recipients, photos and replies, if the user may read it; else 404."""
    today = clock.today()
    scope = _scope_q(user, today)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    if scope is None:
        raise NotFound()
    suggestion = (
        _with_overdue(Suggestion.objects.all(), today)
        .filter(scope, pk=pk)
        .select_related(
            "unit", "district", "city__policy", "department", "subdistrict", "forwarded_by",
            "department_answer_recorded_by", "closed_by", "hidden_by", "released_by",
        )
        .prefetch_related(
            "recipients__planner", "photos", _public_replies(),
            Prefetch("proposals", queryset=WorkProposal.objects.only("id", "title", "status", "submitted_at")),
        )
        .first()
    )
    if suggestion is None:
        raise NotFound()
    return suggestion


def forward_departments(suggestion) -> list[Department]:
    """The departments a suggestion may go to: the city's own and the unit's district's, active ones."""
    return list(
        Department.objects.filter(city_id=suggestion.city_id, is_active=True)
        .filter(Q(district__isnull=True) | Q(district_id=suggestion.district_id))
        .select_related("district")
    )


def suggestions_for_proposal(*, user, unit) -> list[Suggestion]:
    """Visible suggestions of the unit a planner may group into a proposal."""
    return list(
        suggestion_list(user=user, unit_id=unit.pk, hidden=False).select_related(None).select_related("unit")
    )


def planner_units(user) -> list[ResponsibilityUnit]:
    """The units the planner serves today (for its inbox filters and the proposal form)."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.PLANNER:
        return []
    ids = Appointment.objects.active(on=clock.today()).filter(planner__user=user).values("unit_id")
    return list(ResponsibilityUnit.objects.filter(pk__in=ids).select_related("district").order_by("name", "id"))


# --- work proposals -------------------------------------------------------------------------------------------


def _proposal_scope_q(user, today) -> Q | None:
    scope = _scope_q(user, today)
    if scope is not None:
        if getattr(user, "role", "") == Role.PLANNER:
            # A planner also keeps the proposals it wrote after leaving the unit.
            scope = scope | Q(author=user)
        return scope
    if getattr(user, "is_authenticated", False) and user.role == Role.HIRING_ENTITY:
        return Q(unit__memberships__left_at__isnull=True, unit__memberships__subdistrict__in=user.subdistricts.values("pk"))
    return None


def work_proposal_list(*, user, status: str = ""):
    today = clock.today()
    scope = _proposal_scope_q(user, today)
    if scope is None:
        raise Forbidden("您的角色无权查看工作建议。")
    queryset = (
        WorkProposal.objects.filter(scope)
        .select_related("unit", "district", "planner", "city")
        .annotate(suggestion_count=Count("suggestions", distinct=True))
        .distinct()
    )
    if status:
        if status not in WorkProposalStatus.values:
            raise DomainError("状态参数不正确。", code="invalid_status")
        queryset = queryset.filter(status=status)
    return queryset.order_by("-submitted_at", "-id")


def work_proposal_get(*, user, pk) -> WorkProposal:
    today = clock.today()
    scope = _proposal_scope_q(user, today)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    if scope is None:
        raise NotFound()
    proposal = (
        WorkProposal.objects.filter(scope, pk=pk)
        .select_related("unit", "district", "planner", "city__policy", "acknowledged_by", "author")
        .prefetch_related(
            Prefetch(
                "suggestions",
                queryset=Suggestion.objects.defer("contact_name", "contact_phone")
                .select_related("department", "subdistrict")
                .prefetch_related(_public_replies()),
            )
        )
        .distinct()
        .first()
    )
    if proposal is None:
        raise NotFound()
    return proposal
