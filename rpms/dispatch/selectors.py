"""Dispatch reads, with the role scoping applied here once.

- Requests: city administrators and auditors of the city see all; a district officer sees its own
  districts' requests; anyone else 403. A request outside the user's scope answers 404.
- Runs and proposals: city administrators and auditors of the city.
- Conflict declarations: the planner its own; city administrators and auditors of the city all; a
  district officer those naming its districts or their units.

Every list uses select_related/prefetch_related: its query count does not grow with its rows."""
from collections import defaultdict
from itertools import groupby

from django.db.models import Prefetch, Q

from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.appointments.models import Appointment
from rpms.core.errors import Forbidden, NotFound
from rpms.geography.models import ResponsibilityUnit, UnitMembership
from rpms.registry.models import Planner

from .inputs import role_label
from .models import ConflictDeclaration, DispatchRequest, MatchingRun, Proposal, ProposalStatus, RequestStatus
from .permissions import is_authenticated, officer_district_ids


def _units_prefetch() -> Prefetch:
    return Prefetch("units", queryset=ResponsibilityUnit.objects.select_related("district").order_by("name", "pk"))


def request_scope(user, city) -> set[int] | None:
    """None: every district of the city; else the district ids whose requests the user may see."""
    if not is_authenticated(user):
        raise Forbidden("请先登录。")
    if is_city_wide(user, city):
        return None
    if user.role == Role.DISTRICT_OFFICER:
        if user.city_id != city.pk:
            raise NotFound()
        return officer_district_ids(user)
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        raise NotFound()
    raise Forbidden("您的角色无权查看派驻申请。")


def request_list(*, user, city, status: str | None = None):
    """The requests the user may see, newest first (three queries whatever their number)."""
    scope = request_scope(user, city)
    rows = (
        DispatchRequest.objects.filter(city=city)
        .select_related("district", "requested_by", "decided_by", "city")
        .prefetch_related(_units_prefetch(), "city__policy")  # the policy profile once per city, not joined into every row (issue #15)
        .order_by("-created_at", "-pk")
    )
    if scope is not None:
        rows = rows.filter(district_id__in=scope)
    if status:
        if status not in RequestStatus.values:
            from rpms.core.errors import DomainError

            raise DomainError("申请状态不正确。", code="invalid_status")
        rows = rows.filter(status=status)
    return rows


def request_get(*, user, pk) -> DispatchRequest:
    request = (
        DispatchRequest.objects.select_related("city__policy", "district", "requested_by", "decided_by")
        .prefetch_related(_units_prefetch())
        .filter(pk=pk)
        .first()
    )
    if request is None or not is_authenticated(user):
        raise NotFound("派驻申请不存在或您无权查看。")
    try:
        scope = request_scope(user, request.city)
    except (Forbidden, NotFound):
        raise NotFound("派驻申请不存在或您无权查看。") from None
    if scope is not None and request.district_id not in scope:
        raise NotFound("派驻申请不存在或您无权查看。")
    return request


def request_json(request: DispatchRequest) -> dict:
    policy = request.city.policy
    return {
        "id": request.pk,
        "city": request.city.code,
        "district": request.district.code,
        "district_name": request.district.name,
        "role": request.role,
        "role_label": role_label(request.city, request.role),
        "specialties": list(request.specialties or []),
        "specialty_labels": [policy.specialty_label(s) for s in request.specialties or []],
        "slots_per_unit": request.slots_per_unit,
        "units": [{"id": u.pk, "name": u.name} for u in request.units.all()],
        "service_focus": request.service_focus,
        "note": request.note,
        "status": request.status,
        "status_label": request.get_status_display(),
        "return_reason": request.return_reason,
        "requested_by": str(request.requested_by) if request.requested_by else "",
        "created_at": request.created_at.isoformat(),
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
    }


def unit_services(unit_ids, *, city) -> dict[int, list[dict]]:
    """Unit id → who serves it now or is appointed to ({"role", "role_label", "planner_name"}); one query."""
    served = defaultdict(list)
    rows = (
        Appointment.objects.not_over().filter(unit_id__in=list(unit_ids))
        .select_related("planner").order_by("unit_id", "role", "start", "pk")
    )
    for appointment in rows:
        served[appointment.unit_id].append({
            "role": appointment.role, "role_label": role_label(city, appointment.role),
            "planner_name": appointment.planner.name,
        })
    return served


def district_units_with_coverage(*, district) -> list[ResponsibilityUnit]:
    """The district's active units, each with `current_subdistricts` and `services` (current coverage)."""
    units = list(
        ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True)
        .select_related("district")
        .prefetch_related(Prefetch(
            "memberships", queryset=UnitMembership.objects.filter(left_at__isnull=True).select_related("subdistrict"),
            to_attr="active_memberships",
        ))
        .order_by("name", "pk")
    )
    services = unit_services([u.pk for u in units], city=district.city)
    for unit in units:
        unit.services = services.get(unit.pk, [])
    return units


# --- runs and proposals -------------------------------------------------------------------------------


def require_run_reader(user, city) -> None:
    if not is_authenticated(user):
        raise Forbidden("请先登录。")
    if is_city_wide(user, city):
        return
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        raise NotFound()
    raise Forbidden("只有市级管理员可以查看统筹选派结果。")


def run_list(*, user, city, limit: int = 20) -> list[MatchingRun]:
    require_run_reader(user, city)
    return list(MatchingRun.objects.filter(city=city).select_related("run_by").order_by("-created_at", "-pk")[:limit])


