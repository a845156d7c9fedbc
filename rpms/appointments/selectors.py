"""Appointment reads, with role scoping applied here once.

Who sees which appointment (non-public record): the city administrators and auditors of its city,
the district officers of its unit's district, the hiring entity of its unit, and the planner itself;
anyone else gets 404. The public sees only filed (disclosed) appointments still in force or about to
start, and only public facts: names, employer, term, role, a contact channel — never an ID number or
a mobile (B19(7))."""
import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.accounts.scoping import role_scope_q
from rpms.cities.models import AppointmentMode, City, ContractSigner
from rpms.core import clock
from rpms.core.errors import DomainError, NotFound
from rpms.core.params import is_digits
from rpms.geography.models import District, ResponsibilityUnit, UnitMembership
from rpms.registry.models import TeamMember

from . import permissions
from .models import (
    STATE_LABELS,
    UPCOMING,
    Appointment,
    AppointmentStatus,
    ContractState,
    DistrictChief,
    DistrictChiefStatus,
    EndKind,
    SelectionProposal,
    SelectionStatus,
    SignedContract,
    TerminationEvidence,
    TerminationRequest,
    TerminationStatus,
    Withdrawal,
)

LIST_PAGE_SIZE = 200  # the API lists' default limit
# the appointments and proposals pages (issue #15: 200 rows, 88 KB, were 0.12 s for a district at 10× Beijing)
PAGE_SIZE = 100
# the pages of the expiring contracts and of the withdrawals (issue #15)
SHORT_PAGE_SIZE = 50
PUBLIC_CONTACT = "通过本系统向责任规划师提出意见建议"

STATUS_FILTERS = {
    "": "全部",
    AppointmentStatus.ACTIVE: "在任",
    UPCOMING: "待到任",
    AppointmentStatus.ENDED: "期满离任",
    AppointmentStatus.TERMINATED: "已解除",
    AppointmentStatus.WITHDRAWN: "已退出",
    AppointmentStatus.REMOVED: "因调出资源库终止",
}


def _memberships_prefetch(prefix: str = "unit__") -> Prefetch:
    return Prefetch(
        f"{prefix}memberships",
        queryset=UnitMembership.objects.filter(left_at__isnull=True).select_related("subdistrict").order_by("subdistrict__code"),
        to_attr="active_memberships",
    )


def base_queryset():
    return Appointment.objects.select_related(
        "city__policy", "unit__district", "unit__city__policy", "planner", "filed_by"
    )


def list_queryset():
    """`base_queryset` without the policy profile joined into every row (issue #15): a list's rows get it from
    the cache once per city (`with_policies`)."""
    return Appointment.objects.select_related("city", "unit__district", "unit__city", "planner", "filed_by")


def with_policies(rows, prefix: str = ""):
    """Every row's city (and its unit's city) holding the cached policy profile: role labels and the rules a
    row shows cost no query and no JSON decode per row."""
    from rpms.cities.selectors import attach_policies

    attach_policies(rows, f"{prefix}city")
    attach_policies(rows, f"{prefix}unit__city")
    return rows


def page_rows(queryset, start: int, stop: int, prefix: str = "") -> list:
    """The rows [start, stop) of a list queryset in its order: the page's ids first (PostgreSQL sorts narrow
    rows, not every joined column of every matching row), then those rows with everything they show, their
    cities holding the cached policy profile."""
    ids = list(queryset.values_list("pk", flat=True)[start:stop])
    if not ids:
        return []
    found = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return with_policies([found[pk] for pk in ids if pk in found], prefix)


def status_q(status: str, on: dt.date | None = None) -> Q:
    """The computed status (see Appointment.state) as a filter."""
    on = on or clock.today()
    active = Q(status=AppointmentStatus.ACTIVE)
    no_leave = Q(ended_on__isnull=True)
    if status == AppointmentStatus.ACTIVE:
        return active & Q(start__lte=on) & ((no_leave & Q(end__gte=on)) | Q(ended_on__gte=on))
    if status == UPCOMING:
        return active & Q(start__gt=on) & ((no_leave & Q(end__gte=on)) | Q(ended_on__gte=on))
    if status == AppointmentStatus.ENDED:
        return Q(status=AppointmentStatus.ENDED) | (active & no_leave & Q(end__lt=on))
    # An early ending whose last day has passed reads as its kind (a termination consented for a later
    # date keeps the stored status ACTIVE until then; rows without a kind are withdrawals).
    if status == AppointmentStatus.WITHDRAWN:
        return Q(status=AppointmentStatus.WITHDRAWN) | (
            active & Q(ended_on__lt=on) & Q(end_kind__in=["", EndKind.WITHDRAWAL])
        )
    if status == AppointmentStatus.TERMINATED:
        return Q(status=AppointmentStatus.TERMINATED) | (active & Q(ended_on__lt=on, end_kind=EndKind.TERMINATION))
    if status == AppointmentStatus.REMOVED:
        return Q(status=AppointmentStatus.REMOVED)
    raise DomainError(f"未知的状态筛选“{status}”。", code="invalid_status")


