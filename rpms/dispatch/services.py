"""Dispatch writes (P6(1), P6(2); B19(2) for the unit cap).

- dispatch_request_submit / _accept / _return / _withdraw: a district asks for planners for its own
  units; the city administrator accepts it or returns it with a reason the district sees.
- conflict_declare / conflict_withdraw: declared conflicts of interest, which the matching excludes.
- matching_run: one optimal, explained run of the engine over the accepted requests; its proposals.
- proposal_confirm: a proposal becomes an appointment (appointments' `appointment_create` writes the
  audit row of that act; the proposal's status change is its record here).
- proposal_replace: the administrator replaces a proposal by hand; the same hard rules apply and the
  reason is kept.
- replacement_proposals (read-only): ranked alternatives for a unit whose planner withdraws (P6(5)).

Every service writes exactly one audit row (proposal_confirm: the appointment's), citing the city's
own article for the step (`policy_article`)."""
import datetime as dt
from dataclasses import asdict

from django.db import transaction

from rpms.accounts.models import Role
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.inputs import clean_or_refuse
from rpms.geography.models import District, ResponsibilityUnit
from rpms.matching import engine
from rpms.registry.models import Planner, PoolStatus

from . import inputs
from .models import (
    SLOTS_PER_UNIT_MAX,
    ConflictDeclaration,
    ConflictKind,
    DispatchRequest,
    MatchingRun,
    Proposal,
    ProposalStatus,
    RequestStatus,
)
from .permissions import (
    conflict_out_of_scope,
    is_officer_of,
    may_record_conflict,
    request_out_of_scope,
    require_city_admin,
)

TEXT_MAX = 2000
MATCHING_TIME_LIMIT_S = 30.0
REPLACEMENT_ALTERNATIVES = 5
FK_FIELDS = ["city", "district", "requested_by", "decided_by", "run", "request", "unit", "planner", "replaces",
             "appointment", "run_by", "declared_by", "withdrawn_by"]


# --- helpers ----------------------------------------------------------------------------------------


def _clean(instance) -> None:
    """full_clean() without re-querying foreign keys we hold as instances; a model error → 400 in Chinese."""
    clean_or_refuse(instance, exclude=[f for f in FK_FIELDS if hasattr(instance, f"{f}_id")])


