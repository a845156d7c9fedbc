"""Local selection (B2, B19(1)(5)): the hiring entity proposes, the district approves.

Where the city's policy has `appointment_mode` "local_selection" (Beijing), the street office, town or
township government or park committee (a hiring-entity user of one of the unit's subdistricts) proposes
a planner from the registry for its own unit — the planner's eligibility under the city's rules
(rpms.cities.eligibility) and the unit-cap status are shown — with role, start, fee and service focus.
The district officer of the unit's district approves it, and only then is the appointment made, through
the one appointing code (`services._appointment_create`: the same hard rules, the same documents), or
returns it with a reason; the proposing entity may withdraw a pending proposal. Neither alone appoints:
`services.appointment_create` refuses direct appointing in such a city (`require_direct_appointing`).

A replacement (调整补位) is no exception: where a posting of the unit in the proposal's role ended early
and waits for one (a planner's withdrawal, a removal from the pool: `vacancy`), the approved proposal's
appointment is recorded as its replacement (the Withdrawal's or the ended Appointment's `replacement`),
since `services.withdrawal_replace` and `removal.removal_replace` refuse to appoint alone there.

Writes (one transaction, one audit row citing the city's "selection" article): `proposal_submit`,
`proposal_approve`, `proposal_return`, `proposal_withdraw`. Reads: `proposal_list`, `proposal_get`,
`selection_candidates`, `planner_selection_facts`, `vacancy`. Scoping: the unit's entity, its district's officers
and the city's administrators and auditors see a proposal; anyone else gets 404."""
import datetime as dt

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.cities.eligibility import eligibility_check
from rpms.cities.models import AppointmentMode
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.params import is_digits
from rpms.registry.models import Planner, PlannerKind, PoolStatus
from rpms.registry.services import full_clean_or_refuse, planner_lock

from . import permissions, services
from .models import Appointment, AppointmentStatus, EndKind, SelectionProposal, SelectionStatus, Withdrawal
from .selectors import _proposal_base, proposal_can_see, proposal_get, proposal_list  # noqa: F401  (reads live in selectors)

CANDIDATE_LIMIT = 50
TEXT_MAX = 2000
SNAPSHOT_FIELDS = ["status", "decided_by", "decided_at", "return_reason", "appointment"]


def is_local_selection(city) -> bool:
    return city.policy.appointment_mode == AppointmentMode.LOCAL_SELECTION


# --- what the entity sees about a planner ------------------------------------------------------------


def planner_facts(planner: Planner) -> dict:
    """The eligibility facts of a registry planner (a team: its leader's, B18). Pool members passed the
    declarations at admission (reviewed then), so the policy's declarations count as made."""
    from rpms.recruitment.services import declaration_rules

    return {
        "degree": planner.degree, "degree_field": planner.major_field, "title_level": planner.title_level,
        "title_field": planner.title_field, "registrations": list(planner.registrations or []),
        "experience_years": planner.experience_years,
        "declarations": [d["code"] for d in declaration_rules(planner.city.policy)],
    }


def _held_units(planner_ids, *, on: dt.date) -> dict[int, int]:
    """Planner id → number of units it serves (in force on `on` or starting later). One query."""
    rows = (
        Appointment.objects.filter(planner_id__in=planner_ids).not_over(on)
        .values("planner_id").annotate(n=Count("unit_id", distinct=True))
    )
    return {r["planner_id"]: r["n"] for r in rows}


def cap_status(city, held: int) -> dict:
    cap = city.policy.max_units_per_planner
    article = policy_article(city, "unit_cap")
    if cap is None:
        return {"held": held, "cap": None, "reached": False, "text": f"现服务 {held} 个责任单元（本市未设上限）"}
    reached = held >= cap
    text = f"现服务 {held} 个责任单元，上限 {cap} 个（{article}）" + ("，已达上限，不能再聘" if reached else "")
    return {"held": held, "cap": cap, "reached": reached, "text": text}