def scope_q(user) -> Q | None:
    """The appointments a signed-in user may see (None: everything)."""
    return role_scope_q(user, district="unit__district", unit="unit", planner="planner")


@dataclass
class AppointmentFilters:
    unit: int | None = None
    planner: int | None = None
    district: str = ""  # district id or code
    status: str = ""

    def as_query(self) -> dict:
        return {k: v for k, v in {"unit": self.unit, "planner": self.planner, "district": self.district,
                                   "status": self.status}.items() if v not in (None, "")}


def filters_parse(params) -> AppointmentFilters:
    def _int(name):
        raw = str(params.get(name) or "").strip()
        if not raw:
            return None
        if not is_digits(raw):
            raise DomainError(f"筛选条件“{name}”应为编号（整数）。", code="invalid_filter")
        return int(raw)

    status = str(params.get("status") or "").strip()
    if status not in STATUS_FILTERS:
        raise DomainError(f"未知的状态筛选“{status}”，可选：{'、'.join(k for k in STATUS_FILTERS if k)}。", code="invalid_status")
    return AppointmentFilters(unit=_int("unit"), planner=_int("planner"),
                              district=str(params.get("district") or "").strip()[:20], status=status)


def appointment_list(*, user, filters: AppointmentFilters | None = None, city: City | None = None):
    """The appointments the user may see, filtered; a queryset with everything a row shows loaded
    (query count independent of the number of rows)."""
    filters = filters or AppointmentFilters()
    queryset = list_queryset().prefetch_related(_memberships_prefetch())
    scope = scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if city is not None:
        queryset = queryset.filter(city=city)
    if filters.unit:
        queryset = queryset.filter(unit_id=filters.unit)
    if filters.planner:
        queryset = queryset.filter(planner_id=filters.planner)
    if filters.district:
        district = filters.district
        queryset = queryset.filter(unit__district__code=district) if not is_digits(district) or len(district) >= 6 \
            else queryset.filter(unit__district_id=int(district))
    if filters.status:
        queryset = queryset.filter(status_q(filters.status))
    return queryset.order_by("unit__district__sort_order", "unit__district__code", "unit__name", "role", "-start", "id")


def appointment_get(*, user, pk) -> Appointment:
    """One appointment for someone who may see it; otherwise NotFound, whether or not it exists."""
    appointment = (
        base_queryset().prefetch_related(
            _memberships_prefetch(), "terms", "withdrawals",
            Prefetch("termination_requests",
                     queryset=TerminationRequest.objects.select_related("requested_by", "consented_by", "refused_by")
                     .prefetch_related("evidence")),
            Prefetch("signed_contracts", queryset=SignedContract.objects.select_related("submitted_by", "decided_by")
                     .order_by("submitted_at", "id")),
        )
        .filter(pk=pk).first()
    )
    if appointment is None or not permissions.can_view(user, appointment):
        raise NotFound()
    return appointment


def appointment_documents(appointment: Appointment) -> list:
    from rpms.documents.selectors import documents_for

    return documents_for(appointment)


def appointment_document(*, user, pk, kind: str):
    """The current (latest) document of `kind` about an appointment the user may see; a revoked
    certificate is still downloadable by the parties (it says so when verified)."""
    from rpms.documents.models import IssuedDocument
    from rpms.documents.services import subject_key

    appointment = appointment_get(user=user, pk=pk)
    subject_type, subject_id = subject_key(appointment)
    document = (
        IssuedDocument.objects.select_related("city").filter(subject_type=subject_type, subject_id=subject_id, kind=kind)
        .order_by("-issued_at", "-id").first()
    )
    if document is None:
        raise NotFound("该文书不存在。")
    return appointment, document


def appointment_row(appointment: Appointment, on: dt.date | None = None) -> dict:
    """What a list row / the API list shows (no personal identifiers)."""
    unit = appointment.unit
    state = appointment.state(on)
    return {
        "id": appointment.pk,
        "city": appointment.city.code,
        "unit": {"id": unit.pk, "name": unit.name},
        "district": {"id": unit.district_id, "code": unit.district.code, "name": unit.district.name},
        "planner": {"id": appointment.planner_id, "name": appointment.planner.name, "kind": appointment.planner.kind,
                    "leader_name": appointment.planner.leader_name},
        "role": appointment.role,
        "role_label": appointment.role_label,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "ended_on": appointment.ended_on.isoformat() if appointment.ended_on else None,
        "term_no": appointment.term_no,
        "status": state,
        "status_label": STATE_LABELS[state],
        "contract_state": appointment.contract_state,
        "contract_state_label": appointment.get_contract_state_display(),
        "filed": appointment.is_filed,
        "filed_at": timezone.localtime(appointment.filed_at).isoformat() if appointment.filed_at else None,
        "disclosed": appointment.disclosed,
        "party_a": appointment.party_a,
        "source": appointment.source,
    }


