"""Reads of the audit trail, scoped by role once here for the page, the export and the API.

Who may read ActionLog: the audit administrator (every city's rows), city administrators (their own city's
rows) and auditors (their city's rows, or every row when the auditor has no city). Everyone else is refused
(403) — the Django superuser included, whatever its role: it is for installation only and does not read the
audit trail (三权分立, issue #16 item 2)."""
import datetime
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from .errors import DomainError, Forbidden, NotFound
from .models import ActionLog, BackgroundJob
from .roles import Role

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# The filters `action_log_list` understands; text values are stripped, dates are datetime.date.
AUDIT_TEXT_FILTERS = ("actor", "action", "object_type", "object_id", "article")
AUDIT_DATE_FILTERS = ("since", "until")
AUDIT_FILTER_LABELS = {
    "actor": "操作人",
    "action": "动作",
    "object_type": "对象类型",
    "object_id": "对象编号",
    "article": "依据条款",
    "since": "起始日期",
    "until": "截止日期",
}


AUDIT_READER_ROLES = (Role.AUDIT_ADMIN, Role.CITY_ADMIN, Role.AUDITOR)
# Who may check the chain (GET /api/v1/audit/verify): it speaks of the whole trail, every city's rows.
AUDIT_VERIFIER_ROLES = (Role.AUDIT_ADMIN, Role.AUDITOR)


def can_view_action_log(user) -> bool:
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return False
    return user.role in AUDIT_READER_ROLES


def reads_every_city(user) -> bool:
    """The audit administrator, and an auditor without a city, read every city's rows."""
    return user.role == Role.AUDIT_ADMIN or (user.role == Role.AUDITOR and user.city_id is None)


def action_log_scope(user) -> Q:
    """The rows `user` may read, as a Q; raises Forbidden for every other role (and for the superuser)."""
    if not can_view_action_log(user):
        raise Forbidden("只有审计管理员、市级管理员和审计员可以查看操作日志。")
    if reads_every_city(user):
        return Q()
    if user.city_id is None:
        # A city administrator without a city has no city's rows to read.
        return Q(pk__in=[])
    return Q(city_code=user.city.code)


def parse_filter_date(value, label: str) -> datetime.date | None:
    """'YYYY-MM-DD' → date; empty → None; anything else → DomainError (400) in Chinese."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError(f"{label}格式不正确，应为 YYYY-MM-DD（如 2026-03-01）。", code="invalid_date") from None


def parse_action_log_filters(params: Mapping) -> dict:
    """Normalises raw query parameters into the filters `action_log_list` takes."""
    filters = {key: str(params.get(key) or "").strip() for key in AUDIT_TEXT_FILTERS}
    for key in AUDIT_DATE_FILTERS:
        filters[key] = parse_filter_date(params.get(key), AUDIT_FILTER_LABELS[key])
    if filters["since"] and filters["until"] and filters["since"] > filters["until"]:
        raise DomainError("起始日期不能晚于截止日期。", code="invalid_date_range")
    return filters


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=LOCAL_TZ)


def action_log_list(*, user, filters: Mapping | None = None) -> QuerySet[ActionLog]:
    """The audit rows `user` may read, filtered, newest first.

    filters: actor (user name or the person's name contains, case-insensitive), action (exact), object_type (exact),
    object_id (exact), article ("B19" also matches "B19(2)"), since / until (dates, inclusive,
    Asia/Shanghai days). The queryset touches only ActionLog (the actor's name is stored on the
    row), so listing it costs the same number of queries whatever the number of rows.
    """
    filters = filters or {}
    queryset = ActionLog.objects.filter(action_log_scope(user))
    actor = (filters.get("actor") or "").strip()
    if actor:
        # The account name stored on the row, or the person's name (what the page shows).
        from django.contrib.auth import get_user_model

        named = get_user_model().objects.filter(display_name__icontains=actor).values("pk")
        queryset = queryset.filter(Q(actor_repr__icontains=actor) | Q(actor_id__in=named))
    for key in ("action", "object_type", "object_id"):
        value = (filters.get(key) or "").strip()
        if value:
            queryset = queryset.filter(**{key: value})
    article = (filters.get("article") or "").strip()
    if article:
        queryset = queryset.filter(Q(article__iexact=article) | Q(article__istartswith=f"{article}("))
    since = filters.get("since")
    if since:
        queryset = queryset.filter(at__gte=_local_midnight(since))
    until = filters.get("until")
    if until:
        queryset = queryset.filter(at__lt=_local_midnight(until + datetime.timedelta(days=1)))
    return queryset.order_by("-at", "-id")


# The filter drop-downs' values are kept in the shared cache per city (and for "every city"), built once by a
# DISTINCT that the (city_code, action|object_type, at) indexes serve, and made stale only when a row brings an
# action or object type the cached lists lack (`note_action_log_values`, on every ActionLog saved) — never a
# DISTINCT over the whole trail per request (issue #15).
CHOICES_TIMEOUT = 7 * 24 * 3600
_ALL_CITIES = "*"


def audit_choices_scope(city_code: str) -> str:
    return f"audit-choices:{city_code or _ALL_CITIES}"


def _distinct_choices(city_code: str | None) -> dict[str, list[str]]:
    scoped = ActionLog.objects.all() if city_code is None else ActionLog.objects.filter(city_code=city_code)
    return {
        "actions": list(scoped.order_by("action").values_list("action", flat=True).distinct()),
        "object_types": list(
            scoped.exclude(object_type="").order_by("object_type").values_list("object_type", flat=True).distinct()
        ),
    }


def action_log_choices(*, user) -> dict[str, list[str]]:
    """Distinct actions and object types within the user's scope, for the filter form (from the cache)."""
    from . import pubcache

    action_log_scope(user)  # 403 for every other role
    if reads_every_city(user):
        city_code = None
    elif user.city_id is None:
        return {"actions": [], "object_types": []}
    else:
        city_code = user.city.code
    return pubcache.get_or_build(
        audit_choices_scope(city_code or ""), "choices", lambda: _distinct_choices(city_code), timeout=CHOICES_TIMEOUT
    )


def note_action_log_values(row: ActionLog) -> None:
    """A new audit row: if the cached drop-down lists of its city (or of every city) lack its action or object
    type, make them stale (pubcache.bump). Two cache reads per scope; nothing when nothing is cached."""
    from django.core.cache import cache

    from . import pubcache

    scopes = [audit_choices_scope("")] + ([audit_choices_scope(row.city_code)] if row.city_code else [])
    stale = []
    for scope in scopes:
        try:
            cached = cache.get(pubcache.key_for(scope, "choices"))
        except Exception:  # noqa: BLE001 — no cache: nothing cached to go stale
            return
        if cached is None:
            continue
        if row.action not in cached["actions"] or (row.object_type and row.object_type not in cached["object_types"]):
            stale.append(scope)
    if stale:
        pubcache.bump(*stale)


def background_job_get(*, user, job_id) -> BackgroundJob:
    """A background job (rpms.core.jobs) for its actor, superusers, and the city administrators of its city;
    anyone else — and a job that does not exist — is NotFound (its existence is not revealed)."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound()
    job = BackgroundJob.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    if user.is_superuser or job.actor_id == user.pk:
        return job
    if user.role == Role.CITY_ADMIN and user.city_id and job.city_code and job.city_code == user.city.code:
        return job
    raise NotFound()