def _blocking(*, planner: Planner, unit, role: str, held: int, serving_here: bool,
              pending_here: bool) -> list[tuple[str, str]]:
    """What stops this planner from being proposed for this unit: (code, Chinese line) pairs, with the
    codes and wording of the appointing code, which checks the same rules again at approval."""
    city = unit.city
    policy = city.policy
    problems = []
    if unit.dissolved_at is not None:
        problems.append(("unit_dissolved", f"责任单元“{unit.name}”已撤销，不能派驻"))
    if role and not any(item.get("code") == role for item in policy.roles or []):
        labels = "、".join(item["label"] for item in policy.roles or [])
        problems.append(("unknown_role", f"派驻角色“{role}”不是{city.name}规定的角色（可选：{labels}）"))
    if planner.city_id != city.pk or planner.pool_status != PoolStatus.ACTIVE:
        problems.append(("planner_not_in_pool", f"{planner.name}不在{city.name}责任规划师资源库中（须为在库人员）"))
    if planner.kind == PlannerKind.TEAM and not policy.teams_allowed:
        problems.append(("teams_not_allowed", f"{city.name}不以团队形式聘任责任规划师"))
    if serving_here:
        problems.append(("already_in_unit", f"{planner.name}已在责任单元“{unit.name}”任职，同一人员不能在同一责任单元重复派驻"))
    if pending_here:
        problems.append(("selection_pending", f"已有提名{planner.name}到“{unit.name}”的待审核提名"))
    status = cap_status(city, held)
    if status["reached"]:
        problems.append(("unit_cap_reached", f"{planner.name}同时服务的责任单元已达 {held} 个，按规定不得超过 "
                                             f"{status['cap']} 个（{policy_article(city, 'unit_cap')}）"))
    return problems


def planner_selection_facts(*, planners, unit, role: str = "", start: dt.date | None = None) -> list[dict]:
    """For each planner: its public facts, eligibility under the city's rules (each rule with its article),
    the unit-cap status on `start` and what blocks a proposal. A fixed number of queries."""
    start = start or clock.today()
    planners = list(planners)
    ids = [p.pk for p in planners]
    held = _held_units(ids, on=start)
    serving = set(
        Appointment.objects.filter(planner_id__in=ids, unit=unit).not_over(clock.today()).values_list("planner_id", flat=True)
    )
    pending = set(
        SelectionProposal.objects.filter(planner_id__in=ids, unit=unit, status=SelectionStatus.PENDING)
        .values_list("planner_id", flat=True)
    )
    policy = unit.city.policy
    rows = []
    for planner in planners:
        result = eligibility_check(policy=policy, facts=planner_facts(planner))
        count = held.get(planner.pk, 0)
        blocking = _blocking(planner=planner, unit=unit, role=role, held=count,
                             serving_here=planner.pk in serving, pending_here=planner.pk in pending)
        rows.append({
            "planner": planner,
            "id": planner.pk,
            "name": planner.name,
            "kind": planner.kind,
            "kind_label": planner.get_kind_display(),
            "employer": planner.employer,
            "experience_years": planner.experience_years,
            "specialties": [policy.specialty_label(s) for s in planner.specialties or []],
            "eligibility": result.as_dict(),
            "eligible": result.eligible,
            "failed_rules": [f"{o.label}（{o.article}）：{o.detail}" for o in result.failed()],
            "cap": cap_status(unit.city, count),
            "blocking": [text for _, text in blocking],
            "blocking_codes": [code for code, _ in blocking],
        })
    return rows