def signed_contract_json(row: SignedContract) -> dict:
    def _who(user):
        return getattr(user, "display_name", "") or getattr(user, "username", "") if user else ""

    return {
        "id": row.pk,
        "term_no": row.term_no,
        "status": row.status,
        "status_label": row.get_status_display(),
        "signed_on": row.signed_on.isoformat(),
        "fee_yuan": row.fee_yuan,
        "file_name": row.original_name,
        "size": row.size,
        "sha256": row.sha256,
        "submitted_at": timezone.localtime(row.submitted_at).isoformat(),
        "submitted_by": _who(row.submitted_by),
        "decided_at": timezone.localtime(row.decided_at).isoformat() if row.decided_at else None,
        "decided_by": _who(row.decided_by),
        "return_reason": row.return_reason,
        "download": f"/api/v1/appointments/{row.appointment_id}/signed-contracts/{row.pk}",
    }



def appointment_detail(appointment: Appointment) -> dict:
    from rpms.registry import limits

    data = appointment_row(appointment)
    data.update({
        "fee_yuan": appointment.fee_yuan,
        "fee_note": appointment.fee_note,
        "service_focus": appointment.service_focus,
        # A running contract entered with its history (rpms.appointments.existing).
        "existing": appointment.source == "existing",
        "subdistricts": [s.name for s in appointment.unit.current_subdistricts],
        "terms": [
            {"term_no": t.term_no, "kind": t.kind, "kind_label": t.get_kind_display(), "start": t.start.isoformat(),
             "end": t.end.isoformat(), "years": t.years, "contract_number": t.contract_number,
             "paper_contract_number": t.paper_contract_number,
             "signed_on": t.signed_on.isoformat() if t.signed_on else None}
            for t in appointment.terms.all()
        ],
        "contract_withdrawal_notice_working_days": appointment.contract_withdrawal_notice_working_days,
        "withdrawal_notice": withdrawal_notice_json(appointment),
        "end_kind": appointment.end_kind or None,
        "end_kind_label": appointment.ending_label or None,
        "termination_requests": [termination_request_json(r) for r in appointment.termination_requests.all()],
        "withdrawals": [
            {"id": w.pk, "requested_on": w.requested_on.isoformat(), "leave_date": w.leave_date.isoformat(),
             "earliest": w.earliest.isoformat(), "reason": w.reason, "replacement": w.replacement_id}
            for w in appointment.withdrawals.all()
        ],
        "signed_contracts": [signed_contract_json(row) for row in appointment.signed_contracts.all()],
        "documents": [
            {"kind": d.kind, "kind_label": d.get_kind_display(), "title": d.title, "number": d.number,
             "verification_code": d.formatted_code, "status": d.status, "status_label": d.get_status_display(),
             "verify_path": d.verify_path()}
            for d in appointment_documents(appointment)
        ],
        # B19(2): an appointment beyond an in-principle cap names the exception it was made under.
        "limit_exceptions": [limits.limit_exception_json(e) for e in limits.exceptions_for_result(appointment)],
    })
    return data


