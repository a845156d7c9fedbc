"""Exceptions to in-principle limits (B18 "原则上", B19(2) "原则上不超过3个", B19(7) "原则上不超过8人").

A city's policy marks each limit strict or in principle (rpms.cities.limits). An act that would exceed a
limit — appointing a planner to one unit too many (appointments), adding a core team member beyond the
cap (`services.team_member_add`), approving an ineligible application (recruitment) or commissioning an
ineligible person (`services.planner_commission`) — calls `limit_exceeded` at the point where it is
refused today, with a `Waiver` saying what the act is and the justification given with it
(`exception_reason`):

- no justification: refused as before (the message says when an exception may be asked);
- a strict limit: refused even with one (409 `limit_strict`);
- the city administrator's act: the exception is granted at once (an approved record) and the act proceeds;
- anyone else's act: a pending request is saved and the act waits (`ExceptionRequested`, caught by the
  act's service inside its transaction, which returns the request). The city administrator approves it
  (`limit_exception_approve`: the act is then performed through its own service — the requester as the
  actor, every other rule checked again, the approved exception granted — by the handler its app
  registers on hooks.LIMIT_EXCEPTION_PERFORM) or refuses it with a reason (`limit_exception_refuse`).

Each decision writes one audit row citing the limit's article; an exception used by an act is linked to
the record the act made and written into the planner's dossier. The matching (rpms.dispatch) never
passes a waiver, so it never creates an exception.

Reads: `limit_exception_list` (scoped: the city's administrators and auditors see the city's, a district
officer his districts' and his own, anyone else his own requests), `limit_exception_get`, and the
exceptions of a record (`exceptions_for_result`, `exceptions_for_source`, `exceptions_for_planner`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.accounts.scoping import role_scope_q
from rpms.cities.limits import IN_PRINCIPLE, STRICTNESS_LABELS, is_in_principle, limit_article, limit_label
from rpms.core import clock
from rpms.core import hooks
from rpms.core.audit import _jsonable, audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound

from .dossier import dossier_event_record
from .models import (
    DossierEventKind,
    ExceptionAct,
    ExceptionStatus,
    ExceptionSubject,
    LimitCode,
    LimitException,
    Planner,
)

REASON_MAX = 2000
SNAPSHOT_FIELDS = ["status", "decided_by", "decided_at", "decision_note", "performed_at", "result_type", "result_id"]


@dataclass
class Waiver:
    """What an act carries about exceeding in-principle limits.

    act: ExceptionAct code; subject: ExceptionSubject code; payload: what performs the act again (JSON);
    source: the record the act is asked on (a proposal, an application), if any; reason: the written
    justification given with the act ("exception_reason"); granted: the approved exception being performed;
    used: the exceptions the act proceeds under (filled by `limit_exceeded`)."""

    act: str
    subject: str
    reason: str = ""
    payload: dict = field(default_factory=dict)
    source: Any = None
    granted: LimitException | None = None
    used: list = field(default_factory=list)


class ExceptionRequested(Exception):
    """The act waits for the city administrator's approval of `exception` (a pending request, saved).
    Not a refusal: the act's service catches it inside its own transaction and returns the request."""

    def __init__(self, exception: LimitException):
        super().__init__(f"limit exception {exception.pk} requested")
        self.exception = exception


def _who(user) -> str:
    return (getattr(user, "display_name", "") or getattr(user, "username", "")) if user else ""