def selection_candidates(*, user, unit, q: str = "", role: str = "", start: dt.date | None = None) -> list[dict]:
    """The registry search of the proposal form: active pool members of the unit's city whose name or
    employer contains `q` (at most CANDIDATE_LIMIT), each with eligibility and cap status."""
    if not (permissions.is_hiring_entity_of(user, unit) or permissions.is_district_officer_of(user, unit.district_id)
            or permissions.is_city_admin_of(user, unit.city_id)):
        raise NotFound()
    planners = Planner.objects.filter(city=unit.city, pool_status=PoolStatus.ACTIVE)
    q = (q or "").strip()[:50]
    if q:
        planners = planners.filter(Q(name__icontains=q) | Q(employer__icontains=q) | Q(leader_name__icontains=q))
    # the policy profile from the cache, not joined into every candidate (issue #15)
    from rpms.cities.selectors import attach_policies

    planners = attach_policies(list(planners.select_related("city").order_by("name", "id")[:CANDIDATE_LIMIT]))
    return planner_selection_facts(planners=planners, unit=unit, role=role, start=start)


# --- scoping and reads ----------------------------------------------------------------------------------


def proposal_json(proposal: SelectionProposal) -> dict:
    unit = proposal.unit

    def _who(user):
        return (getattr(user, "display_name", "") or getattr(user, "username", "")) if user else ""

    return {
        "id": proposal.pk,
        "city": proposal.city.code,
        "unit": {"id": unit.pk, "name": unit.name},
        "district": {"id": unit.district_id, "code": unit.district.code, "name": unit.district.name},
        "planner": {"id": proposal.planner_id, "name": proposal.planner.name, "kind": proposal.planner.kind,
                    "employer": proposal.planner.employer},
        "role": proposal.role,
        "role_label": proposal.role_label,
        "start": proposal.start.isoformat(),
        "fee_yuan": proposal.fee_yuan,
        "fee_note": proposal.fee_note,
        "service_focus": proposal.service_focus,
        "status": proposal.status,
        "status_label": proposal.get_status_display(),
        "proposed_by": _who(proposal.proposed_by),
        "proposed_at": timezone.localtime(proposal.proposed_at).isoformat(),
        "decided_by": _who(proposal.decided_by),
        "decided_at": timezone.localtime(proposal.decided_at).isoformat() if proposal.decided_at else None,
        "return_reason": proposal.return_reason,
        "exception_reason": proposal.exception_reason,
        "appointment": proposal.appointment_id,
    }


# --- the vacancy a proposal fills (调整补位) --------------------------------------------------------------


class Vacancy:
    """A posting of a unit in a role that ended early and waits for its replacement: `withdrawal` (the
    planner's, P6(5)/B25 contract clause) or None for a removal from the pool; `leaving` the posting;
    `last_day` its last day of service."""

    def __init__(self, *, leaving: Appointment, withdrawal: Withdrawal | None = None):
        self.leaving = leaving
        self.withdrawal = withdrawal
        self.last_day = withdrawal.leave_date if withdrawal is not None else leaving.ended_on

    @property
    def kind_label(self) -> str:
        return "退出" if self.withdrawal is not None else "调出资源库"

    @property
    def text(self) -> str:
        return (f"{self.leaving.planner.name}（{self.kind_label}，最后服务日 {self.last_day}）的"
                f"{self.leaving.unit.name}{self.leaving.role_label}派驻")

    def link(self, replacement: Appointment) -> None:
        if self.withdrawal is not None:
            self.withdrawal.replacement = replacement
            self.withdrawal.save(update_fields=["replacement"])
        else:
            self.leaving.replacement = replacement
            self.leaving.save(update_fields=["replacement", "updated_at"])


