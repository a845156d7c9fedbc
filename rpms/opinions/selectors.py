"""Reads of written opinions, with the role scoping applied here once.

Opinions are not public: drafts are their author's own; issued and superseded ones are seen by the
unit's hiring entity, the district, the city (administrators, auditors) and the planners serving the
unit. Anything else is answered 404. Lists use select_related / prefetch_related / subqueries, so
their query count does not grow with the number of rows."""
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery

from rpms.accounts.models import Role
from rpms.appointments.serving import serving_appointments
from rpms.core.errors import NotFound
from rpms.geography.models import Department, ResponsibilityUnit, UnitMembership

from . import permissions
from .models import OpinionReceipt, OpinionResponse, OpinionStatus, WrittenOpinion

NOT_FOUND = "书面意见不存在或您无权查看。"


def _base():
    return WrittenOpinion.objects.select_related(
        "city", "unit__district", "planner", "author", "document", "supersedes__document", "superseded_by__document"
    )


# What a list row (page, API, Excel export) shows: no frozen content, texts or document snapshots (JSON decoded
# per row), and of the correcting version only its id and status (issue #15).
LIST_FIELDS = (
    "id", "city", "city__code", "city__name", "unit", "unit__name", "unit__district", "unit__district__name",
    "planner", "planner__name", "author", "title", "subject", "subject_kind", "version", "status", "issued_at",
    "created_at", "content_hash", "supersedes", "document", "document__number", "document__verification_code",
    "superseded_by__id", "superseded_by__status", "superseded_by__supersedes",
)


def _list_base():
    return WrittenOpinion.objects.select_related(
        "city", "unit__district", "planner", "document", "superseded_by"
    ).only(*LIST_FIELDS)


def _issued() -> Q:
    return ~Q(status=OpinionStatus.DRAFT)


def _entity_unit_ids(user):
    return UnitMembership.objects.filter(left_at__isnull=True, subdistrict__in=user.subdistricts.all()).values("unit_id")


def _district_unit_ids(user):
    """The units of a district officer's districts, as a subquery: `unit_id IN (…)` needs no join to the units, so
    a list ordered by issue time reads the (issued_at, created_at, id) index (issue #15)."""
    return ResponsibilityUnit.objects.filter(district__in=user.districts.values("id")).values("pk")


# The staff pages list this many opinions a page; the API gives `limit` rows (default API_LIMIT, at most API_MAX).
PAGE_SIZE = 50
API_LIMIT = 50
API_MAX = 500


def visible_q(user) -> Q | None:
    """The Q limiting opinions to what `user` may see, or None for nothing at all."""
    if not getattr(user, "is_authenticated", False):
        return None
    own = Q(author=user)
    if user.is_superuser:
        return own | _issued()
    if user.role == Role.PLANNER:
        serving_units = serving_appointments(user).values("unit_id")
        return own | (_issued() & Q(unit_id__in=serving_units))
    if user.role == Role.HIRING_ENTITY:
        return _issued() & Q(unit_id__in=_entity_unit_ids(user))
    if user.role == Role.DISTRICT_OFFICER:
        return _issued() & Q(unit_id__in=_district_unit_ids(user))
    if user.role == Role.CITY_ADMIN:
        return _issued() & Q(city_id=user.city_id)
    if user.role == Role.AUDITOR:
        return _issued() if user.city_id is None else _issued() & Q(city_id=user.city_id)
    return None


def inbox_q(user) -> Q | None:
    """What reached the user as a recipient: the hiring entity's units, the officer's districts."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.role == Role.HIRING_ENTITY:
        return _issued() & Q(unit_id__in=_entity_unit_ids(user))
    if user.role == Role.DISTRICT_OFFICER:
        return _issued() & Q(unit_id__in=_district_unit_ids(user))
    return None


def opinion_list(*, user, status: str = "", unit_id: int | None = None, mine: bool = False):
    """Opinions the user may see, newest first, with what a list row shows (constant query count)."""
    scope = visible_q(user)
    if scope is None:
        return WrittenOpinion.objects.none()
    queryset = _list_base().filter(scope)
    if mine:
        queryset = queryset.filter(author=user)
    if status:
        if status not in OpinionStatus.values:
            return WrittenOpinion.objects.none()
        queryset = queryset.filter(status=status)
    if unit_id:
        queryset = queryset.filter(unit_id=unit_id)
    # Drafts (not issued yet) first on every database, then the newest issued.
    return queryset.order_by(F("issued_at").desc(nulls_first=True), "-created_at", "-id")


def opinion_inbox(*, user, unread_only: bool = False):
    """"收到的书面意见": issued opinions delivered to the user's units or districts, each annotated with
    the user's own read time (`my_read_at`, None when unread)."""
    scope = inbox_q(user)
    if scope is None:
        return WrittenOpinion.objects.none()
    mine = OpinionReceipt.objects.filter(opinion=OuterRef("pk"), user=user)
    queryset = _list_base().filter(scope).annotate(my_read_at=Subquery(mine.values("read_at")[:1]))
    if unread_only:
        queryset = queryset.filter(~Exists(mine))
    return queryset.order_by("-issued_at", "-id")


def unread_count(user) -> int:
    if inbox_q(user) is None:
        return 0
    return opinion_inbox(user=user, unread_only=True).filter(status=OpinionStatus.ISSUED).count()


def opinion_get(*, user, pk) -> WrittenOpinion:
    """One opinion with everything its page shows; 404 if it does not exist or is out of scope."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(NOT_FOUND) from None
    opinion = (
        _base()
        .prefetch_related(
            "attachments",
            "departments",
            Prefetch("responses", queryset=OpinionResponse.objects.select_related("department", "recorded_by")),
            Prefetch("receipts", queryset=OpinionReceipt.objects.select_related("user")),
        )
        .filter(pk=pk)
        .first()
    )
    if opinion is None or not permissions.can_view(user, opinion):
        raise NotFound(NOT_FOUND)
    return opinion


def opinion_versions(opinion: WrittenOpinion, *, include_draft: bool = False) -> list[WrittenOpinion]:
    """Every version of the opinion, oldest first (a handful at most: one query per version). A draft
    correction is listed only when asked (for its author)."""
    chain = [opinion]
    current = opinion
    while current.supersedes_id:
        current = WrittenOpinion.objects.select_related("document").get(pk=current.supersedes_id)
        chain.insert(0, current)
    current = opinion
    while True:
        newer = WrittenOpinion.objects.select_related("document").filter(supersedes_id=current.pk).first()
        if newer is None:
            break
        chain.append(newer)
        current = newer
    return [v for v in chain if include_draft or v.status != OpinionStatus.DRAFT or v.pk == opinion.pk]


def department_choices(unit: ResponsibilityUnit):
    """The departments an opinion on `unit` may go to: the city's and the unit's district's, active."""
    return (
        Department.objects.filter(city_id=unit.city_id, is_active=True)
        .filter(Q(district__isnull=True) | Q(district_id=unit.district_id))
        .select_related("district")
        .order_by("district_id", "name")
    )


def serving_units(user) -> list[ResponsibilityUnit]:
    """The units the planner serves today (where it may draft an opinion)."""
    units = {}
    for appointment in serving_appointments(user).select_related("unit__district", "unit__city"):
        units.setdefault(appointment.unit_id, appointment.unit)
    return list(units.values())