def _iso(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def evidence_url(evidence: TerminationEvidence, appointment_id: int) -> str:
    return f"/api/v1/appointments/{appointment_id}/terminate/evidence/{evidence.pk}"


def termination_request_json(r: TerminationRequest, on: dt.date | None = None) -> dict:
    """One termination request (B25) as every party who may see the appointment sees it: its state
    (with "effective" computed from the effective date), dates, the clause named, the facts and
    evidence, the refusal's reason and the planner's statement."""
    state = r.state(on)
    return {
        "id": r.pk,
        "initiator": r.initiator,
        "initiator_label": r.get_initiator_display(),
        "reason": r.reason,
        "facts": r.reason if r.initiator == "entity" else "",
        "breach": r.breach,
        "breach_label": r.breach_label,
        "status": state,
        "stored_status": r.status,
        "status_label": r.state_label(on),
        "requested_at": _iso(r.requested_at),
        "consented_at": _iso(r.consented_at),
        "effective_on": _iso(r.effective_on),
        "refused_at": _iso(r.refused_at),
        "refusal_reason": r.refusal_reason,
        "withdrawn_at": _iso(r.withdrawn_at),
        "statement": r.statement,
        "statement_at": _iso(r.statement_at),
        "evidence": [
            {"id": e.pk, "name": e.original_name, "kind": e.kind, "size": e.size, "sha256": e.sha256,
             "uploaded_at": _iso(e.uploaded_at), "url": evidence_url(e, r.appointment_id)}
            for e in r.evidence.all()
        ],
    }


def withdrawal_notice_json(appointment: Appointment) -> dict:
    """How the planner may leave early: on notice (the contract's or the city's), or only by consent."""
    days, source = appointment.withdrawal_notice()
    return {"unilateral": days is not None, "working_days": days, "source": source if days is not None else None}


def termination_evidence_get(*, user, appointment_id, pk) -> TerminationEvidence:
    """An evidence file of a termination of an appointment the user may see (the parties, the district,
    the city); otherwise NotFound."""
    appointment = appointment_get(user=user, pk=appointment_id)
    evidence = TerminationEvidence.objects.filter(pk=pk, request__appointment=appointment).first()
    if evidence is None:
        raise NotFound("文件不存在或您无权下载。")
    return evidence


# --- expiry, withdrawals, pending lists ------------------------------------------------------------


def expiring_list(*, user, on: dt.date | None = None) -> list[Appointment]:
    """`expiring_queryset` as a list, every row's city holding the cached policy profile."""
    return with_policies(list(expiring_queryset(user=user, on=on)))


def expiring_queryset(*, user, on: dt.date | None = None):
    """Appointments the user may see whose term ends within their city's contract_expiry_warning_days
    (30) and which are not being ended otherwise: to renew or to replace."""
    on = on or clock.today()
    scope = scope_q(user)
    queryset = list_queryset().filter(status=AppointmentStatus.ACTIVE, ended_on__isnull=True, start__lte=on, end__gte=on)
    if scope is not None:
        queryset = queryset.filter(scope)
    # Each city has its own warning period (its policy read from the cache); one query for all cities.
    from rpms.cities.selectors import policy_for

    within = Q(pk__in=[])
    for city_id in City.objects.filter(is_active=True).values_list("pk", flat=True).order_by("sort_order", "code"):
        policy = policy_for(city_id)
        if policy is not None:
            within |= Q(city_id=city_id, end__lte=on + dt.timedelta(days=policy.contract_expiry_warning_days))
    return queryset.filter(within).order_by("city__sort_order", "city__code", "end", "id")


def withdrawal_list(*, user, pending_only: bool = False) -> list[Withdrawal]:
    """Withdrawals the user may see (city administrators, auditors, district officers, hiring entities)."""
    return with_policies(list(withdrawal_queryset(user=user, pending_only=pending_only)), "appointment__")


def withdrawal_queryset(*, user, pending_only: bool = False):
    """`withdrawal_list` as a queryset to page (rows without the policy profile: `with_policies`)."""
    queryset = Withdrawal.objects.select_related(
        "appointment__city", "appointment__unit__district", "appointment__unit__city", "appointment__planner",
        "replacement__planner",
    )
    scope = scope_q(user)
    if scope is not None:
        queryset = queryset.filter(appointment__in=Appointment.objects.filter(scope).values("pk"))
    if pending_only:
        queryset = queryset.filter(replacement__isnull=True, appointment__status=AppointmentStatus.ACTIVE)
    return queryset.order_by("leave_date", "id")


def withdrawal_get(*, user, pk) -> Withdrawal:
    withdrawal = Withdrawal.objects.select_related(
        "appointment__city__policy", "appointment__unit__district", "appointment__unit__city__policy",
        "appointment__planner", "replacement__planner",
    ).filter(pk=pk).first()
    if withdrawal is None or not permissions.can_view(user, withdrawal.appointment):
        raise NotFound()
    return withdrawal


def pending_termination_requests(*, user) -> list:
    """Planners' written requests waiting for the user's consent or refusal (the contract signer's)."""
    queryset = TerminationRequest.objects.select_related(
        "appointment__city", "appointment__unit__district", "appointment__unit__city", "appointment__planner"
    ).prefetch_related(_memberships_prefetch("appointment__unit__")).filter(
        status=TerminationStatus.PENDING, initiator="planner"
    )
    scope = scope_q(user)
    if scope is not None:
        queryset = queryset.filter(appointment__in=Appointment.objects.filter(scope).values("pk"))
    rows = with_policies(list(queryset), "appointment__")
    return [r for r in rows if permissions.is_contract_signer(user, r.appointment)]


# --- local selection proposals (written by rpms.appointments.proposals) ------------------------------------


def proposal_scope_q(user) -> Q | None:
    return role_scope_q(user, district="unit__district", unit="unit")


def _proposal_base():
    return SelectionProposal.objects.select_related(
        "city__policy", "unit__district", "unit__city__policy", "planner__city__policy", "proposed_by", "decided_by",
        "appointment",
    )


def proposal_can_see(user, proposal: SelectionProposal) -> bool:
    unit = proposal.unit
    return (
        permissions.is_city_admin_of(user, proposal.city_id)
        or (getattr(user, "role", None) == Role.AUDITOR and user.city_id in (None, proposal.city_id))
        or permissions.is_district_officer_of(user, unit.district_id)
        or permissions.is_hiring_entity_of(user, unit)
    )


def proposal_list(*, user, status: str = ""):
    """The proposals the user may see, newest first (constant query count: memberships prefetched)."""
    if status and status not in SelectionStatus.values:
        raise DomainError(f"未知的状态筛选“{status}”，可选：{'、'.join(SelectionStatus.values)}。", code="invalid_status")
    # Issue #15: no policy profile joined into the rows; a page gets it from the cache (`proposal_page`).
    queryset = SelectionProposal.objects.select_related(
        "city", "unit__district", "unit__city", "planner__city", "proposed_by", "decided_by", "appointment",
    ).prefetch_related(_memberships_prefetch())
    scope = proposal_scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-proposed_at", "-id")


def proposal_page(queryset, start: int, stop: int) -> list[SelectionProposal]:
    """The rows [start, stop) of a `proposal_list` queryset, their cities holding the cached policy profile."""
    from rpms.cities.selectors import attach_policies

    rows = list(queryset[start:stop])
    attach_policies(rows, "city")
    attach_policies(rows, "unit__city")
    attach_policies(rows, "planner__city")
    return rows


def proposal_get(*, user, pk) -> SelectionProposal:
    proposal = _proposal_base().prefetch_related(_memberships_prefetch()).filter(pk=pk).first()
    if proposal is None or not proposal_can_see(user, proposal):
        raise NotFound()
    return proposal



def _count_and_first(queryset, field: str):
    """(how many rows, the earliest `field`) of a list in one aggregate query, or None for an empty list."""
    from django.db.models import Count, Min

    found = queryset.order_by().aggregate(n=Count("pk"), first=Min(field))
    return (found["n"], found["first"]) if found["n"] else None


def pending_items(user) -> list:
    """The appointments' lines on the role home pages (registered in AppConfig.ready())."""
    from django.urls import reverse

    from rpms.core.pending import PendingItem

    if not getattr(user, "is_authenticated", False) or user.role not in (
        Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY
    ):
        return []
    items = []
    # Counted and dated in SQL (issue #15: the home page loaded whole lists to count them).
    expiring = _count_and_first(expiring_queryset(user=user), "end")
    if expiring:
        items.append(PendingItem(title="聘用合同即将到期（续聘或调整）", url=reverse("appointments:expiring"),
                                 count=expiring[0], due=f"最早 {expiring[1].isoformat()} 到期", level="warn"))
    # B2, B19(1)(5): where the entity proposes the replacement (local selection), the vacancies are its to act on too
    proposes = False
    if user.role == Role.HIRING_ENTITY and user.city_id:
        try:
            proposes = user.city.policy.appointment_mode == AppointmentMode.LOCAL_SELECTION
        except ObjectDoesNotExist:  # a city still being configured
            proposes = False
    if user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER) or proposes:
        withdrawals = _count_and_first(withdrawal_queryset(user=user, pending_only=True), "leave_date")
        if withdrawals:
            items.append(PendingItem(title="责任规划师退出待补位", url=reverse("appointments:withdrawals"),
                                     count=withdrawals[0], due=f"最早 {withdrawals[1].isoformat()} 离任", level="warn"))
        removed = _count_and_first(removed_posting_queryset(user=user, pending_only=True), "ended_on")
        if removed:
            items.append(PendingItem(title="调出资源库后待调整补位的责任单元", url=reverse("appointments:withdrawals"),
                                     count=removed[0], due=f"最早 {removed[1].isoformat()} 起空缺", level="warn"))
    if user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER):
        unfiled = appointment_list(user=user).filter(contract_state=ContractState.SUBMITTED).filter(
            status_q(AppointmentStatus.ACTIVE) | status_q(UPCOMING)
        )
        count = unfiled.count()
        if count:
            items.append(PendingItem(title="聘用合同待备案", url=reverse("appointments:list") + "?unfiled=1",
                                     count=count, level="info"))
    items.extend(_selection_and_signing_items(user))
    terminations = pending_termination_requests(user=user)
    if terminations:
        items.append(PendingItem(title="责任规划师申请解除聘用合同，待同意", url=reverse("appointments:list") + "?termination=pending",
                                 count=len(terminations), level="warn"))
    return items