def run_get(*, user, pk) -> MatchingRun:
    run = MatchingRun.objects.select_related("city__policy", "run_by").filter(pk=pk).first()
    if run is None or not is_authenticated(user):
        raise NotFound("统筹选派记录不存在。")
    try:
        require_run_reader(user, run.city)
    except NotFound:
        raise NotFound("统筹选派记录不存在。") from None
    return run


def run_proposals(run: MatchingRun) -> list[Proposal]:
    """Every proposal of the run (open, confirmed, replaced, discarded), by district, unit and role."""
    return list(
        Proposal.objects.filter(run=run)
        .select_related("unit__district", "planner", "request", "replaces__planner", "appointment", "decided_by")
        .order_by("unit__district__sort_order", "unit__district__code", "unit__name", "unit_id", "role", "slot_key", "pk")
    )


def proposals_by_unit(proposals) -> list[dict]:
    """[{"district", "unit", "proposals": [...]}] in the proposals' order."""
    groups = []
    for unit_id, items in groupby(proposals, key=lambda p: p.unit_id):
        items = list(items)
        groups.append({"district": items[0].unit.district, "unit": items[0].unit, "proposals": items})
    return groups


def run_district_summary(run: MatchingRun, proposals) -> list[dict]:
    """Per district of the run (in the proposals' order): proposals shown, open, confirmed, unfilled."""
    summary: dict[str, dict] = {}
    for p in proposals:
        district = p.unit.district
        row = summary.setdefault(district.code, {"code": district.code, "name": district.name, "proposals": 0,
                                                 "open": 0, "confirmed": 0, "unfilled": 0})
        if p.status in (ProposalStatus.PROPOSED, ProposalStatus.CONFIRMED):
            row["proposals"] += 1
        row["open"] += p.status == ProposalStatus.PROPOSED
        row["confirmed"] += p.status == ProposalStatus.CONFIRMED
    for u in run.unfilled:
        code = u.get("district_code") or ""
        if code in summary:
            summary[code]["unfilled"] += 1
    return list(summary.values())


def proposal_get(*, user, pk) -> Proposal:
    proposal = (
        Proposal.objects.select_related("run__city__policy", "unit__district", "planner", "request", "replaces__planner")
        .filter(pk=pk).first()
    )
    if proposal is None or not is_authenticated(user):
        raise NotFound("选派建议不存在。")
    try:
        require_run_reader(user, proposal.run.city)
    except NotFound:
        raise NotFound("选派建议不存在。") from None
    return proposal


def proposal_json(proposal: Proposal) -> dict:
    return {
        "id": proposal.pk,
        "run": proposal.run_id,
        "request": proposal.request_id,
        "unit": proposal.unit_id,
        "unit_name": proposal.unit.name,
        "district_name": proposal.unit.district.name,
        "planner": proposal.planner_id,
        "planner_name": proposal.planner.name,
        "role": proposal.role,
        "score": proposal.score,
        "explanation": proposal.explanation,
        "status": proposal.status,
        "replaces": proposal.replaces_id,
        "replacement_reason": proposal.replacement_reason,
        "appointment": proposal.appointment_id,
    }


def planner_choices(*, city) -> list[Planner]:
    """The pool's active members for the hand-replacement picker (one query)."""
    return list(Planner.objects.filter(city=city, pool_status="active").only("pk", "name", "employer").order_by("name", "pk"))


# --- conflicts ---------------------------------------------------------------------------------------


def conflict_list(*, user, city=None, planner_id=None, include_withdrawn: bool = True):
    """The declarations the user may see (optionally of one planner), newest first."""
    if not is_authenticated(user):
        raise Forbidden("请先登录。")
    rows = ConflictDeclaration.objects.select_related(
        "planner__city", "unit__district", "district", "declared_by", "withdrawn_by"
    ).order_by("-created_at", "-pk")
    if planner_id is not None:
        rows = rows.filter(planner_id=planner_id)
    if not include_withdrawn:
        rows = rows.filter(withdrawn_at__isnull=True)
    if user.is_superuser:
        return rows.filter(planner__city=city) if city is not None else rows
    if user.role == Role.PLANNER:
        return rows.filter(planner__user=user)
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        if user.city_id is None and user.role == Role.AUDITOR:
            return rows.filter(planner__city=city) if city is not None else rows
        return rows.filter(planner__city_id=user.city_id)
    if user.role == Role.DISTRICT_OFFICER:
        ids = officer_district_ids(user)
        return rows.filter(Q(unit__district_id__in=ids) | Q(district_id__in=ids))
    raise Forbidden("您的角色无权查看利益冲突申报。")


def conflict_get(*, user, pk) -> ConflictDeclaration:
    found = conflict_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFound("利益冲突申报不存在或您无权查看。")
    return found


def conflict_json(declaration: ConflictDeclaration) -> dict:
    return {
        "id": declaration.pk,
        "planner": declaration.planner_id,
        "planner_name": declaration.planner.name,
        "unit": declaration.unit_id,
        "district": declaration.district_id if declaration.district_id else (declaration.unit.district_id if declaration.unit_id else None),
        "target": declaration.target_label,
        "scope": "unit" if declaration.unit_id else "district",
        "kind": declaration.kind,
        "kind_label": declaration.get_kind_display(),
        "note": declaration.note,
        "declared_by": str(declaration.declared_by) if declaration.declared_by else "",
        "created_at": declaration.created_at.isoformat(),
        "withdrawn_at": declaration.withdrawn_at.isoformat() if declaration.withdrawn_at else None,
    }