def _text(value, *, label: str, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(f"请填写{label}。", code="required")
    if len(text) > TEXT_MAX:
        raise DomainError(f"{label}不得超过 {TEXT_MAX} 字。", code="too_long")
    return text


role_label = inputs.role_label


def _role_check(city, code: str) -> str:
    code = str(code or "").strip()
    roles = {item.get("code") for item in city.policy.roles or []}
    if not roles:
        raise DomainError(f"{city.name}的政策配置尚未规定派驻角色，请先在政策配置中填写。", code="no_roles")
    if code not in roles:
        raise DomainError(f"派驻角色“{code}”不是本市政策规定的角色。", code="unknown_role")
    return code


def _specialties_check(city, codes) -> list[str]:
    if isinstance(codes, str):
        codes = [codes]
    known = {s["code"] for s in city.policy.specialties}
    cleaned = list(dict.fromkeys(str(c).strip() for c in (codes or []) if str(c).strip()))
    unknown = [c for c in cleaned if c not in known]
    if unknown:
        raise DomainError(f"未知的专业领域：{'、'.join(unknown)}。", code="unknown_specialty")
    return cleaned


def _lock_request(request: DispatchRequest) -> DispatchRequest:
    return DispatchRequest.objects.select_for_update(of=("self",)).select_related("city__policy", "district").get(pk=request.pk)


def _lock_proposal(proposal: Proposal) -> Proposal:
    locked = Proposal.objects.select_for_update().filter(pk=proposal.pk).first()
    if locked is None:
        raise NotFound("选派建议不存在。")
    # related rows loaded after the lock (select_for_update with nullable joins is refused on PostgreSQL)
    return (
        Proposal.objects.select_related("run__city__policy", "request", "unit__district", "planner")
        .get(pk=locked.pk)
    )


def _request_snapshot(request: DispatchRequest) -> dict:
    data = snapshot(request, fields=[
        "district", "role", "specialties", "slots_per_unit", "service_focus", "note", "status", "return_reason",
        "decided_by", "decided_at",
    ])
    data["units"] = sorted(u.pk for u in request.units.all())
    return data


# --- dispatch requests (P6(1)) ----------------------------------------------------------------------


@transaction.atomic
def dispatch_request_submit(*, actor, city, district: District, role: str, units, specialties=(),
                            slots_per_unit=1, service_focus: str = "", note: str = "") -> DispatchRequest:
    """A district officer asks for planners for units of its own district (P6(1))."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录。")
    if not (actor.is_superuser or actor.role == Role.DISTRICT_OFFICER):
        raise Forbidden("只有区级工作人员可以提交派驻申请。")
    if district.city_id != city.pk:
        raise NotFound(f"{city.name}没有该区。", code="district_not_found")
    if not (actor.is_superuser or is_officer_of(actor, district)):
        # Another district is outside the officer's scope: 404, not revealed (CONVENTIONS).
        raise NotFound(f"您不是{district.name}的工作人员，只能为本区申请派驻责任规划师。", code="not_own_district")
    role = _role_check(city, role)
    specialties = _specialties_check(city, specialties)
    try:
        slots = int(slots_per_unit)
    except (TypeError, ValueError):
        raise DomainError(f"每个单元人数应为 1 至 {SLOTS_PER_UNIT_MAX} 的整数。", code="invalid_slots") from None
    if not 1 <= slots <= SLOTS_PER_UNIT_MAX:
        raise DomainError(f"每个单元人数应为 1 至 {SLOTS_PER_UNIT_MAX} 人。", code="invalid_slots")
    unit_ids = []
    for unit in units or []:
        try:
            unit_ids.append(int(getattr(unit, "pk", unit)))
        except (TypeError, ValueError):
            raise DomainError("责任单元编号不正确。", code="invalid_unit") from None
    unit_ids = list(dict.fromkeys(unit_ids))
    if not unit_ids:
        raise DomainError("请至少选择一个责任单元。", code="no_units")
    found = {u.pk: u for u in ResponsibilityUnit.objects.select_related("district").filter(pk__in=unit_ids, city=city)}
    missing = [str(pk) for pk in unit_ids if pk not in found]
    if missing:
        raise NotFound(f"责任单元不存在：{'、'.join(missing)}。", code="unit_not_found")
    foreign = [u for u in found.values() if u.district_id != district.pk]
    if foreign:
        names = "、".join(f"{u.name}（{u.district.name}）" for u in foreign)
        raise NotFound(f"只能为本区（{district.name}）的责任单元申请派驻，以下单元不属于本区：{names}。",
                       code="unit_not_in_district")
    dissolved = [u.name for u in found.values() if not u.is_active]
    if dissolved:
        raise DomainError(f"以下责任单元已撤销，不能申请派驻：{'、'.join(dissolved)}。", code="unit_dissolved")
    pending = (
        DispatchRequest.objects.filter(
            units__in=unit_ids, role=role, status__in=[RequestStatus.SUBMITTED, RequestStatus.ACCEPTED]
        )
        .values_list("units__name", flat=True)
        .distinct()
    )
    pending = sorted(set(pending) & {u.name for u in found.values()})
    if pending:
        raise Conflict(
            f"以下责任单元已有待处理的“{role_label(city, role)}”派驻申请，请勿重复申请：{'、'.join(pending)}。",
            code="duplicate_request",
        )
    request = DispatchRequest(
        city=city, district=district, requested_by=actor if actor.is_authenticated else None, role=role,
        specialties=specialties, slots_per_unit=slots,
        service_focus=_text(service_focus, label="服务重点"), note=_text(note, label="备注"),
    )
    _clean(request)
    request.save()
    request.units.set([found[pk] for pk in unit_ids])
    audit_log(
        actor=actor, action="dispatch.request_submit", obj=request, after=_request_snapshot(request),
        article=policy_article(city, "dispatch_request"),
        summary=f"{district.name}申请派驻{role_label(city, role)}：{len(unit_ids)} 个责任单元，每单元 {slots} 人",
    )
    return request


@transaction.atomic
def dispatch_request_accept(*, actor, request: DispatchRequest) -> DispatchRequest:
    require_city_admin(actor, request.city, what="受理派驻申请")
    request = _lock_request(request)
    if not request.can_decide():
        raise Conflict(f"该申请当前状态为“{request.get_status_display()}”，不能受理。", code="not_submitted")
    before = _request_snapshot(request)
    request.move_to(RequestStatus.ACCEPTED)
    request.decided_by = actor
    request.decided_at = clock.now()
    _clean(request)
    request.save()
    audit_log(
        actor=actor, action="dispatch.request_accept", obj=request, before=before, after=_request_snapshot(request),
        article=policy_article(request.city, "dispatch_request"), summary=f"受理{request.district.name}派驻申请 #{request.pk}",
    )
    return request


@transaction.atomic
def dispatch_request_return(*, actor, request: DispatchRequest, reason: str) -> DispatchRequest:
    """Returned with a reason the district sees (P6(1))."""
    require_city_admin(actor, request.city, what="退回派驻申请")
    reason = _text(reason, label="退回理由", required=True)
    request = _lock_request(request)
    if not request.can_decide():
        raise Conflict(f"该申请当前状态为“{request.get_status_display()}”，不能退回。", code="not_submitted")
    before = _request_snapshot(request)
    request.move_to(RequestStatus.RETURNED)
    request.return_reason = reason
    request.decided_by = actor
    request.decided_at = clock.now()
    _clean(request)
    request.save()
    audit_log(
        actor=actor, action="dispatch.request_return", obj=request, before=before, after=_request_snapshot(request),
        article=policy_article(request.city, "dispatch_request"),
        summary=f"退回{request.district.name}派驻申请 #{request.pk}：{reason}",
    )
    return request


@transaction.atomic
def dispatch_request_withdraw(*, actor, request: DispatchRequest, note: str = "") -> DispatchRequest:
    """The district withdraws its own request before it is fulfilled; open proposals are discarded."""
    request = _lock_request(request)
    if not (getattr(actor, "is_superuser", False) or is_officer_of(actor, request.district)):
        if request_out_of_scope(actor, request):
            raise NotFound()  # another district's (or city's) request: not revealed
        raise Forbidden("只有提出申请的区级工作人员可以撤回派驻申请。")
    if not request.can_withdraw():
        raise Conflict(f"该申请当前状态为“{request.get_status_display()}”，不能撤回。", code="not_withdrawable")
    before = _request_snapshot(request)
    request.move_to(RequestStatus.WITHDRAWN)
    request.withdrawn_at = clock.now()
    if note:
        request.note = (request.note + "\n撤回说明：" + _text(note, label="撤回说明")).strip()[:TEXT_MAX]
    _clean(request)
    request.save()
    discarded = _discard_open_proposals([request.pk], actor=actor)
    after = _request_snapshot(request)
    after["discarded_proposals"] = discarded
    audit_log(
        actor=actor, action="dispatch.request_withdraw", obj=request, before=before, after=after,
        article=policy_article(request.city, "dispatch_request"), summary=f"{request.district.name}撤回派驻申请 #{request.pk}",
    )
    return request


def _discard_open_proposals(request_ids, *, actor) -> list[int]:
    open_ids = list(
        Proposal.objects.filter(request_id__in=request_ids, status=ProposalStatus.PROPOSED).order_by("pk").values_list("pk", flat=True)
    )
    if open_ids:
        Proposal.objects.filter(pk__in=open_ids).update(
            status=ProposalStatus.DISCARDED, decided_by=actor if getattr(actor, "is_authenticated", False) else None,
            decided_at=clock.now(),
        )
    return open_ids


# --- conflicts of interest (P6(2)) ------------------------------------------------------------------


@transaction.atomic
def conflict_declare(*, actor, planner: Planner, kind: str, note: str, unit: ResponsibilityUnit | None = None,
                     district: District | None = None) -> ConflictDeclaration:
    """A conflict of interest for one unit, or for every unit of a district: the matching never
    proposes the planner there, and a proposal made before the declaration cannot be confirmed."""
    if (unit is None) == (district is None):
        raise DomainError("请选择一个责任单元或一个区（二者选一）。", code="conflict_target")
    if conflict_out_of_scope(actor, planner, unit=unit, district=district):
        raise NotFound()  # another district's unit, another city's planner: not revealed
    target_city_id = unit.city_id if unit is not None else district.city_id
    if target_city_id != planner.city_id:
        raise DomainError("所选责任单元或区不在该责任规划师所在城市。", code="conflict_target")
    if not may_record_conflict(actor, planner, unit=unit, district=district):
        raise Forbidden("只有责任规划师本人、市级管理员或该单元所在区的工作人员可以登记利益冲突。")
    if kind not in ConflictKind.values:
        raise DomainError("利益冲突类型不正确。", code="conflict_kind")
    note = _text(note, label="冲突情况说明", required=True)
    duplicate = ConflictDeclaration.objects.filter(planner=planner, withdrawn_at__isnull=True, unit=unit, district=district)
    if duplicate.exists():
        raise Conflict("已有针对同一单元（区）的利益冲突申报，无需重复登记。", code="duplicate_conflict")
    declaration = ConflictDeclaration(
        planner=planner, unit=unit, district=district, kind=kind, note=note,
        declared_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _clean(declaration)
    declaration.save()
    city = planner.city
    audit_log(
        actor=actor, action="dispatch.conflict_declare", obj=declaration, city_code=city.code,
        after=snapshot(declaration), article=policy_article(city, "matching"),
        summary=f"登记利益冲突：{planner.name} — {declaration.target_label}（{declaration.get_kind_display()}）",
    )
    return declaration


@transaction.atomic
def conflict_withdraw(*, actor, declaration: ConflictDeclaration) -> ConflictDeclaration:
    declaration = (
        ConflictDeclaration.objects.select_for_update(of=("self",))
        .select_related("planner__city__policy", "unit__district", "district")
        .get(pk=declaration.pk)
    )
    if not may_record_conflict(actor, declaration.planner, unit=declaration.unit, district=declaration.district):
        if conflict_out_of_scope(actor, declaration.planner, unit=declaration.unit, district=declaration.district):
            raise NotFound()
        raise Forbidden("只有责任规划师本人、市级管理员或该单元所在区的工作人员可以撤销利益冲突申报。")
    if declaration.withdrawn_at is not None:
        raise Conflict("该利益冲突申报已撤销。", code="already_withdrawn")
    before = snapshot(declaration)
    declaration.withdrawn_at = clock.now()
    declaration.withdrawn_by = actor if getattr(actor, "is_authenticated", False) else None
    _clean(declaration)
    declaration.save()
    city = declaration.planner.city
    audit_log(
        actor=actor, action="dispatch.conflict_withdraw", obj=declaration, city_code=city.code, before=before,
        after=snapshot(declaration), article=policy_article(city, "matching"),
        summary=f"撤销利益冲突申报：{declaration.planner.name} — {declaration.target_label}",
    )
    return declaration


# --- explanations -----------------------------------------------------------------------------------


def record_checks(*, city, candidate, planner) -> list[dict]:
    """The hard rules read from the records (pool status, the unit cap with its figures, B19(2))."""
    cap = inputs.unit_cap(city)
    held = len(candidate.held_unit_ids)
    cap_article = policy_article(city, "unit_cap")
    return [
        {"code": "pool_active", "label": "资源库在库人员", "passed": True,
         "detail": f"入库状态：{planner.get_pool_status_display()}（仅在库人员可派驻）"},
        {"code": "unit_cap", "label": "同时服务责任单元数上限", "passed": True,
         "detail": (f"已服务或已聘 {held} 个责任单元，上限 {cap} 个（{cap_article}）" if cap is not None
                    else f"已服务或已聘 {held} 个责任单元，本市未设上限")},
    ]


def hard_rule_checks(*, city, slot, candidate, planner) -> list[dict]:
    """Every hard rule a pairing was checked against, in Chinese (for pairings the engine did not make)."""
    checks = record_checks(city=city, candidate=candidate, planner=planner)
    if slot.specialties:
        have = [s for s in slot.specialties if s in set(candidate.specialties)]
        labels = "、".join(city.policy.specialty_label(s) for s in have)
        checks.append({"code": "specialty", "label": f"具备所需专业领域：{labels}", "passed": True})
    else:
        checks.append({"code": "specialty", "label": "申请未限定专业领域", "passed": True})
    checks += [
        {"code": "not_held", "label": f"未在{slot.label}任职", "passed": True},
        {"code": "no_conflict_unit", "label": f"未申报与{slot.label}的利益冲突", "passed": True},
        {"code": "no_conflict_district", "label": f"未申报与{slot.district_label}的利益冲突", "passed": True},
        {"code": "once_per_unit", "label": "在该责任单元只承担一个岗位（含待确认建议）", "passed": True},
    ]
    return checks


def _explanation(engine_explanation: dict, checks: list[dict], *, article: str, **extra) -> dict:
    """The engine's explanation (terms, summary) with the record-level checks put before its own."""
    explanation = dict(engine_explanation or {})
    own = [c["code"] for c in checks]
    explanation["checks"] = checks + [c for c in explanation.get("checks") or [] if c.get("code") not in own]
    explanation["article"] = article
    explanation.update(extra)
    return explanation


# --- matching (P6(2)) -------------------------------------------------------------------------------


def _weights_for(city) -> engine.Weights:
    """The score weights of the city's policy (P6(2); rpms.cities PolicyProfile.matching_weight_*)."""
    return engine.Weights(**city.policy.matching_weights())


@transaction.atomic
def matching_run(*, actor, city, request_ids=None) -> MatchingRun:
    """Runs the engine over the accepted requests of the city (all of them when `request_ids` is None):
    slots = for each request and unit, slots_per_unit minus appointments already serving it in that
    role; candidates = the pool's active members with their remaining capacity. Stores the run, its
    proposals with their explanations and the unfilled slots with their reasons; open proposals of
    those requests from earlier runs are discarded. Deterministic for the same database state."""
    require_city_admin(actor, city, what="运行统筹选派")
    requests = DispatchRequest.objects.select_for_update().filter(city=city)
    if request_ids is None:
        requests = list(requests.filter(status=RequestStatus.ACCEPTED).order_by("pk"))
        if not requests:
            raise DomainError("目前没有已受理的派驻申请，无需运行统筹选派。", code="no_accepted_requests")
    else:
        try:
            wanted = sorted({int(i) for i in request_ids})
        except (TypeError, ValueError):
            raise DomainError("派驻申请编号不正确。", code="invalid_request_ids") from None
        if not wanted:
            raise DomainError("请至少选择一份已受理的派驻申请。", code="no_accepted_requests")
        requests = list(requests.filter(pk__in=wanted).order_by("pk"))
        found = {r.pk: r for r in requests}
        missing = [str(pk) for pk in wanted if pk not in found]
        if missing:
            raise NotFound(f"派驻申请不存在：{'、'.join(missing)}。", code="request_not_found")
        not_accepted = [f"#{r.pk}（{r.get_status_display()}）" for r in requests if not r.can_match()]
        if not_accepted:
            raise DomainError(f"只有已受理的派驻申请可以参与统筹选派：{'、'.join(not_accepted)}。", code="request_not_accepted")
    requests = list(
        DispatchRequest.objects.filter(pk__in=[r.pk for r in requests]).select_related("district")
        .prefetch_related("units__district").order_by("pk")
    )

    slots, complete = inputs.build_slots(requests, city=city)
    candidates, planners = inputs.build_candidates(city=city)
    weights = _weights_for(city)
    side_rules = engine.SideRules()
    result = engine.solve(slots, candidates, weights=weights, side_rules=side_rules, time_limit_s=MATCHING_TIME_LIMIT_S)
    problems = engine.check_solution(slots, candidates, result, side_rules)
    if problems:  # an independent check of every hard rule; nothing is stored if one fails
        raise DomainError("统筹选派结果未通过硬性规则校验：" + "；".join(problems[:5]), code="matching_check_failed")

    discarded = _discard_open_proposals([r.pk for r in requests], actor=actor)
    candidate_by_id = {c.planner_id: c for c in candidates}
    units = {u.pk: u for r in requests for u in r.units.all()}
    article = policy_article(city, "matching")
    unfilled = [
        {
            "slot_key": u.slot_key, "request": u.request_id, "unit": u.unit_id,
            "unit_name": units[u.unit_id].name if u.unit_id in units else "",
            "district": units[u.unit_id].district.name if u.unit_id in units else "",
            "district_code": units[u.unit_id].district.code if u.unit_id in units else "",
            "role": u.role, "role_label": role_label(city, u.role), "reason_code": u.reason_code, "reason": u.reason,
        }
        for u in sorted(result.unfilled, key=lambda u: u.slot_key)
    ]
    run = MatchingRun(
        city=city, run_by=actor if getattr(actor, "is_authenticated", False) else None,
        objective=int(result.objective), optimal=bool(result.optimal), seconds=float(result.seconds),
        method=result.method, slot_count=len(slots), candidate_count=len(candidates), unfilled=unfilled,
        weights=asdict(weights), input_digest=inputs.input_digest(slots, candidates, weights, side_rules),
    )
    _clean(run)
    run.save()
    run.requests.set(requests)
    proposals = []
    for p in sorted(result.proposals, key=lambda p: p.slot_key):
        candidate = candidate_by_id[p.planner_id]
        proposal = Proposal(
            run=run, request_id=p.request_id, unit_id=p.unit_id, role=p.role, planner_id=p.planner_id,
            slot_key=p.slot_key, score=float(p.score),
            explanation=_explanation(
                p.explanation, record_checks(city=city, candidate=candidate, planner=planners[p.planner_id]),
                article=article,
            ),
        )
        _clean(proposal)
        proposals.append(proposal)
    Proposal.objects.bulk_create(proposals)

    # A request whose every unit is already served as asked needs nothing more.
    fulfilled = []
    for request in requests:
        if complete.get(request.pk, set()) >= {u.pk for u in request.units.all()}:
            request.move_to(RequestStatus.FULFILLED)
            request.fulfilled_at = clock.now()
            request.save(update_fields=["status", "fulfilled_at", "updated_at"])
            fulfilled.append(request.pk)

    audit_log(
        actor=actor, action="dispatch.matching_run", obj=run, article=article,
        after={
            "requests": [r.pk for r in requests], "slots": len(slots), "candidates": len(candidates),
            "proposals": len(proposals), "unfilled": len(unfilled), "objective": run.objective, "optimal": run.optimal,
            "method": run.method, "input_digest": run.input_digest, "discarded_proposals": discarded,
            "fulfilled_requests": fulfilled,
        },
        summary=f"统筹选派：{len(requests)} 份申请、{len(slots)} 个岗位，建议 {len(proposals)} 人，未满足 {len(unfilled)} 个",
    )
    return run


def _conflict_for(planner_id: int, unit) -> ConflictDeclaration | None:
    from django.db.models import Q

    return (
        ConflictDeclaration.objects.filter(planner_id=planner_id, withdrawn_at__isnull=True)
        .filter(Q(unit_id=unit.pk) | Q(district_id=unit.district_id))
        .first()
    )


def _request_filled(request: DispatchRequest) -> bool:
    units = list(request.units.all())
    counts = inputs.coverage_by_unit_role(unit_ids=[u.pk for u in units])
    return all(counts[(u.pk, request.role)] >= request.slots_per_unit for u in units)


def _parse_date(value, *, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise DomainError(f"{label}格式不正确，应为 YYYY-MM-DD。", code="invalid_date") from None


@transaction.atomic
def proposal_confirm(*, actor, proposal: Proposal, start):
    """Turns a proposal into an appointment through appointments' `appointment_create` (which checks
    the hard rules again — pool, unit cap, once per unit — refusing with 409, and writes the audit row).
    The proposal is marked confirmed; the request is fulfilled once every unit has its planners."""
    from rpms.appointments.services import appointment_create

    proposal = _lock_proposal(proposal)
    city = proposal.run.city
    require_city_admin(actor, city, what="确认选派建议")
    start = _parse_date(start, label="聘期开始日期")
    if proposal.status != ProposalStatus.PROPOSED:
        raise Conflict(f"该选派建议当前状态为“{proposal.get_status_display()}”，不能确认。", code="proposal_not_open")
    request = _lock_request(proposal.request)
    if request.status != RequestStatus.ACCEPTED:
        raise Conflict(f"派驻申请 #{request.pk} 当前状态为“{request.get_status_display()}”，不能据此聘任。", code="request_not_accepted")
    conflict = _conflict_for(proposal.planner_id, proposal.unit)
    if conflict is not None:
        raise Conflict(
            f"{proposal.planner.name}已申报与{conflict.target_label}的利益冲突（{conflict.get_kind_display()}），不能确认此建议，请重新运行统筹选派或人工替换。",
            code="conflict_of_interest",
        )
    appointment = appointment_create(
        actor=actor, planner=proposal.planner, unit=proposal.unit, role=proposal.role, start=start,
        service_focus=request.service_focus, source=f"proposal:{proposal.pk}",
    )
    proposal.move_to(ProposalStatus.CONFIRMED)
    proposal.appointment = appointment
    proposal.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    proposal.decided_at = clock.now()
    _clean(proposal)
    proposal.save(update_fields=["status", "appointment", "decided_by", "decided_at"])
    if _request_filled(request):
        request.move_to(RequestStatus.FULFILLED)
        request.fulfilled_at = clock.now()
        request.save(update_fields=["status", "fulfilled_at", "updated_at"])
    return appointment


def _slot_for(proposal: Proposal) -> engine.Slot:
    return inputs.make_slot(
        key=proposal.slot_key or f"proposal:{proposal.pk}", request_id=proposal.request_id, unit=proposal.unit,
        role=proposal.role, specialties=proposal.request.specialties, city=proposal.run.city,
    )


def _refusal_reason(*, city, slot, candidate, proposed_units: set[int], held_units: set[int], planner) -> str | None:
    """Why `candidate` may not take `slot`, in Chinese (None: it may)."""
    name = planner.name
    if slot.unit_id in held_units:
        return f"{name}已在{slot.label}任职，同一责任规划师不能重复派驻同一单元。"
    if slot.unit_id in proposed_units:
        return f"{name}已被建议派驻到{slot.label}，同一责任规划师不能重复派驻同一单元。"
    if slot.unit_id in candidate.conflict_unit_ids or slot.district_id in candidate.conflict_district_ids:
        return f"{name}已申报与{slot.label}（或其所在区）的利益冲突，不能派驻。"
    if slot.specialties and not set(slot.specialties) & set(candidate.specialties):
        wanted = "、".join(city.policy.specialty_label(s) for s in slot.specialties)
        return f"{name}不具备申请所需的专业领域（{wanted}）。"
    if candidate.capacity is not None and candidate.capacity <= 0:
        cap = inputs.unit_cap(city)
        return (f"{name}已服务或已聘（含待确认的选派建议）{len(candidate.held_unit_ids)} 个责任单元，"
                f"达到上限 {cap} 个（{policy_article(city, 'unit_cap')}）。")
    ok, code = engine.eligibility(slot, candidate)
    if not ok:
        return f"{name}不符合派驻条件（{code}）。"
    return None


@transaction.atomic
def proposal_replace(*, actor, proposal: Proposal, planner: Planner, reason: str) -> Proposal:
    """The administrator replaces a proposal by hand (P6(2)). The new planner must meet the same hard
    rules (in the pool, specialty, once per unit, no declared conflict, unit cap counting its
    appointments and its other open proposals); the old proposal is kept as replaced, with the reason."""
    proposal = _lock_proposal(proposal)
    city = proposal.run.city
    require_city_admin(actor, city, what="人工调整选派建议")
    reason = _text(reason, label="替换理由", required=True)
    if proposal.status != ProposalStatus.PROPOSED:
        raise Conflict(f"该选派建议当前状态为“{proposal.get_status_display()}”，不能替换。", code="proposal_not_open")
    if proposal.request.status != RequestStatus.ACCEPTED:
        raise Conflict(f"派驻申请 #{proposal.request_id} 当前状态为“{proposal.request.get_status_display()}”，不能调整。",
                       code="request_not_accepted")
    if planner.city_id != city.pk:
        raise NotFound("该责任规划师不在本市资源库中。", code="planner_not_found")
    if planner.pk == proposal.planner_id:
        raise DomainError("替换人选与原建议相同。", code="same_planner")
    if planner.pool_status != PoolStatus.ACTIVE:
        raise Conflict(f"{planner.name}当前为“{planner.get_pool_status_display()}”，只有在库人员可以派驻。", code="not_in_pool")
    Planner.objects.select_for_update().filter(pk=planner.pk).first()  # serialise concurrent replacements
    candidates, planners = inputs.build_candidates(city=city, planner_ids=[planner.pk])
    base = candidates[0]
    held = set(base.held_unit_ids)
    proposed = set(
        Proposal.objects.filter(planner=planner, status=ProposalStatus.PROPOSED, run__city=city)
        .exclude(pk=proposal.pk).values_list("unit_id", flat=True)
    )
    counted = held | proposed
    candidate = engine.Candidate(**{
        **{f: getattr(base, f) for f in base.__dataclass_fields__},
        "held_unit_ids": frozenset(counted),
        "capacity": inputs.capacity_for(inputs.unit_cap(city), counted),
    })
    slot = _slot_for(proposal)
    refusal = _refusal_reason(city=city, slot=slot, candidate=candidate, proposed_units=proposed, held_units=held,
                              planner=planners[planner.pk])
    if refusal:
        raise Conflict(refusal, code="replacement_breaks_rule")
    points, terms = engine.score(slot, candidate, _weights_for(city))
    article = policy_article(city, "matching")
    replacement = Proposal(
        run=proposal.run, request=proposal.request, unit=proposal.unit, role=proposal.role, planner=planner,
        slot_key=proposal.slot_key, score=float(points),
        explanation=_explanation(
            {"terms": terms, "summary": f"人工替换（原建议：{proposal.planner.name}）：{reason}"},
            hard_rule_checks(city=city, slot=slot, candidate=candidate, planner=planner),
            article=article, manual=True, replaced_planner=proposal.planner.name, reason=reason,
        ),
        replaces=proposal, replacement_reason=reason,
    )
    _clean(replacement)
    replacement.save()
    before = {"proposal": proposal.pk, "planner": proposal.planner_id, "status": proposal.status}
    proposal.move_to(ProposalStatus.REPLACED)
    proposal.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    proposal.decided_at = clock.now()
    _clean(proposal)
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    audit_log(
        actor=actor, action="dispatch.proposal_replace", obj=replacement, city_code=city.code, before=before,
        after={"proposal": replacement.pk, "planner": planner.pk, "replaces": proposal.pk, "reason": reason,
               "score": replacement.score},
        article=article,
        summary=f"人工替换选派建议：{inputs.slot_label(proposal.unit)} {proposal.planner.name} → {planner.name}（{reason}）",
    )
    return replacement


# --- replacement after a withdrawal (P6(5)) ---------------------------------------------------------


def replacement_proposals(*, actor, unit: ResponsibilityUnit, role: str, exclude_planner_ids=(), start=None,
                          k: int = REPLACEMENT_ALTERNATIVES) -> list[dict]:
    """Up to `k` ranked alternatives for one slot of `unit` in `role` (read-only; writes nothing).

    The slot asks for the specialties of the latest accepted or fulfilled request for that unit and
    role (none if there was no request). Capacity is counted on `start` (default today) from the
    appointments not over then, so a leaving planner still holds the unit until its leave date; the
    planners in `exclude_planner_ids` (the leaving one) are never proposed. The engine is solved k
    times, each time forbidding the earlier picks, so the list is ranked by the engine itself."""
    city = unit.city
    require_city_admin(actor, city, what="查看补位建议")
    role = _role_check(city, role)
    on = _parse_date(start, label="补位开始日期") if start else None
    latest = (
        DispatchRequest.objects.filter(units=unit, role=role, status__in=[RequestStatus.ACCEPTED, RequestStatus.FULFILLED])
        .order_by("-created_at", "-pk").first()
    )
    unit = ResponsibilityUnit.objects.select_related("district").get(pk=unit.pk)
    slot = inputs.make_slot(
        key=f"replacement:u{unit.pk}:{role}", request_id=latest.pk if latest else 0, unit=unit, role=role,
        specialties=latest.specialties if latest else (), city=city,
    )
    excluded = {int(i) for i in exclude_planner_ids or ()}
    candidates, planners = inputs.build_candidates(city=city, on=on)
    candidates = [c for c in candidates if c.planner_id not in excluded]
    weights = _weights_for(city)
    picked: list[int] = []
    alternatives = []
    article = policy_article(city, "replacement")
    for _ in range(max(0, int(k))):
        rules = engine.SideRules(forbidden=tuple((slot.key, pid) for pid in picked))
        result = engine.solve([slot], candidates, weights=weights, side_rules=rules, time_limit_s=MATCHING_TIME_LIMIT_S)
        if not result.proposals:
            break
        found = result.proposals[0]
        picked.append(found.planner_id)
        planner = planners[found.planner_id]
        candidate = next(c for c in candidates if c.planner_id == found.planner_id)
        alternatives.append({
            "planner": planner.pk,
            "planner_name": planner.name,
            "employer": planner.employer,
            "score": float(found.score),
            "explanation": _explanation(
                found.explanation, record_checks(city=city, candidate=candidate, planner=planner),
                article=article,
            ),
        })
    return alternatives