def _selection_and_signing_items(user) -> list:
    """Local selection (proposals to approve / returned) and contracts the signer has to upload."""
    from django.urls import reverse

    from rpms.core.pending import PendingItem

    items = []
    if user.role == Role.DISTRICT_OFFICER:
        count = proposal_list(user=user, status=SelectionStatus.PENDING).count()
        if count:
            items.append(PendingItem(title="选聘提名待审核", url=reverse("appointments:proposals") + "?status=pending",
                                     count=count, level="warn"))
    city = getattr(user, "city", None)
    try:
        policy = city.policy if city is not None else None
    except ObjectDoesNotExist:  # a city still being configured
        policy = None
    if policy is not None and not user.is_superuser:
        signer_role = Role.HIRING_ENTITY if policy.contract_signer == ContractSigner.HIRING_ENTITY else Role.CITY_ADMIN
        if user.role == signer_role:
            to_sign = appointment_list(user=user, city=city).filter(
                contract_state__in=(ContractState.UNSIGNED, ContractState.RETURNED)
            ).filter(status_q(AppointmentStatus.ACTIVE) | status_q(UPCOMING))
            count = to_sign.count()
            if count:
                returned = to_sign.filter(contract_state=ContractState.RETURNED).count()
                title = "聘用合同待上传签订文本" + (f"（其中 {returned} 份被退回）" if returned else "")
                items.append(PendingItem(title=title, url=reverse("appointments:list") + "?unsigned=1", count=count,
                                         level="warn" if returned else "info"))
    return items


# --- coverage ------------------------------------------------------------------------------------


# THE coverage (B4), used by every page, dataset and figure that shows it (geography, the public map and open
# data, the city administrator's home page, the district assessment, the statistics): a unit is covered on a
# day when an appointment serves it that day.