def is_decider(user, city) -> bool:
    """The city administrator (of the record's city) decides exceptions."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or (user.role == Role.CITY_ADMIN and user.city_id == getattr(city, "pk", city))


def reason_clean(value) -> str:
    reason = str(value or "").strip()
    if len(reason) > REASON_MAX:
        raise DomainError(f"例外理由过长（不超过 {REASON_MAX} 字）。", code="invalid_field")
    return reason


def _hinted(refusal: DomainError, *, city, limit: str, article: str) -> DomainError:
    """The refusal of an in-principle limit, saying how an exception is asked for."""
    hint = (f"（{article}为原则性规定：确有必要超出的，可在办理时写明例外理由（接口字段 exception_reason），"
            f"经{city.name}市级主管部门批准后办理。）")
    details = refusal.details if isinstance(refusal.details, dict) else ({"details": refusal.details} if refusal.details else {})
    error = type(refusal)(refusal.message + hint, code=refusal.code,
                          details={**details, "limit": limit, "strictness": IN_PRINCIPLE})
    error.status = refusal.status
    return error


def _pending_twin(*, city, limit: str, waiver: Waiver, planner, unit) -> LimitException | None:
    pending = LimitException.objects.filter(city=city, limit=limit, act=waiver.act, status=ExceptionStatus.PENDING)
    if waiver.source is not None:
        return pending.filter(source_type=waiver.source._meta.label_lower, source_id=str(waiver.source.pk)).first()
    return pending.filter(planner=planner, unit=unit).first()


def limit_exceeded(*, actor, city, limit: str, refusal: DomainError, waiver: Waiver | None, subject_label: str,
                   value: int | None = None, limit_value: int | None = None, shortfall=(), planner=None,
                   unit=None) -> LimitException:
    """Called where an act would exceed `limit` (it would raise `refusal` today). Returns the approved
    exception the act proceeds under; otherwise raises: the refusal (no waiver, no justification), 409
    `limit_strict` (a strict limit), or ExceptionRequested (a pending request saved for the city
    administrator). Call it inside the act's transaction."""
    if limit not in LimitCode.values:
        raise ValueError(f"unknown limit: {limit}")
    article = limit_article(city, limit)
    in_principle = is_in_principle(city.policy, limit)
    if waiver is None:
        raise refusal
    granted = waiver.granted
    if granted is not None:
        # Performing an approved request: it covers this limit of this act, up to the value approved.
        if granted.limit == limit and granted.act == waiver.act and granted.status == ExceptionStatus.APPROVED:
            if value is not None and granted.value is not None and value > granted.value:
                raise Conflict(f"{refusal.message}（批准的例外为 {granted.figures}，现已超出批准的范围。）",
                               code="exception_exceeded", details={"limit": limit, "approved": granted.value, "value": value})
            if granted not in waiver.used:
                waiver.used.append(granted)
            return granted
        raise refusal
    reason = reason_clean(waiver.reason)
    if not reason:
        raise _hinted(refusal, city=city, limit=limit, article=article) if in_principle else refusal
    if not in_principle:
        raise Conflict(
            f"{refusal.message.rstrip('。')}。按{city.name}的规定，{limit_label(limit)}为硬性要求（{article}，"
            f"{STRICTNESS_LABELS['strict']}），不能以例外理由办理。",
            code="limit_strict", details={"limit": limit, "article": article, "refused": refusal.code},
        )
    twin = _pending_twin(city=city, limit=limit, waiver=waiver, planner=planner, unit=unit)
    if twin is not None:
        raise Conflict(f"该事项已有待审批的例外申请（#{twin.pk}，{_who(twin.requested_by)}于"
                       f"{timezone.localtime(twin.requested_at):%Y-%m-%d} 提出），请等待{city.name}市级主管部门审批。",
                       code="exception_pending", details={"exception": twin.pk})
    now = clock.now()
    granting = is_decider(actor, city)
    district = getattr(unit, "district", None)
    record = LimitException(
        city=city, limit=limit, article=article[:64], limit_value=limit_value, value=value,
        shortfall=[str(line)[:500] for line in shortfall] or [refusal.message[:500]],
        act=waiver.act, subject=waiver.subject, subject_label=subject_label[:300], payload=_jsonable(waiver.payload),
        planner=planner if getattr(planner, "pk", None) else None, unit=unit, district=district,
        source_type=waiver.source._meta.label_lower if waiver.source is not None else "",
        source_id=str(waiver.source.pk) if waiver.source is not None else "",
        reason=reason, requested_by=actor, requested_at=now,
        status=ExceptionStatus.APPROVED if granting else ExceptionStatus.PENDING,
        decided_by=actor if granting else None, decided_at=now if granting else None,
        decision_note="市级主管部门办理时一并批准" if granting else "",
    )
    record.full_clean(exclude=["planner", "unit", "district", "requested_by", "decided_by", "city"])
    record.save()
    audit_log(
        actor=actor, action="registry.limit_exception_grant" if granting else "registry.limit_exception_request",
        obj=record, city_code=city.code,
        after={**snapshot(record, ["limit", "act", "subject", "value", "limit_value", "reason", "status"]),
               "subject_label": record.subject_label, "source": f"{record.source_type}:{record.source_id}"},
        article=article,
        summary=(f"{'批准' if granting else '申请'}{limit_label(limit)}例外：{record.get_act_display()} {record.subject_label}"
                 + (f"，{record.figures}" if record.figures else ""))[:255],
    )
    if not granting:
        raise ExceptionRequested(record)
    waiver.used.append(record)
    return record