def vacancy(*, unit, role: str, planner=None, lock: bool = False) -> Vacancy | None:
    """The posting of `unit` in `role` that waits for a replacement — a withdrawal without one (as on the
    "退出与补位" list) or a posting that a removal ended without one — the earliest last day first; never
    one of `planner` itself. `lock`: the rows are locked (inside the approval's transaction). Two queries."""
    unit_id = getattr(unit, "pk", unit)
    planner_id = getattr(planner, "pk", planner)
    withdrawals = Withdrawal.objects.filter(
        appointment__unit_id=unit_id, appointment__role=role, replacement__isnull=True,
        appointment__status=AppointmentStatus.ACTIVE,
    ).select_related("appointment__planner", "appointment__unit", "appointment__city__policy")
    removed = Appointment.objects.filter(
        unit_id=unit_id, role=role, end_kind=EndKind.REMOVAL, replacement__isnull=True,
    ).exclude(withdrawals__replacement__isnull=False).select_related("planner", "unit", "city__policy")
    if planner_id is not None:
        withdrawals = withdrawals.exclude(appointment__planner_id=planner_id)
        removed = removed.exclude(planner_id=planner_id)
    if lock:
        withdrawals = withdrawals.select_for_update(of=("self",))
        removed = removed.select_for_update(of=("self",))
    candidates = []
    withdrawal = withdrawals.order_by("leave_date", "id").first()
    if withdrawal is not None:
        candidates.append(Vacancy(leaving=withdrawal.appointment, withdrawal=withdrawal))
    leaving = removed.order_by("ended_on", "id").first()
    if leaving is not None:
        candidates.append(Vacancy(leaving=leaving))
    return min(candidates, key=lambda v: v.last_day) if candidates else None


# --- writes -------------------------------------------------------------------------------------------


def _articles(*texts: str) -> str:
    """Article lists joined without repeats ("B2、B19(1)、B19(5)" + "B19(1)" → "B2、B19(1)、B19(5)")."""
    return "、".join(dict.fromkeys(part for text in texts for part in (text or "").split("、") if part))


def _text(value, label: str, max_length: int = TEXT_MAX) -> str:
    value = str(value or "").strip()
    if len(value) > max_length:
        raise DomainError(f"{label}过长（不超过 {max_length} 字）。", code="invalid_field")
    return value