def serving_on_q(day: dt.date, *, today: dt.date | None = None) -> Q:
    """THE definition of "serving on `day`" (on an Appointment queryset annotated with `last`, its last day:
    `appointments_serving`): start ≤ day ≤ last day; for today (and later) also what the system counts now — an
    early end settled today has stopped counting (appointments.services.appointment_end_record,
    AppointmentQuerySet.active). A past day is read from the dates alone: today's stored status says nothing
    about last year."""
    today = today or clock.today()
    q = Q(start__lte=day, last__gte=day)
    if day >= today:
        q &= Q(status=AppointmentStatus.ACTIVE)
    return q


def appointments_serving(*, city, on: dt.date | None = None, today: dt.date | None = None):
    """The city's appointments serving on `on` (default today), annotated with `last` (their last day)."""
    today = today or clock.today()
    return (Appointment.objects.filter(city=city).annotate(last=Coalesce("ended_on", "end"))
            .filter(serving_on_q(on or today, today=today)))


def units_existing_on(*, city, on: dt.date):
    """The city's units that exist at the end of `on`: created by then and not dissolved by then."""
    day_end = timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))
    return ResponsibilityUnit.objects.filter(city=city, created_at__lt=day_end).filter(
        Q(dissolved_at__isnull=True) | Q(dissolved_at__gte=day_end))


def covered_unit_ids(city, on: dt.date | None = None, *, today: dt.date | None = None) -> set[int]:
    """B4: ids of the city's units with an appointment serving on `on` (default today)."""
    return set(appointments_serving(city=city, on=on, today=today).values_list("unit_id", flat=True))


def coverage_by_district(*, city, on: dt.date | None = None, today: dt.date | None = None,
                         district_ids=None, units=None) -> dict[int, dict]:
    """B4 per district: {district id: {"units": units existing on `on` (or the `units` queryset given),
    "covered": those of them with an appointment serving on `on`}} for the districts that have units
    (optionally only `district_ids`). One query."""
    today = today or clock.today()
    on = on or today
    serving = appointments_serving(city=city, on=on, today=today).order_by().values("unit_id")
    if units is None:
        units = units_existing_on(city=city, on=on)
    if district_ids is not None:
        units = units.filter(district_id__in=list(district_ids))
    rows = units.order_by().values("district_id").annotate(units=Count("id"), covered=Count("id", filter=Q(id__in=serving)))
    return {row.pop("district_id"): row for row in rows}