def _dossier_row(record: LimitException) -> None:
    decider = _who(record.decided_by) or "市级主管部门"
    dossier_event_record(
        planner=record.planner, kind=DossierEventKind.LIMIT_EXCEPTION, article=record.article, actor=record.decided_by,
        occurred_at=record.performed_at or record.decided_at, source=record,
        summary=(f"经{decider}批准，超出{record.get_limit_display()}办理{record.get_act_display()}"
                 + (f"（{record.figures}）" if record.figures else "") + f"：{record.subject_label}。理由：{record.reason}"),
        data={"exception": record.pk, "limit": record.limit, "value": record.value, "limit_value": record.limit_value},
    )


def exceptions_performed(*, waiver: Waiver | None, result, planner=None) -> list[LimitException]:
    """After the act: each exception it proceeded under is linked to the record made and, once the planner
    is known, written into the planner's dossier. Inside the act's transaction."""
    if waiver is None:
        return []
    records = list(waiver.used)
    if waiver.granted is not None and waiver.granted not in records:
        records.append(waiver.granted)  # approved, though the limit no longer bit when performed
    now = clock.now()
    for record in records:
        record.result_type = result._meta.label_lower
        record.result_id = str(result.pk)
        record.performed_at = now
        if planner is not None and record.planner_id is None:
            record.planner = planner
        record.save(update_fields=["result_type", "result_id", "performed_at", "planner", "updated_at"])
        if record.planner_id is not None:
            _dossier_row(record)
    return records


def exceptions_attach(*, source, planner: Planner) -> list[LimitException]:
    """An application admitted (recruitment): the approved exceptions it was approved under join the new
    planner's dossier."""
    records = list(LimitException.objects.filter(
        source_type=source._meta.label_lower, source_id=str(source.pk), status=ExceptionStatus.APPROVED,
        planner__isnull=True,
    ).select_related("decided_by"))
    for record in records:
        record.planner = planner
        record.save(update_fields=["planner", "updated_at"])
        _dossier_row(record)
    return records


def exceptions_lapse(*, source, actor, note: str) -> list[int]:
    """The record a request was made on (a proposal) was returned or withdrawn: its pending requests lapse
    (nothing is left to approve). Inside that act's transaction, which audits it; returns their ids."""
    records = list(LimitException.objects.select_for_update().filter(
        source_type=source._meta.label_lower, source_id=str(source.pk), status=ExceptionStatus.PENDING))
    now = clock.now()
    for record in records:
        record.move_to(ExceptionStatus.LAPSED)
        record.decided_by = actor if getattr(actor, "is_authenticated", False) else None
        record.decided_at = now
        record.decision_note = note[:2000]
        record.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    return [record.pk for record in records]


# --- deciding a pending request --------------------------------------------------------------------------


def _lock(exception) -> LimitException:
    pk = getattr(exception, "pk", exception)
    if LimitException.objects.select_for_update().filter(pk=pk).first() is None:
        raise NotFound()
    return _base().get(pk=pk)


def _require_decider(actor, record: LimitException, what: str) -> None:
    if is_decider(actor, record.city):
        return
    if can_see(actor, record):
        raise Forbidden(f"原则性规定的例外由{record.city.name}市级主管部门{what}（{record.article}）。",
                        code="not_city_admin")
    raise NotFound()