def _fee(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not is_digits(str(value).strip()):
        raise DomainError("服务费用应为不小于 0 的整数（元）。", code="invalid_fee")
    return int(str(value).strip())


@transaction.atomic
def proposal_submit(*, actor, planner, unit, role, start, fee_yuan=None, fee_note: str = "",
                    service_focus: str = "", exception_reason: str = "") -> SelectionProposal:
    """B2, B19(1): the unit's hiring entity proposes a registry planner for its own unit. Refused: in a
    city that dispatches (409), by anyone but the unit's entity (403 for the district and the city,
    404 outside the scope), a planner not in the pool, already serving or already proposed for the unit,
    or at the unit cap (409), an unknown role (409), a start outside the accepted range (400).

    At an in-principle cap (B19(2) "原则上"), a proposal carrying `exception_reason` (the entity's written
    justification) is accepted: the district, approving it, asks the city administrator for the exception
    (rpms.registry.limits). At a strict cap the justification does not help (409 limit_strict)."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录。")
    unit = services._load_unit(getattr(unit, "pk", unit))
    city = unit.city
    if not (actor.is_superuser or actor.city_id == city.pk):
        raise NotFound()
    article = policy_article(city, "selection")
    if not permissions.is_hiring_entity_of(actor, unit):
        if permissions.is_city_admin_of(actor, city.pk) or permissions.is_district_officer_of(actor, unit.district_id):
            raise Forbidden(
                f"选聘提名由责任单元的聘任主体（街道办事处、镇（乡）人民政府、园区管委会）提出，"
                f"区级工作专班审核同意（{article}）。", code="not_hiring_entity",
            )
        raise NotFound()
    if not is_local_selection(city):
        raise Conflict(f"{city.name}由市级主管部门从资源库统筹选派责任规划师（{policy_article(city, 'matching')}），"
                       f"不适用属地选聘提名。", code="not_local_selection")
    role = _text(role, "派驻角色", 50) or "responsible_planner"
    start = services._check_start(start)
    fee = _fee(fee_yuan)
    fee_note = _text(fee_note, "费用说明", 500)
    service_focus = _text(service_focus, "服务重点")
    planner_id = getattr(planner, "pk", planner)
    planner = planner_lock(planner_id)
    if planner is None:
        raise NotFound("责任规划师不存在。", code="planner_not_found")
    [facts] = planner_selection_facts(planners=[planner], unit=unit, role=role, start=start)
    exception_reason = _text(exception_reason, "超出原则性上限的理由")
    blocking = list(zip(facts["blocking_codes"], facts["blocking"]))
    over_cap = any(code == "unit_cap_reached" for code, _ in blocking)
    if over_cap and exception_reason and [code for code, _ in blocking] == ["unit_cap_reached"]:
        from rpms.cities.limits import UNIT_CAP, limit_article

        if not city.policy.limit_in_principle(UNIT_CAP):
            raise Conflict(f"不能提名：{blocking[0][1]}。按{city.name}的规定，同时服务责任单元上限为硬性要求"
                           f"（{limit_article(city, UNIT_CAP)}），不能以例外理由办理。", code="limit_strict",
                           details={"limit": UNIT_CAP, "blocking": facts["blocking"]})
        blocking = []  # B19(2) "原则上": the district asks the city administrator for the exception
    if blocking:
        hint = ""
        if over_cap and city.policy.limit_in_principle("unit_cap"):
            hint = "（同时服务责任单元上限为原则性规定：确有必要的，可写明超出上限的理由后提名，由区级审核后报市级主管部门批准例外。）"
        raise Conflict("不能提名：" + "；".join(text for _, text in blocking) + "。" + hint, code=blocking[0][0],
                       details={"blocking": facts["blocking"]})
    proposal = SelectionProposal(
        city=city, unit=unit, planner=planner, role=role, start=start, fee_yuan=fee, fee_note=fee_note,
        service_focus=service_focus, status=SelectionStatus.PENDING, proposed_by=actor, proposed_at=clock.now(),
        exception_reason=exception_reason if over_cap else "",
    )
    full_clean_or_refuse(proposal, validate_constraints=False)
    proposal.save()
    audit_log(
        actor=actor, action="appointments.selection_propose", obj=proposal,
        after={**snapshot(proposal, ["unit", "planner", "role", "start", "fee_yuan", "status", "exception_reason"]),
               "eligible": facts["eligible"], "cap": facts["cap"]["text"]},
        article=article, city_code=city.code,
        summary=f"{actor.display_name or actor.username}提名{planner.name}为{unit.name}{proposal.role_label}，待区级审核",
    )
    return proposal


def _lock(proposal) -> SelectionProposal:
    locked = SelectionProposal.objects.select_for_update(of=("self",)).filter(pk=getattr(proposal, "pk", proposal)).first()
    if locked is None:
        raise NotFound()
    return _proposal_base().get(pk=locked.pk)


def _require_district_officer(actor, proposal, what: str) -> None:
    unit = proposal.unit
    if permissions.is_district_officer_of(actor, unit.district_id):
        return
    if proposal_can_see(actor, proposal):
        raise Forbidden(f"选聘提名由{unit.district.name}规划自然资源主管部门（区级工作专班）{what}"
                        f"（{policy_article(proposal.city, 'selection')}）。", code="not_district_officer")
    raise NotFound()


def _require_pending(proposal) -> None:
    if proposal.status != SelectionStatus.PENDING:
        raise Conflict(f"该提名当前状态为“{proposal.get_status_display()}”，不能再办理。", code="proposal_not_pending")


@transaction.atomic
def proposal_approve(*, actor, proposal, start=None, exception_reason: str = "", _granted=None):
    """B19(1)(5): the district officer of the unit's district approves a pending proposal; the
    appointment is made by the appointing code (hard rules again, dispatch notice, certificate and
    contract issued, dossier). `start` may move a start that has passed meanwhile. Where a posting of
    the unit in the same role waits for its replacement (`vacancy`), the appointment is recorded as that
    replacement (调整补位; the city's replacement article is cited too). One audit row.

    Over the unit cap where the city marks it in principle (B19(2)), the approval carrying
    `exception_reason` becomes a request to the city administrator (rpms.registry.limits): the proposal
    stays pending and the request is returned; once approved, this service runs again as the officer with
    the exception granted, and the appointment is made. Without a reason: 409 unit_cap_reached."""
    from rpms.registry import limits

    proposal = _lock(proposal)
    _require_district_officer(actor, proposal, "审核同意")
    _require_pending(proposal)
    city = proposal.city
    filling = vacancy(unit=proposal.unit_id, role=proposal.role, planner=proposal.planner_id, lock=True)
    note = f"经{proposal.unit.district.name}责任规划师工作专班审核同意的选聘提名"
    if filling is not None:
        note += f"，接替{filling.text}"
    chosen_start = start or proposal.start
    waiver = limits.Waiver(
        act=limits.ExceptionAct.SELECTION_APPROVE, subject=limits.ExceptionSubject.APPOINTMENT,
        reason=exception_reason, granted=_granted, source=proposal,
        payload={"proposal": proposal.pk, "start": str(start) if start else None},
    )
    try:
        appointment = services._appointment_create(
            actor=actor, planner=proposal.planner_id, unit=proposal.unit_id, role=proposal.role,
            start=chosen_start, fee_yuan=proposal.fee_yuan, fee_note=proposal.fee_note,
            service_focus=proposal.service_focus, source=f"selection:{proposal.pk}",
            note=note, waiver=waiver,
        )
    except limits.ExceptionRequested as requested:
        return requested.exception
    used = services.limit_exceptions_used(appointment)
    before = snapshot(proposal, SNAPSHOT_FIELDS)
    proposal.move_to(SelectionStatus.APPROVED)
    proposal.appointment = appointment
    proposal.decided_by = actor
    proposal.decided_at = clock.now()
    proposal.save(update_fields=["status", "appointment", "decided_by", "decided_at", "updated_at"])
    after = {**snapshot(appointment), "proposal": proposal.pk, "proposed_by": proposal.proposed_by_id}
    articles = [policy_article(city, "selection"), policy_article(city, "appointment")]
    summary = f"审核同意选聘提名，聘任{appointment.planner.name}为{appointment.unit.name}{appointment.role_label}"
    if used:
        after["limit_exceptions"] = [e.pk for e in used]
        after["exception_approved_by"] = [e.decided_by_id for e in used]
        articles.extend(e.article for e in used)
        summary += "（经市级主管部门批准超出原则性上限）"
    if filling is not None:
        filling.link(appointment)
        after["replaces"] = filling.leaving.pk
        if filling.withdrawal is not None:
            after["withdrawal"] = filling.withdrawal.pk
        articles.append(policy_article(city, "replacement"))
        summary += f"（调整补位，接替{filling.leaving.planner.name}）"
    audit_log(
        actor=actor, action="appointments.selection_approve", obj=appointment, before=before, after=after,
        article=_articles(*articles), summary=summary,
    )
    return appointment


def _exceptions_lapse(proposal, actor, note: str) -> list[int]:
    from rpms.registry.limits import exceptions_lapse

    return exceptions_lapse(source=proposal, actor=actor, note=note)


@transaction.atomic
def proposal_return(*, actor, proposal, reason: str) -> SelectionProposal:
    """The district officer returns a pending proposal with a reason (the entity may propose again)."""
    proposal = _lock(proposal)
    _require_district_officer(actor, proposal, "审核")
    _require_pending(proposal)
    reason = _text(reason, "退回理由")
    if not reason:
        raise DomainError("请写明退回理由。", code="reason_required")
    before = snapshot(proposal, SNAPSHOT_FIELDS)
    proposal.move_to(SelectionStatus.RETURNED)
    proposal.return_reason = reason
    proposal.decided_by = actor
    proposal.decided_at = clock.now()
    proposal.save(update_fields=["status", "return_reason", "decided_by", "decided_at", "updated_at"])
    lapsed = _exceptions_lapse(proposal, actor, "提名已退回，例外申请随之撤销")
    audit_log(
        actor=actor, action="appointments.selection_return", obj=proposal, before=before,
        after={**snapshot(proposal, SNAPSHOT_FIELDS), **({"limit_exceptions_lapsed": lapsed} if lapsed else {})},
        article=policy_article(proposal.city, "selection"),
        city_code=proposal.city.code,
        summary=f"退回选聘提名：{proposal.planner.name} · {proposal.unit.name}",
    )
    return proposal


@transaction.atomic
def proposal_withdraw(*, actor, proposal) -> SelectionProposal:
    """The proposing entity (a hiring-entity user of the unit) withdraws its pending proposal."""
    proposal = _lock(proposal)
    if not permissions.is_hiring_entity_of(actor, proposal.unit):
        if proposal_can_see(actor, proposal):
            raise Forbidden("只有提出提名的聘任主体可以撤回选聘提名。", code="not_hiring_entity")
        raise NotFound()
    _require_pending(proposal)
    before = snapshot(proposal, SNAPSHOT_FIELDS)
    proposal.move_to(SelectionStatus.WITHDRAWN)
    proposal.decided_by = actor
    proposal.decided_at = clock.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    lapsed = _exceptions_lapse(proposal, actor, "提名已撤回，例外申请随之撤销")
    audit_log(
        actor=actor, action="appointments.selection_withdraw", obj=proposal, before=before,
        after={**snapshot(proposal, SNAPSHOT_FIELDS), **({"limit_exceptions_lapsed": lapsed} if lapsed else {})},
        article=policy_article(proposal.city, "selection"),
        city_code=proposal.city.code,
        summary=f"撤回选聘提名：{proposal.planner.name} · {proposal.unit.name}",
    )
    return proposal


def perform_limit_exception(*, exception):
    """hooks.LIMIT_EXCEPTION_PERFORM handler: the city administrator approved an exception to the
    in-principle unit cap (B19(2)); the appointing that waited is done now, through its own service, as
    the requester, with the exception granted (every other rule checked again)."""
    from rpms.registry.models import ExceptionAct

    payload = exception.payload or {}
    if exception.act == ExceptionAct.SELECTION_APPROVE:
        return proposal_approve(actor=exception.requested_by, proposal=payload.get("proposal"),
                                start=payload.get("start") or None, _granted=exception)
    if exception.act == ExceptionAct.APPOINTMENT_CREATE:
        return services.appointment_create(
            actor=exception.requested_by, planner=payload.get("planner"), unit=payload.get("unit"),
            role=payload.get("role", ""), start=payload.get("start"), fee_yuan=payload.get("fee_yuan"),
            fee_note=payload.get("fee_note", ""), service_focus=payload.get("service_focus", ""),
            source=payload.get("source", ""), note=payload.get("note", ""),
            withdrawal_notice_working_days=payload.get("withdrawal_notice_working_days"), _granted=exception,
        )
    return None


def entity_units(user):
    """The active units of the hiring entity's subdistricts (the units it may propose for)."""
    from rpms.geography.models import ResponsibilityUnit

    if not getattr(user, "is_authenticated", False) or user.role != Role.HIRING_ENTITY:
        return ResponsibilityUnit.objects.none()
    from rpms.geography.models import UnitMembership

    # The entity's few units as ids first, not DISTINCT over the joined memberships (issue #15); not a nested
    # subquery either: on PostgreSQL with a fresh test database's statistics that plan ran for tens of minutes.
    unit_ids = list(UnitMembership.objects.filter(left_at__isnull=True, subdistrict__in=list(
        user.subdistricts.values_list("pk", flat=True))).values_list("unit_id", flat=True))
    return (
        ResponsibilityUnit.objects.filter(dissolved_at__isnull=True, pk__in=unit_ids)
        .select_related("district", "city__policy").order_by("district__code", "name", "id")
    )