def uncovered_by_district(city, on: dt.date | None = None, *, limit: int | None = None) -> list[dict]:
    """[{"district", "units": [ResponsibilityUnit …], "uncovered": how many, "total"}] for the districts with
    uncovered units (B4, `coverage_by_district`: units existing on `on` without an appointment serving them),
    in district order. `limit`: only the first that many units of each district are loaded ("uncovered"
    still counts all). Three queries whatever the number of units (the counts per district in one grouped
    query, the districts, the units shown — numbered per district in SQL when limited)."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    today = clock.today()
    on = on or today
    counts = coverage_by_district(city=city, on=on, today=today)
    gaps = {pk: row for pk, row in counts.items() if row["units"] > row["covered"]}
    if not gaps:
        return []
    serving = appointments_serving(city=city, on=on, today=today).order_by().values("unit_id")
    units = units_existing_on(city=city, on=on).filter(district_id__in=list(gaps)).exclude(id__in=serving)
    if limit is not None:
        units = units.annotate(rank=Window(RowNumber(), partition_by=[F("district_id")],
                                           order_by=[F("name").asc(), F("id").asc()])).filter(rank__lte=limit)
    by_district: dict[int, list] = {}
    for unit in units.order_by("name", "id"):
        by_district.setdefault(unit.district_id, []).append(unit)
    districts = District.objects.filter(pk__in=list(gaps)).order_by("sort_order", "code")
    groups = []
    for district in districts:
        shown = by_district.get(district.pk, [])
        for unit in shown:
            unit.district = district
        row = gaps[district.pk]
        groups.append({"district": district, "units": shown, "uncovered": row["units"] - row["covered"],
                       "total": row["units"]})
    return groups


# --- public disclosure (B19(7)) ------------------------------------------------------------------------


def public_queryset(*, city: City | None = None, district: District | None = None):
    """Filed, disclosed appointments in force or about to start, of active units."""
    queryset = (
        Appointment.objects.not_over()
        .filter(disclosed=True, filed_at__isnull=False, unit__dissolved_at__isnull=True)
        .select_related("city__policy", "unit__district", "planner")
        .prefetch_related(
            _memberships_prefetch(),
            Prefetch("planner__members", queryset=TeamMember.objects.filter(is_core=True).order_by("sort_order", "id"),
                     to_attr="core_members_public"),
        )
    )
    if city is not None:
        queryset = queryset.filter(city=city)
    if district is not None:
        queryset = queryset.filter(unit__district=district)
    return queryset.order_by("city__sort_order", "unit__district__sort_order", "unit__district__code", "unit__name", "role", "id")


def public_unit_url(unit) -> str:
    from django.urls import reverse

    return reverse("appointments:public_unit", args=[unit.pk])


def public_card(appointment: Appointment) -> dict:
    """The public facts of one appointment: never an ID number or a mobile."""
    policy = appointment.city.policy
    planner = appointment.planner
    core = getattr(planner, "core_members_public", None)
    if core is None:
        core = [m for m in planner.members.all() if m.is_core]
    cap = policy.max_core_team_members
    if cap is not None:
        core = core[:cap]
    state = appointment.state()
    return {
        "appointment": appointment.pk,
        "role": appointment.role,
        "role_label": appointment.role_label,
        "planner_name": planner.name,
        "planner_kind": planner.kind,
        "planner_kind_label": planner.get_kind_display(),
        "leader_name": planner.leader_name,
        "core_members": [
            {"name": m.name, "specialty_label": policy.specialty_label(m.specialty) if m.specialty else ""}
            for m in (core if planner.kind == "team" else [])
        ],
        "employer": planner.employer,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "last_day": appointment.last_day.isoformat(),
        "status": state,
        "status_label": STATE_LABELS[state],
        "contact": PUBLIC_CONTACT,
        "contact_url": public_unit_url(appointment.unit),
    }


def public_unit(pk) -> dict:
    """GET /api/v1/public/units/{id}: the unit, its district and subdistricts, zone type and who serves it."""
    unit = (
        ResponsibilityUnit.objects.select_related("district", "city__policy")
        .prefetch_related(_memberships_prefetch(prefix=""))
        .filter(pk=pk, dissolved_at__isnull=True).first()
    )
    if unit is None:
        raise NotFound("责任单元不存在。")
    zone_code = unit.district.zone_type
    zone = unit.city.policy.zone_type(zone_code) if zone_code else None
    appointments = list(public_queryset(city=unit.city).filter(unit=unit))
    chief = (
        DistrictChief.objects.select_related("planner")
        .filter(district=unit.district, status=DistrictChiefStatus.ACTIVE, start__lte=clock.today(), end__gte=clock.today())
        .first()
    )
    return {
        "unit": {"id": unit.pk, "name": unit.name, "url": public_unit_url(unit)},
        "city": {"code": unit.city.code, "name": unit.city.name},
        "district": {"id": unit.district_id, "code": unit.district.code, "name": unit.district.name},
        "subdistricts": [{"code": s.code, "name": s.name, "kind": s.get_kind_display()} for s in unit.current_subdistricts],
        "zone_type": {"code": zone["code"], "label": zone["label"], "focus": zone.get("focus", [])} if zone else None,
        "appointments": [public_card(a) for a in appointments],
        "district_chief": {"name": chief.planner.name, "employer": chief.planner.employer,
                           "start": chief.start.isoformat(), "end": chief.end.isoformat()} if chief else None,
        "covered": any(a.is_active() for a in appointments),
    }


def public_cards_for_units(units) -> dict[int, list[dict]]:
    """Unit id → public cards of its disclosed appointments (one query set, bounded): for the portal's
    "find my planner" (rpms.portal.selectors.public_planners_for_units can delegate here)."""
    ids = [getattr(u, "pk", u) for u in units]
    result: dict[int, list[dict]] = {}
    for appointment in public_queryset().filter(unit_id__in=ids):
        result.setdefault(appointment.unit_id, []).append(public_card(appointment))
    return result


OPEN_DATA_FIELDS = [
    ("city", "城市", "城市名称"),
    ("district_code", "区划代码", "责任单元所在区的统计区划代码"),
    ("district", "所在区", "责任单元所在区（县、开发区）名称"),
    ("unit_id", "责任单元编号", "本系统中责任单元的编号，可用于 /api/v1/public/units/{编号}"),
    ("unit", "责任单元", "责任单元名称"),
    ("subdistricts", "包含街道乡镇", "责任单元包含的街道、镇（乡）、片区，以顿号分隔"),
    ("role", "派驻角色", "责任规划师、责任建筑师等（双师/多师）"),
    ("planner", "责任规划师（团队）", "受聘的个人或团队名称"),
    ("planner_kind", "类型", "个人或团队"),
    ("leader", "团队负责人", "团队受聘时的负责人；个人为空"),
    ("core_members", "团队核心成员", "团队核心成员姓名及专业领域，以顿号分隔（不超过本市规定人数）"),
    ("employer", "工作单位", "受聘个人或团队的工作单位"),
    ("start", "聘期开始", "本次聘任开始日期（YYYY-MM-DD）"),
    ("end", "聘期结束", "当前聘期结束日期（YYYY-MM-DD）；提前退出的为最后服务日"),
    ("term_no", "聘期序号", "1 为首任聘期，之后每续聘一次加 1"),
    ("status", "状态", "在任或待到任"),
    ("contact", "联系方式", "公众联系渠道（不公开个人手机号）"),
    ("url", "公开页面", "该责任单元的公开页面地址"),
]


def open_data_rows(*, city: City | None = None, district: District | None = None, base_url: str = "") -> list[dict]:
    """The open dataset of appointments (rpms.publicinfo.opendata): one row per public appointment, the same
    facts as its public card (`public_card`). Built for thousands of rows: the policy profile is read once per
    city (rpms.cities.selectors.attach_policies, never joined into the rows), the unit's URL is built from one
    reversed prefix, and the queries are a fixed number (appointments, memberships, core members)."""
    from django.urls import reverse

    from rpms.cities.selectors import attach_policies

    queryset = (public_queryset(city=city, district=district)
                .select_related(None).select_related("city", "unit__district", "planner"))
    appointments = attach_policies(list(queryset), "city")
    head, tail = reverse("appointments:public_unit", args=[0]).rsplit("0", 1)
    head = base_url + head
    today = clock.today()
    kind_labels: dict = {}
    rows = []
    for appointment in appointments:
        policy = appointment.city.policy
        planner = appointment.planner
        unit = appointment.unit
        core = planner.core_members_public if planner.kind == "team" else []
        cap = policy.max_core_team_members
        if cap is not None:
            core = core[:cap]
        if planner.kind not in kind_labels:
            kind_labels[planner.kind] = planner.get_kind_display()
        rows.append({
            "city": appointment.city.name,
            "district_code": unit.district.code,
            "district": unit.district.name,
            "unit_id": unit.pk,
            "unit": unit.name,
            "subdistricts": "、".join(s.name for s in unit.current_subdistricts),
            "role": appointment.role_label,
            "planner": planner.name,
            "planner_kind": kind_labels[planner.kind],
            "leader": planner.leader_name,
            "core_members": "、".join(
                f"{m.name}（{label}）" if (label := policy.specialty_label(m.specialty) if m.specialty else "") else m.name
                for m in core
            ),
            "employer": planner.employer,
            "start": appointment.start.isoformat(),
            "end": appointment.last_day.isoformat(),
            "term_no": appointment.term_no,
            "status": STATE_LABELS[appointment.state(today)],
            "contact": PUBLIC_CONTACT,
            "url": f"{head}{unit.pk}{tail}",
        })
    return rows


def public_filters(params) -> tuple[City | None, District | None]:
    """City (code) and district (code) from public query parameters; unknown → 404."""
    city = district = None
    code = str(params.get("city") or "").strip()
    if code:
        city = City.objects.filter(code=code, is_active=True).select_related("policy").first()
        if city is None:
            raise NotFound(f"城市“{code}”不存在。", code="city_not_found")
    district_code = str(params.get("district") or "").strip()
    if district_code:
        district = District.objects.filter(code=district_code).select_related("city").first()
        if district is None or (city is not None and district.city_id != city.pk):
            raise NotFound(f"区划代码“{district_code}”不存在。", code="district_not_found")
    return city, district


PICKER_LIMIT = 50


def planner_picker(*, city, q: str = "", exclude=None, limit: int = PICKER_LIMIT) -> tuple[list, bool]:
    """A bounded chooser over the city's active pool (issue #15: never every member in one page): at most
    `limit` members whose name or employer contains `q` (or whose number is `q`), by name, and whether
    more match (then the page asks to type more of the name). One query, served by the pool order index."""
    from rpms.registry.models import Planner, PoolStatus

    queryset = Planner.objects.filter(city=city, pool_status=PoolStatus.ACTIVE).only("pk", "name", "employer")
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    q = (q or "").strip()[:50]
    if q:
        match = Q(name__icontains=q) | Q(employer__icontains=q)
        if is_digits(q) and len(q) < 10:
            match |= Q(pk=int(q))
        queryset = queryset.filter(match)
    rows = list(queryset.order_by("name", "id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def district_chiefs(*, city: City) -> list[DistrictChief]:
    return list(
        DistrictChief.objects.select_related("district", "planner").filter(district__city=city)
        .order_by("district__sort_order", "district__code", "-start")
    )


# --- postings ended by a removal from the pool, waiting for a replacement (P5(4), P6(5)) --------------------


def removed_posting_list(*, user, pending_only: bool = False) -> list[Appointment]:
    """Postings that a removal from the pool ended (rpms.appointments.removal), that the user may see,
    with their replacement if one was appointed. `pending_only`: those whose unit still waits for one
    (the flagged units). One query."""
    return with_policies(list(removed_posting_queryset(user=user, pending_only=pending_only)))


def removed_posting_queryset(*, user, pending_only: bool = False):
    """`removed_posting_list` as a queryset to page (`page_rows`)."""
    queryset = list_queryset().select_related("replacement__planner").filter(end_kind=EndKind.REMOVAL)
    scope = scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if pending_only:
        queryset = queryset.filter(replacement__isnull=True, unit__dissolved_at__isnull=True)
    return queryset.order_by("ended_on", "id")


def removed_posting_get(*, user, pk) -> Appointment:
    appointment = base_queryset().select_related("replacement__planner").filter(pk=pk, end_kind=EndKind.REMOVAL).first()
    if appointment is None or not permissions.can_view(user, appointment):
        raise NotFound()
    return appointment


def awaits_replacement(appointment: Appointment) -> bool:
    """Whether the appointment's unit is flagged here for a replacement: a removal ended it and nobody has
    been appointed in its place yet (rpms.assessments reads this not to flag the same unit twice)."""
    return Appointment.objects.filter(pk=appointment.pk, end_kind=EndKind.REMOVAL, replacement__isnull=True).exists()