def _require_pending(record: LimitException) -> None:
    if record.status != ExceptionStatus.PENDING:
        raise Conflict(f"该例外申请当前为“{record.get_status_display()}”，不能再审批。", code="exception_not_pending")


@transaction.atomic
def limit_exception_approve(*, actor, exception, note: str = "") -> LimitException:
    """The city administrator approves a pending request; the act that waited is then performed through its
    own service (hooks.LIMIT_EXCEPTION_PERFORM). If it can no longer be done (another rule now refuses it),
    nothing is approved: 409 with the reason."""
    record = _lock(exception)
    _require_decider(actor, record, "审批")
    _require_pending(record)
    note = reason_clean(note)
    before = snapshot(record, SNAPSHOT_FIELDS)
    record.move_to(ExceptionStatus.APPROVED)
    record.decided_by = actor
    record.decided_at = clock.now()
    record.decision_note = note
    record.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit_log(
        actor=actor, action="registry.limit_exception_approve", obj=record, before=before,
        after={**snapshot(record, SNAPSHOT_FIELDS), "requested_by": record.requested_by_id}, article=record.article,
        city_code=record.city.code,
        summary=f"批准{record.get_limit_display()}例外：{record.get_act_display()} {record.subject_label}"[:255],
    )
    try:
        results = [r for r in hooks.run(hooks.LIMIT_EXCEPTION_PERFORM, exception=record) if r is not None]
    except ExceptionRequested:  # pragma: no cover - a performed act carries its approval
        raise Conflict("办理时需要另一项例外批准，请退回后重新申请。", code="exception_chain") from None
    except (NotFound, Forbidden, DomainError) as exc:
        raise Conflict(f"不能批准：按原申请办理{record.get_act_display()}时未能办理——{exc.message}",
                       code=exc.code if exc.code != "not_found" else "act_not_possible",
                       details={"refused": exc.code}) from None
    if not results:
        raise Conflict(f"系统无法办理“{record.get_act_display()}”，请不予批准并请申请人重新办理。", code="act_unavailable")
    return _base().get(pk=record.pk)


@transaction.atomic
def limit_exception_refuse(*, actor, exception, reason: str) -> LimitException:
    """The city administrator refuses a pending request with a reason; the act that waited is not done."""
    record = _lock(exception)
    _require_decider(actor, record, "审批")
    _require_pending(record)
    reason = reason_clean(reason)
    if not reason:
        raise DomainError("请写明不予批准的理由。", code="reason_required")
    before = snapshot(record, SNAPSHOT_FIELDS)
    record.move_to(ExceptionStatus.REFUSED)
    record.decided_by = actor
    record.decided_at = clock.now()
    record.decision_note = reason
    record.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit_log(
        actor=actor, action="registry.limit_exception_refuse", obj=record, before=before,
        after=snapshot(record, SNAPSHOT_FIELDS), article=record.article, city_code=record.city.code,
        summary=f"不予批准{record.get_limit_display()}例外：{record.get_act_display()} {record.subject_label}"[:255],
    )
    return record


# --- reads -----------------------------------------------------------------------------------------------


def _base():
    return LimitException.objects.select_related(
        "city__policy", "planner", "unit", "district", "requested_by", "decided_by",
    )


def scope_q(user) -> Q | None:
    """None: every record. City administrators and auditors: their city; district officers: their
    districts' records and their own requests; anyone else: their own requests."""
    def own(actor):
        return Q(requested_by=actor)

    # Whoever asked for an exception sees their own request, whatever their role (a user without one too).
    rules = {Role.DISTRICT_OFFICER: lambda actor: Q(district__in=actor.districts.values("pk")) | own(actor),
             Role.HIRING_ENTITY: own, Role.PLANNER: own, "": own}
    return role_scope_q(user, rules=rules)


def can_see(user, record: LimitException) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or (user.role == Role.AUDITOR and user.city_id is None):
        return True
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        return user.city_id == record.city_id
    if record.requested_by_id == user.pk:
        return True
    if user.role == Role.DISTRICT_OFFICER and record.district_id is not None:
        return user.districts.filter(pk=record.district_id).exists()
    return False


def limit_exception_list(*, user, status: str = "", limit: str = ""):
    """The requests and grants the user may see, newest first (constant query count)."""
    if status and status not in ExceptionStatus.values:
        raise DomainError(f"未知的状态筛选“{status}”，可选：{'、'.join(ExceptionStatus.values)}。", code="invalid_status")
    if limit and limit not in LimitCode.values:
        raise DomainError(f"未知的限制“{limit}”，可选：{'、'.join(LimitCode.values)}。", code="invalid_limit")
    queryset = _base()
    scope = scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if status:
        queryset = queryset.filter(status=status)
    if limit:
        queryset = queryset.filter(limit=limit)
    return queryset.order_by("-requested_at", "-id")


def limit_exception_get(*, user, pk) -> LimitException:
    record = _base().filter(pk=pk).first()
    if record is None or not can_see(user, record):
        raise NotFound()
    return record


def exceptions_for_result(obj) -> list[LimitException]:
    """The exceptions an act that made `obj` (an appointment, a team member, an application …) proceeded under."""
    return list(_base().filter(result_type=obj._meta.label_lower, result_id=str(obj.pk)).order_by("requested_at", "id"))


def exceptions_for_source(obj) -> list[LimitException]:
    """The exceptions asked for an act on `obj` (a selection proposal, an application), whatever their state."""
    return list(_base().filter(source_type=obj._meta.label_lower, source_id=str(obj.pk)).order_by("requested_at", "id"))


def exceptions_for_planner(planner: Planner) -> list[LimitException]:
    """The approved exceptions of a planner's (team's) record, for the dossier."""
    return list(_base().filter(planner=planner, status=ExceptionStatus.APPROVED).order_by("decided_at", "id"))


def subject_url(record: LimitException) -> str:
    """The page of what the exception concerns (the record made, else the record asked on), or ""."""
    from django.urls import NoReverseMatch, reverse

    pages = {
        "appointments.appointment": "appointments:detail",
        "appointments.selectionproposal": "appointments:proposal_detail",
        "recruitment.application": "recruitment:application_detail",
        "registry.planner": "registry:dossier",
    }
    for kind, pk in ((record.result_type, record.result_id), (record.source_type, record.source_id)):
        name = pages.get(kind)
        if name and pk:
            try:
                return reverse(name, args=[int(pk)])
            except (NoReverseMatch, ValueError):
                continue
    if record.planner_id:
        return reverse("registry:dossier", args=[record.planner_id])
    return ""


def limit_exception_json(record: LimitException) -> dict:
    def _at(value):
        return timezone.localtime(value).isoformat() if value else None

    return {
        "id": record.pk,
        "city": record.city.code,
        "limit": record.limit,
        "limit_label": record.get_limit_display(),
        "strictness": IN_PRINCIPLE,
        "article": record.article,
        "limit_value": record.limit_value,
        "value": record.value,
        "figures": record.figures,
        "shortfall": list(record.shortfall or []),
        "act": record.act,
        "act_label": record.get_act_display(),
        "subject": record.subject,
        "subject_label": record.get_subject_display(),
        "subject_name": record.subject_label,
        "planner": {"id": record.planner_id, "name": record.planner.name} if record.planner_id else None,
        "unit": {"id": record.unit_id, "name": record.unit.name} if record.unit_id else None,
        "district": {"id": record.district_id, "name": record.district.name} if record.district_id else None,
        "source": {"type": record.source_type, "id": record.source_id} if record.source_type else None,
        "result": {"type": record.result_type, "id": record.result_id} if record.result_type else None,
        "reason": record.reason,
        "status": record.status,
        "status_label": record.get_status_display(),
        "requested_by": _who(record.requested_by),
        "requested_at": _at(record.requested_at),
        "decided_by": _who(record.decided_by) or None,
        "decided_at": _at(record.decided_at),
        "decision_note": record.decision_note,
        "performed_at": _at(record.performed_at),
        "url": subject_url(record),
    }
