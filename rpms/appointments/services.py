"""Appointment writes: appointing (with its dispatch notice, certificate and contract), filing and
disclosure, renewal, termination (B25), withdrawal and replacement (P6(5)), the district chief
planner (B6).

Each service is one act: one transaction, one audit row citing the city's own article for the step
(`policy_article`), and the planner's dossier rows alongside. The documents an act issues are part of
it (rpms.documents writes no audit row of its own)."""
import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.cities.models import AppointmentMode, ContractSigner
from rpms.cities.selectors import contract_clause_texts, policy_article
from rpms.core import clock
from rpms.core import hooks
from rpms.core.audit import audit_log, snapshot
from rpms.core.dates import term_end
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.registry.models import DossierEventKind, Planner, PlannerKind, PoolStatus
from rpms.registry.services import dossier_event_record, full_clean_or_refuse, planner_lock

from . import permissions
from .common import _article_text, _lock_appointment, filing_body_for  # noqa: F401  (callers use services.*)
from .models import (
    END_KIND_STATUS,
    OVER_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentTerm,
    DistrictChief,
    DistrictChiefStatus,
    EndKind,
    TerminationEvidence,
    TerminationInitiator,
    TerminationRequest,
    TerminationStatus,
    TermKind,
    Withdrawal,
)

# A start date may lie a little in the past (a contract signed last week is recorded today), not more.
START_GRACE_DAYS = 7
# … and not absurdly far ahead.
START_MAX_AHEAD_DAYS = 366

KIND_DISPATCH_NOTICE = "dispatch_notice"
KIND_CERTIFICATE = "appointment_certificate"
KIND_CONTRACT = "appointment_contract"

ENTITY_TERMINATION_REFUSED = "聘任主体不得以合同约定外的事项作为解除聘用合同的理由"


# --- small helpers ------------------------------------------------------------------------------


def _role_item(policy, role: str):
    return next((item for item in (policy.roles or []) if item.get("code") == role), None)


def hiring_entity_name(unit) -> str:
    """The hiring entity of a unit as it signs: its subdistricts' offices / governments, joined."""
    names = []
    for subdistrict in unit.current_subdistricts:
        name = subdistrict.name
        if subdistrict.kind in ("town", "township"):
            names.append(f"{name}人民政府")
        elif subdistrict.kind == "park":
            names.append(name if name.endswith(("管委会", "管理委员会")) else f"{name}管理委员会")
        else:
            names.append(name if name.endswith("办事处") else f"{name}办事处")
    return "、".join(names) or f"{unit.name}所在街道办事处"


def party_a_for(unit) -> str:
    policy = unit.city.policy
    if policy.contract_signer == ContractSigner.HIRING_ENTITY:
        return hiring_entity_name(unit)
    return unit.city.bureau_name or unit.city.name


def _load_unit(unit_id):
    from rpms.geography.models import ResponsibilityUnit

    unit = ResponsibilityUnit.objects.select_related("city__policy", "district").filter(pk=unit_id).first()
    if unit is None:
        raise NotFound("责任单元不存在。", code="unit_not_found")
    return unit


def _core_members(planner: Planner, policy) -> list[dict]:
    members = [m for m in planner.members.all() if m.is_core]
    cap = policy.max_core_team_members
    if cap is not None:
        members = members[:cap]
    return [{"name": m.name, "specialty_label": policy.specialty_label(m.specialty) if m.specialty else ""} for m in members]


def _common_context(city, *, articles: list[str], issuer_name: str, article_note: str = "") -> dict:
    return {
        "city_name": city.name,
        "bureau_name": city.bureau_name,
        "rulebook_title": city.rulebook_title,
        "issued_on": clock.today().isoformat(),
        "issuer_name": issuer_name,
        "articles": [a for a in dict.fromkeys(articles) if a],
        "article_note": article_note,
    }


def _fee_text(appointment: Appointment) -> str:
    if appointment.fee_yuan is not None:
        text = f"{appointment.fee_yuan} 元"
        return f"{text}（{appointment.fee_note}）" if appointment.fee_note else text
    return appointment.fee_note or ""


def appointment_documents_context(appointment: Appointment, *, years: int) -> dict[str, dict]:
    """The context of each of the three documents, exactly the keys their templates render
    (rpms/documents/templates/documents/pdf/*). Public names only: no ID number, no mobile."""
    city = appointment.city
    policy = city.policy
    unit = appointment.unit
    planner = appointment.planner
    subdistricts = [s.name for s in unit.current_subdistricts]
    duties = [item["label"] for item in policy.duty_categories or []]
    kind_label = PlannerKind(planner.kind).label
    role_label = appointment.role_label
    start, end = appointment_term_bounds(appointment)
    party_b = planner.name
    # Who issues what, and which bodies exist here, is the city's policy (rpms.documents.issuers).
    from rpms.documents import issuers

    district = unit.district
    hiring_entity = hiring_entity_name(unit)
    filing_body = issuers.contract_filing_body(city, district)
    notice_issuer = issuers.document_issuer(city=city, kind=KIND_DISPATCH_NOTICE, district=district,
                                            hiring_entity=hiring_entity)
    certificate_issuer = issuers.document_issuer(city=city, kind=KIND_CERTIFICATE, hiring_entity=hiring_entity)
    contract_issuer = issuers.document_issuer(city=city, kind=KIND_CONTRACT, hiring_entity=hiring_entity)
    article_appointment = policy_article(city, "appointment")
    article_contract = policy_article(city, "contract")
    clause_values = {
        "party_a": appointment.party_a,
        "party_b": party_b,
        "unit_name": unit.name,
        "district_name": unit.district.name,
        "subdistricts": "、".join(subdistricts),
        "role_label": role_label,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "term_years": years,
        "fee": _fee_text(appointment),
        "duties": "；".join(duties),
        "service_focus": appointment.service_focus,
        "filing_body": filing_body,
    }
    recipients = issuers.dispatch_notice_recipients(city, district=district, hiring_entity=hiring_entity,
                                                    planner_name=planner.name)
    contact = issuers.district_work_team_name(city, district) or issuers.local_government_name(district)
    notice = {
        **_common_context(city, articles=[article_appointment, policy_article(city, "matching")],
                          issuer_name=notice_issuer.name, article_note="派驻聘任"),
        "letterhead": notice_issuer.letterhead,
        "recipients": recipients,
        "planner_name": planner.name,
        "planner_kind_label": kind_label,
        "leader_name": planner.leader_name,
        "employer": planner.employer,
        "unit_name": unit.name,
        "district_name": unit.district.name,
        "subdistricts": subdistricts,
        "role_label": role_label,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "term_years": years,
        "duties": duties,
        "service_focus": appointment.service_focus,
        "term_no": appointment.term_no,
        "contact_note": "责任规划师可通过本系统接收居民意见建议；请" + "与".join(dict.fromkeys((hiring_entity, contact)))
                        + "做好工作对接。",
    }
    certificate = {
        **_common_context(city, articles=[article_appointment], issuer_name=certificate_issuer.name,
                          article_note="聘任证书"),
        "letterhead": certificate_issuer.letterhead,
        "term_no": appointment.term_no,
        "planner_name": planner.name,
        "planner_kind_label": kind_label,
        "leader_name": planner.leader_name,
        "core_members": _core_members(planner, policy) if planner.kind == PlannerKind.TEAM else [],
        "employer": planner.employer,
        "unit_name": unit.name,
        "district_name": unit.district.name,
        "role_label": role_label,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
    }
    contract = {
        **_common_context(city, articles=[article_contract, policy_article(city, "filing") if filing_body else ""],
                          issuer_name=contract_issuer.name, article_note="聘用合同"),
        "letterhead": contract_issuer.letterhead,
        "term_no": appointment.term_no,
        "party_a": appointment.party_a,
        "party_b": party_b,
        "party_b_leader": planner.leader_name,
        "party_b_employer": planner.employer,
        "planner_kind_label": kind_label,
        "unit_name": unit.name,
        "district_name": unit.district.name,
        "subdistricts": subdistricts,
        "role_label": role_label,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "term_years": years,
        "fee_yuan": appointment.fee_yuan,
        "fee_note": appointment.fee_note,
        "clauses": contract_clause_texts(city, clause_values) + _contract_own_clauses(appointment),
        "filing_body": filing_body,
    }
    return {KIND_DISPATCH_NOTICE: notice, KIND_CERTIFICATE: certificate, KIND_CONTRACT: contract}


def _contract_own_clauses(appointment: Appointment) -> list[dict]:
    """Clauses this contract agrees beyond the city's list: its own withdrawal notice (B25 "除合同另有约定外",
    only where the policy allows such a clause)."""
    days = appointment.contract_withdrawal_notice_working_days
    if days is None or not appointment.city.policy.contract_notice_clause_allowed:
        return []
    article = policy_article(appointment.city, "withdrawal")
    return [{
        "code": "withdrawal_notice", "label": "提前退出的约定", "article": article,
        "text": f"双方约定：乙方因自身原因无法继续履行本合同的，应提前 {days} 个工作日向甲方提交书面退出申请"
                f"（提前期自申请次日起按工作日计算，申请当日不计入），提前期届满即可退出派驻，最后服务日由乙方在申请中写明。"
                f"本条为合同对退出提前期的另行约定（{article}）。",
    }]


def appointment_term_bounds(appointment: Appointment) -> tuple[dt.date, dt.date]:
    """The current term's start and end (the first term starts at `start`; a renewal at the day after
    the previous term)."""
    term = getattr(appointment, "_current_term", None)
    if term is not None:
        return term
    return appointment.start, appointment.end


def _issue(*, actor, appointment, kind, title, context, supersedes=None):
    """Issues one of the appointment's documents, valid until the current term's last day (it then
    verifies as ended unless a renewal carries it on; an early ending marks it, appointment_end_record)."""
    from rpms.documents.services import document_issue

    return document_issue(
        actor=actor, city=appointment.city, kind=kind, title=title, subject=appointment, context=context,
        holder_name=appointment.planner.name, supersedes=supersedes,
        valid_until=appointment_term_bounds(appointment)[1],
    )


def _current_document(appointment, kind):
    from rpms.documents.selectors import document_current

    return document_current(appointment, kind)


def latest_grade(appointment: Appointment) -> str | None:
    """The code of the latest grade recorded for this appointment (P6(4)), or None: the policy's grade
    with this code says whether renewal is refused (rpms.assessments, through the LATEST_GRADE hook)."""
    return next((code for code in hooks.run(hooks.LATEST_GRADE, appointment=appointment) if code), None)


def renewal_refusal(appointment: Appointment) -> str | None:
    """Why the latest recorded grade refuses the renewal (P6(4), B20), or None (rpms.assessments, through the
    RENEWAL_REFUSAL hook)."""
    return next((reason for reason in hooks.run(hooks.RENEWAL_REFUSAL, appointment=appointment) if reason), None)


# --- appointing ---------------------------------------------------------------------------------

# A contract's own withdrawal notice: at least one working day, at most about a year of them.
CONTRACT_NOTICE_MAX_DAYS = 250


def _contract_notice_days(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        value = None
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = None
    if days is None or str(days) != str(value).strip() or not 1 <= days <= CONTRACT_NOTICE_MAX_DAYS:
        raise DomainError(f"合同约定的退出提前期应为 1 至 {CONTRACT_NOTICE_MAX_DAYS} 之间的整数（工作日）。",
                          code="invalid_notice_days")
    return days


def contract_notice_clause_refused(city) -> Conflict:
    """409 where the policy allows no contract clause of its own on the withdrawal notice."""
    policy = city.policy
    article = policy_article(city, "withdrawal")
    if policy.withdrawal_notice_working_days is None:
        rule = "责任规划师不能单方退出，须经聘任主体同意解除"
    else:
        rule = f"责任规划师退出应提前 {policy.withdrawal_notice_working_days} 个工作日提交书面申请"
    return Conflict(f"按{city.name}的规定，聘用合同不能另行约定退出提前期（{rule}，{article}）。",
                    code="contract_notice_clause_not_allowed")



def _check_start(start) -> dt.date:
    if isinstance(start, str):
        try:
            start = dt.date.fromisoformat(start)
        except ValueError:
            raise DomainError("聘期开始日期格式不正确，应为 YYYY-MM-DD。", code="invalid_start") from None
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise DomainError("请填写聘期开始日期。", code="invalid_start")
    today = clock.today()
    if start < today - dt.timedelta(days=START_GRACE_DAYS):
        earliest = today - dt.timedelta(days=START_GRACE_DAYS)
        raise DomainError(
            f"聘期开始日期不能早于 {earliest.isoformat()}（最多补录 {START_GRACE_DAYS} 天前开始的聘任）。",
            code="start_in_past",
        )
    if start > today + dt.timedelta(days=START_MAX_AHEAD_DAYS):
        raise DomainError("聘期开始日期距今超过一年，请核对。", code="start_too_far")
    return start


def _settle(planner: Planner, unit) -> None:
    """Stored statuses of this planner's appointments in this unit whose dates have passed become
    ENDED / WITHDRAWN, so that the partial unique constraint frees the pair (a lazy record of what
    the dates already say, not a cron job)."""
    today = clock.today()
    for old in Appointment.objects.filter(planner=planner, unit=unit, status=AppointmentStatus.ACTIVE):
        state = old.state(today)
        if state in OVER_STATUSES:
            old.move_to(state)
            old.save(update_fields=["status", "updated_at"])


def planner_spans(planner, *, start: dt.date, end: dt.date) -> list[tuple[int, dt.date, dt.date]]:
    """(unit id, first day, last day of service) of the planner's appointments overlapping start..end,
    ended ones included (their real days of service)."""
    return list(
        Appointment.objects.filter(planner=planner).with_last_day().filter(start__lte=end, last_day__gte=start)
        .values_list("unit_id", "start", "last_day")
    )


def units_held_peak(spans, *, start: dt.date, end: dt.date) -> tuple[int, dt.date | None]:
    """The most distinct units held on one day between start and end among `spans` (unit id, first day,
    last day), and the first such day. A count changes only on a first day, so those days are enough."""
    days = sorted({start, *(first for _, first, last in spans if start < first <= end and last >= start)})
    best, best_day = 0, None
    for day in days:
        held = len({unit for unit, first, last in spans if first <= day <= last})
        if held > best:
            best, best_day = held, day
    return best, best_day


def unit_cap_check(*, city, planner, unit, start: dt.date, end: dt.date, spans=None) -> None:
    """B19(2): refused (409 unit_cap_reached) if with this appointment the planner would serve more
    units than the policy's cap on any day from start to end. Call with the planner's row locked (so
    that concurrent appointments serialise); `spans` (from `planner_spans`) may be given when known."""
    cap = city.policy.max_units_per_planner
    if cap is None:
        return
    spans = planner_spans(planner, start=start, end=end) if spans is None else spans
    unit_id = getattr(unit, "pk", unit)
    held, day = units_held_peak([s for s in spans if s[0] != unit_id], start=start, end=end)
    if held >= cap:
        article = policy_article(city, "unit_cap")
        when = f"在 {day} " if day is not None else ""
        raise Conflict(
            f"{planner.name}{when}同时服务的责任单元已达 {held} 个，按规定不得超过 {cap} 个（{article}），不能再派驻。",
            code="unit_cap_reached", details={"cap": cap, "held": held, "on": day.isoformat() if day else None},
        )


def _appointment_create(*, actor, planner, unit, role, start, fee_yuan=None, fee_note="", service_focus="",
                        source="", note="", withdrawal_notice_working_days=None, waiver=None) -> Appointment:
    """The act of appointing without its audit row (appointment_create and withdrawal_replace audit it).

    `waiver` (rpms.registry.limits.Waiver): what the act carries about exceeding the in-principle unit
    cap (B19(2)); None (the matching, replacements) keeps the cap a hard limit. Raises
    limits.ExceptionRequested when the act waits for the city administrator's approval."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录。")
    unit = _load_unit(getattr(unit, "pk", unit))
    city = unit.city
    policy = city.policy
    # Out of scope: another city's unit is not revealed.
    if not (actor.is_superuser or actor.city_id == city.pk):
        raise NotFound()
    if not permissions.can_appoint(actor, unit):
        if actor.role == Role.DISTRICT_OFFICER:
            if policy.appointment_mode == AppointmentMode.LOCAL_SELECTION:
                raise NotFound()  # another district's unit
            raise Forbidden(f"{city.name}由市级主管部门统筹选派责任规划师，区级工作人员不能直接办理聘任。")
        raise Forbidden("您的角色无权办理聘任。")
    start = _check_start(start)
    if fee_yuan is not None:
        try:
            fee_yuan = int(fee_yuan)
        except (TypeError, ValueError):
            raise DomainError("服务费用应为不小于 0 的整数（元）。", code="invalid_fee") from None
        if fee_yuan < 0:
            raise DomainError("服务费用应为不小于 0 的整数（元）。", code="invalid_fee")
    notice_days = _contract_notice_days(withdrawal_notice_working_days)
    if notice_days is not None and not policy.contract_notice_clause_allowed:
        raise contract_notice_clause_refused(city)

    # B19(2): the cap must hold under concurrency — every appointment of a planner serialises on its row.
    planner_id = getattr(planner, "pk", planner)
    planner = planner_lock(planner_id)
    if planner is None:
        raise NotFound("责任规划师不存在。", code="planner_not_found")

    if unit.dissolved_at is not None:
        raise Conflict(f"责任单元“{unit.name}”已撤销，不能派驻。", code="unit_dissolved")
    role_item = _role_item(policy, role)
    if role_item is None:
        labels = "、".join(item["label"] for item in policy.roles or [])
        raise Conflict(f"派驻角色“{role}”不是{city.name}规定的角色（可选：{labels}）。", code="unknown_role")
    if planner.city_id != city.pk or planner.pool_status != PoolStatus.ACTIVE:
        raise Conflict(
            f"{planner.name}不在{city.name}责任规划师资源库中（须为在库人员），不能派驻。", code="planner_not_in_pool"
        )
    if planner.kind == PlannerKind.TEAM and not policy.teams_allowed:
        raise Conflict(f"{city.name}不以团队形式聘任责任规划师。", code="teams_not_allowed")

    end = term_end(start, policy.first_term_years)
    _settle(planner, unit)
    today = clock.today()
    if Appointment.objects.filter(planner=planner, unit=unit).not_over(today).exists():
        raise Conflict(f"{planner.name}已在责任单元“{unit.name}”任职，同一人员不能在同一责任单元重复派驻。",
                       code="already_in_unit")
    try:
        unit_cap_check(city=city, planner=planner, unit=unit, start=start, end=end)
    except Conflict as refusal:
        if refusal.code != "unit_cap_reached":
            raise
        from rpms.cities.limits import UNIT_CAP
        from rpms.registry import limits

        limits.limit_exceeded(
            actor=actor, city=city, limit=UNIT_CAP, refusal=refusal, waiver=waiver,
            subject_label=f"{planner.name} → {unit.district.name}{unit.name}（{role_item['label']}，{start} 起）",
            value=refusal.details["held"] + 1, limit_value=refusal.details["cap"], shortfall=[refusal.message],
            planner=planner, unit=unit,
        )

    appointment = Appointment(
        city=city, unit=unit, planner=planner, role=role, start=start, end=end,
        status=AppointmentStatus.ACTIVE, term_no=1, party_a=party_a_for(unit)[:300],
        fee_yuan=fee_yuan, fee_note=(fee_note or "").strip(), service_focus=(service_focus or "").strip(),
        source=(source or "")[:50], note=(note or "").strip(), created_by=actor,
        contract_withdrawal_notice_working_days=notice_days,
    )
    full_clean_or_refuse(appointment, validate_constraints=False)
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError:
        raise Conflict(f"{planner.name}已在责任单元“{unit.name}”任职。", code="already_in_unit") from None

    contexts = appointment_documents_context(appointment, years=policy.first_term_years)
    notice = _issue(actor=actor, appointment=appointment, kind=KIND_DISPATCH_NOTICE,
                    title="责任规划师派驻通知", context=contexts[KIND_DISPATCH_NOTICE])
    certificate = _issue(actor=actor, appointment=appointment, kind=KIND_CERTIFICATE,
                         title=f"{appointment.role_label}聘任证书", context=contexts[KIND_CERTIFICATE])
    contract = _issue(actor=actor, appointment=appointment, kind=KIND_CONTRACT,
                      title=f"{appointment.role_label}聘用合同", context=contexts[KIND_CONTRACT])
    term = AppointmentTerm(
        appointment=appointment, term_no=1, kind=TermKind.FIRST, start=start, end=end,
        years=policy.first_term_years, contract_number=contract.number, created_by=actor,
    )
    term.full_clean()
    term.save()
    dossier_event_record(
        planner=planner, kind=DossierEventKind.APPOINTED, article=policy_article(city, "appointment"), actor=actor,
        source=appointment,
        summary=f"派驻{unit.district.name}{unit.name}任{appointment.role_label}，聘期 {start} 至 {end}",
        data={"unit": unit.pk, "role": role, "start": start.isoformat(), "end": end.isoformat(),
              "documents": [notice.number, certificate.number, contract.number]},
    )
    appointment._issued = (notice, certificate, contract)
    if waiver is not None:
        from rpms.registry import limits

        appointment._limit_exceptions = limits.exceptions_performed(waiver=waiver, result=appointment, planner=planner)
    # P6(2): the dispatch notice goes to the local government and to the planner (and the entity).
    appointment_event("appointed", appointment, notice, actor=actor)
    return appointment


def require_direct_appointing(*, actor, unit, replacement: bool = False) -> None:
    """B2, B19(1)(5): where the policy's appointment mode is local selection, the street / town / park
    office and the district select together — the entity proposes, the district officer approves — and
    neither of them, nor the city bureau (which does not hire planners for streets there), appoints
    alone: 403 with the way to do it. Parties outside the unit's scope get 404 as everywhere.
    `replacement`: the same for a replacement (调整补位) of a posting that ended early — the approved
    proposal for the unit and role is recorded as the replacement (proposals.proposal_approve)."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录。")
    unit = _load_unit(getattr(unit, "pk", unit))
    city = unit.city
    if city.policy.appointment_mode != AppointmentMode.LOCAL_SELECTION:
        return
    if not (actor.is_superuser or actor.city_id == city.pk):
        raise NotFound()
    # Another district's officer or another street's office does not learn of the unit's affairs.
    if (actor.role == Role.DISTRICT_OFFICER and not permissions.is_district_officer_of(actor, unit.district_id)) or (
        actor.role == Role.HIRING_ENTITY and not permissions.is_hiring_entity_of(actor, unit)
    ):
        raise NotFound()
    article = policy_article(city, "selection")
    raise Forbidden(
        f"{city.name}的责任规划师由聘任主体（街道办事处、镇（乡）人民政府、园区管委会）会同区规划自然资源主管部门选聘"
        f"（{article}），任何一方都不能单独办理聘任：请由聘任主体提出选聘提名，经{unit.district.name}责任规划师工作专班审核同意后聘任。"
        + ("补位人员同样如此：审核同意的该责任单元同一角色的提名即登记为补位。" if replacement else ""),
        code="local_selection_required",
    )


def require_replacement_appointer(*, actor, leaving: Appointment) -> None:
    """Who may appoint the replacement (调整补位, P6(5)) of `leaving` (a posting that a withdrawal or a
    removal ends) alone: whoever may appoint in its unit (`permissions.can_appoint`). In a local-selection
    city nobody (B2, B19(1)(5)): the appointing body there is the entity and the district together, so
    the unit's entity, its district's officers and the city get 403 `local_selection_required` pointing to
    the proposal, whose approval records the replacement. Outside the unit's scope: 404."""
    unit = leaving.unit
    appoints = permissions.can_appoint(actor, unit)
    if not appoints and not permissions.can_view(actor, leaving):
        raise NotFound()
    if appoints or permissions.is_hiring_entity_of(actor, unit):
        require_direct_appointing(actor=actor, unit=unit, replacement=True)
    if not appoints:
        raise Forbidden("只有有权办理聘任的人员可以调整补位。")


def limit_exceptions_used(appointment: Appointment) -> list:
    """The exceptions (rpms.registry.limits) the act that just made `appointment` proceeded under."""
    return list(getattr(appointment, "_limit_exceptions", None) or [])


@transaction.atomic
def appointment_create(*, actor, planner, unit, role, start, fee_yuan=None, fee_note="", service_focus="",
                       source="", note="", withdrawal_notice_working_days=None, exception_reason: str = "",
                       _granted=None):
    """Appoints a planner (or team) to a unit in a role (B19, P6(2)–(3)).

    Refused with Conflict (409): planner not active in the city's pool; already serving the unit;
    the planner's units would exceed the policy's cap (B19(2)); unit dissolved; unknown role; a
    contract withdrawal-notice clause (`withdrawal_notice_working_days`) where the policy allows none.
    Issues the dispatch notice, the certificate and the contract; dossier APPOINTED; one audit row.
    In a local-selection city nobody appoints directly (403): the entity proposes, the district approves
    (rpms.appointments.proposals).

    Over an in-principle cap, `exception_reason` makes the city administrator's act an approved exception
    (rpms.registry.limits); anyone else's waits as a pending request, which is returned instead of an
    Appointment. A strict cap refuses even with a reason (409 limit_strict)."""
    from rpms.registry import limits

    require_direct_appointing(actor=actor, unit=unit)
    waiver = limits.Waiver(
        act=limits.ExceptionAct.APPOINTMENT_CREATE, subject=limits.ExceptionSubject.APPOINTMENT,
        reason=exception_reason, granted=_granted,
        payload={"planner": getattr(planner, "pk", planner), "unit": getattr(unit, "pk", unit), "role": role,
                 "start": str(start), "fee_yuan": fee_yuan, "fee_note": fee_note, "service_focus": service_focus,
                 "source": source, "note": note, "withdrawal_notice_working_days": withdrawal_notice_working_days},
    )
    try:
        appointment = _appointment_create(
            actor=actor, planner=planner, unit=unit, role=role, start=start, fee_yuan=fee_yuan, fee_note=fee_note,
            service_focus=service_focus, source=source, note=note,
            withdrawal_notice_working_days=withdrawal_notice_working_days, waiver=waiver,
        )
    except limits.ExceptionRequested as requested:
        return requested.exception
    city = appointment.city
    used = limit_exceptions_used(appointment)
    audit_log(
        actor=actor, action="appointments.appointment_create", obj=appointment,
        after={**snapshot(appointment), **({"limit_exceptions": [e.pk for e in used]} if used else {})},
        article=_article_text(policy_article(city, "appointment"), *[e.article for e in used]),
        summary=f"聘任{appointment.planner.name}为{appointment.unit.name}{appointment.role_label}"
                + ("（经批准超出原则性上限）" if used else ""),
    )
    return appointment


# --- filing and disclosure ------------------------------------------------------------------------


@transaction.atomic
def appointment_file(*, actor, appointment: Appointment) -> Appointment:
    """B19(3): the signed contract the hiring entity submitted (rpms.appointments.signing) is filed with
    the district's work team; once filed it is disclosed (B19(7)). Without a submitted signed contract →
    409 `contract_not_submitted`; where the policy names no filing body (P6(3)) → 409 `no_filing_body`
    (the bureau's own submission filed it)."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment) and not permissions.can_file(actor, appointment):
        raise NotFound()
    if not permissions.can_file(actor, appointment):
        raise Forbidden("只有责任单元所在区的工作专班或市级管理员可以办理合同备案。")
    if appointment.is_filed:
        raise Conflict(f"该聘用合同已于 {timezone.localtime(appointment.filed_at):%Y-%m-%d} 备案。", code="already_filed")
    state = appointment.state()
    if state in (AppointmentStatus.ENDED, AppointmentStatus.TERMINATED, AppointmentStatus.WITHDRAWN):
        raise Conflict(f"该聘任已{appointment.state_label()}，不能备案。", code="appointment_over")
    before = snapshot(appointment, ["filed_at", "filed_by", "disclosed", "contract_state"])
    # B19(3): what is filed is the signed contract the entity submitted (409 without one).
    from .signing import file_submitted_contract

    signed = file_submitted_contract(actor=actor, appointment=appointment)
    appointment.filed_at = clock.now()
    appointment.filed_by = actor
    appointment.disclosed = True
    appointment.save(update_fields=["filed_at", "filed_by", "disclosed", "contract_state", "updated_at"])
    city = appointment.city
    article = _article_text(policy_article(city, "filing"), policy_article(city, "disclosure"))
    dossier_event_record(
        planner=appointment.planner, kind=DossierEventKind.CONTRACT_FILED, article=article, actor=actor,
        source=appointment, summary=f"{appointment.unit.name}{appointment.role_label}聘用合同报{filing_body_for(appointment.unit)}备案并公开",
    )
    audit_log(
        actor=actor, action="appointments.appointment_file", obj=appointment, before=before,
        after={**snapshot(appointment, ["filed_at", "filed_by", "disclosed", "contract_state"]),
               "signed_contract": signed.pk}, article=article,
        summary=f"聘用合同备案并公开：{appointment.planner.name} · {appointment.unit.name}",
    )
    return appointment


@transaction.atomic
def appointment_disclosure_set(*, actor, appointment: Appointment, disclosed: bool, reason: str) -> Appointment:
    """Takes a filed appointment off the public site (e.g. while a correction is made) or puts it back
    (B19(7)). City administrators only; the reason is recorded."""
    appointment = _lock_appointment(appointment)
    if not permissions.is_city_admin_of(actor, appointment.city_id):
        if permissions.can_view(actor, appointment):
            raise Forbidden("只有市级管理员可以调整公开状态。")
        raise NotFound()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明调整公开状态的理由。", code="reason_required")
    if disclosed and not appointment.is_filed:
        raise Conflict("聘用合同尚未备案，不能公开。", code="not_filed")
    if appointment.disclosed == bool(disclosed):
        raise Conflict("公开状态没有变化。", code="no_change")
    before = {"disclosed": appointment.disclosed}
    appointment.disclosed = bool(disclosed)
    appointment.save(update_fields=["disclosed", "updated_at"])
    audit_log(
        actor=actor, action="appointments.appointment_disclosure_set", obj=appointment, before=before,
        after={"disclosed": appointment.disclosed, "reason": reason},
        article=policy_article(appointment.city, "disclosure"),
        summary=("恢复公开" if disclosed else "暂停公开") + f"：{appointment.planner.name} · {appointment.unit.name}",
    )
    return appointment


# --- renewal ----------------------------------------------------------------------------------------


def renewal_window(appointment: Appointment) -> tuple[dt.date, dt.date]:
    """Renewal is handled from `contract_expiry_warning_days` before the term's end up to its last day."""
    days = appointment.city.policy.contract_expiry_warning_days
    return appointment.end - dt.timedelta(days=days), appointment.end


def current_term(appointment: Appointment) -> tuple[dt.date, dt.date]:
    """The current term's first and last day (its AppointmentTerm row; the whole appointment without one)."""
    term = (appointment.terms.filter(term_no=appointment.term_no).first()
            or appointment.terms.order_by("-start", "-term_no").first())
    return (term.start, appointment.end) if term is not None else (appointment.start, appointment.end)


def _require_term_review(appointment: Appointment, *, article: str) -> None:
    """P6(4) 聘期届满前……综合评议: where the policy requires a review for renewal, the current term's review
    must have been opened and graded (its grade is then applied by the grade checks). The reviews are
    answered by the TERM_REVIEWS hook (rpms.assessments); none answered means none held."""
    start, end = current_term(appointment)
    reviews = [r for answer in hooks.run(hooks.TERM_REVIEWS, appointment=appointment, start=start, end=end)
               for r in (answer or [])]
    term = f"本聘期（{start} 至 {end}）"
    pending = [r for r in reviews if r["status"] != "graded"]
    if pending:
        first = pending[0]
        raise Conflict(
            f"{term}的考核评议（{first['period_start']} 至 {first['period_end']}）已启动但尚未评定等次，"
            f"评定后方可办理续聘（{article}）。",
            code="renewal_review_pending",
        )
    if not reviews:
        raise Conflict(
            f"按{appointment.city.name}的规定，聘期届满前须对责任规划师开展综合评议，评议合格方可续聘（{article}）；"
            f"{term}尚无已评定的考核评议结果，不能续聘。请先启动并完成本聘期的考核评议。",
            code="renewal_review_missing",
        )


@transaction.atomic
def appointment_renew(*, actor, appointment: Appointment, years) -> Appointment:
    """B19(2) / P6(4): a new term of `years` (policy renewal_years_min..max) starting the day after the
    current term; refused when the latest assessment grade's policy says renewal is refused, and, where
    the policy requires a review for renewal (`renewal_requires_review`), until the current term's review
    is graded (409 renewal_review_missing / renewal_review_pending). A new
    contract (and certificate) supersedes the old; the term history is kept."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_renew(actor, appointment):
        if permissions.can_view(actor, appointment):
            raise Forbidden("只有聘任主体（合同甲方）或市级管理员可以办理续聘。")
        raise NotFound()
    city = appointment.city
    policy = city.policy
    article = policy_article(city, "renewal")
    try:
        years = int(years)
    except (TypeError, ValueError):
        years = None
    low, high = policy.renewal_years_min, policy.renewal_years_max
    allowed = f"{low} 年" if low == high else f"{low} 至 {high} 年"
    if years is None or not low <= years <= high:
        raise DomainError(f"续聘期限应为 {allowed}（{article}）。", code="renewal_years_out_of_range",
                          details={"min": low, "max": high})
    state = appointment.state()
    if appointment.status != AppointmentStatus.ACTIVE or appointment.ended_on is not None:
        raise Conflict(f"该聘任已{appointment.state_label()}或正在办理退出，不能续聘。", code="appointment_over")
    if appointment.termination_requests.filter(status=TerminationStatus.PENDING).exists():
        raise Conflict("该聘任有待处理的解除申请，不能续聘。", code="termination_pending")
    today = clock.today()
    opens, closes = renewal_window(appointment)
    if state == AppointmentStatus.ENDED or today > closes:
        raise Conflict(f"聘期已于 {appointment.end} 届满，不能续聘；如需继续服务请重新办理聘任。", code="renewal_too_late")
    if today < opens:
        raise Conflict(
            f"尚未进入续聘办理期：聘期届满前 {policy.contract_expiry_warning_days} 天内（{opens} 起）方可办理续聘。",
            code="renewal_too_early", details={"opens": opens.isoformat(), "closes": closes.isoformat()},
        )
    grade = latest_grade(appointment)
    if grade is not None:
        item = policy.grade(grade) or {}
        if item.get("renewal") == "refused":
            raise Conflict(
                f"最近一次考核评议结果为“{item.get('label', grade)}”，按规定不予续聘（{item.get('article') or article}）。",
                code="renewal_refused_by_grade",
            )
    # B20: the hiring entity may make the assessment result a condition of renewal (grade "entity_decides").
    refusal = renewal_refusal(appointment)
    if refusal:
        raise Conflict(refusal, code="renewal_refused_by_grade")
    if policy.renewal_requires_review:
        _require_term_review(appointment, article=article)
    if appointment.planner.pool_status != PoolStatus.ACTIVE:
        raise Conflict(f"{appointment.planner.name}已不在资源库中，不能续聘。", code="planner_not_in_pool")

    before = snapshot(appointment, ["end", "term_no"])
    new_start = appointment.end + dt.timedelta(days=1)
    new_end = term_end(new_start, years)
    appointment.end = new_end
    appointment.term_no += 1
    appointment.save(update_fields=["end", "term_no", "updated_at"])
    appointment._current_term = (new_start, new_end)
    contexts = appointment_documents_context(appointment, years=years)
    old_contract = _current_document(appointment, KIND_CONTRACT)
    contract = _issue(actor=actor, appointment=appointment, kind=KIND_CONTRACT,
                      title=f"{appointment.role_label}续聘合同（第 {appointment.term_no} 聘期）",
                      context=contexts[KIND_CONTRACT], supersedes=old_contract)
    old_certificate = _current_document(appointment, KIND_CERTIFICATE)
    _issue(actor=actor, appointment=appointment, kind=KIND_CERTIFICATE, title=f"{appointment.role_label}聘任证书",
           context=contexts[KIND_CERTIFICATE], supersedes=old_certificate)
    from rpms.documents.services import documents_subject_extended

    documents_subject_extended(subject=appointment, valid_until=new_end)  # the dispatch notice stands
    term = AppointmentTerm(
        appointment=appointment, term_no=appointment.term_no, kind=TermKind.RENEWAL, start=new_start, end=new_end,
        years=years, contract_number=contract.number, created_by=actor,
    )
    term.full_clean()
    term.save()
    dossier_event_record(
        planner=appointment.planner, kind=DossierEventKind.RENEWED, article=article, actor=actor, source=appointment,
        summary=f"续聘{appointment.unit.name}{appointment.role_label} {years} 年，{new_start} 至 {new_end}",
        data={"years": years, "start": new_start.isoformat(), "end": new_end.isoformat(), "contract": contract.number},
    )
    audit_log(
        actor=actor, action="appointments.appointment_renew", obj=appointment, before=before,
        after={**snapshot(appointment, ["end", "term_no"]), "years": years, "contract": contract.number},
        article=article, summary=f"续聘 {years} 年：{appointment.planner.name} · {appointment.unit.name}",
    )
    return appointment


# --- the contract's own withdrawal notice (B25 "除合同另有约定外") --------------------------------------


@transaction.atomic
def appointment_withdrawal_notice_set(*, actor, appointment: Appointment, working_days) -> Appointment:
    """The contract signer records the contract's own withdrawal notice (working days; None removes
    it), only where the policy allows such a clause. The planner may then leave on that notice
    (withdrawal_request). A contract reissued with the clause supersedes the current one."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    if not permissions.is_contract_signer(actor, appointment):
        raise Forbidden("只有聘任主体（合同甲方）可以约定退出提前期。")
    city = appointment.city
    if not city.policy.contract_notice_clause_allowed:
        raise contract_notice_clause_refused(city)
    _require_not_over(appointment)
    if appointment.withdrawals.exists():
        raise Conflict("责任规划师已提交退出申请，不能再变更退出提前期的约定。", code="withdrawal_exists")
    _require_no_ending(appointment)
    days = _contract_notice_days(working_days)
    if days == appointment.contract_withdrawal_notice_working_days:
        raise Conflict("退出提前期的约定没有变化。", code="no_change")
    before = snapshot(appointment, ["contract_withdrawal_notice_working_days"])
    appointment.contract_withdrawal_notice_working_days = days
    full_clean_or_refuse(appointment, validate_constraints=False)
    appointment.save(update_fields=["contract_withdrawal_notice_working_days", "updated_at"])
    term = appointment.terms.order_by("-term_no").first()
    if term is not None:
        appointment._current_term = (term.start, term.end)
    years = term.years if term is not None else city.policy.first_term_years
    contexts = appointment_documents_context(appointment, years=years)
    contract = _issue(actor=actor, appointment=appointment, kind=KIND_CONTRACT,
                      title=f"{appointment.role_label}聘用合同（补充约定退出提前期）", context=contexts[KIND_CONTRACT],
                      supersedes=_current_document(appointment, KIND_CONTRACT))
    if term is not None:
        term.contract_number = contract.number
        term.save(update_fields=["contract_number"])
    article = policy_article(city, "withdrawal")
    agreed = f"提前 {days} 个工作日书面申请退出" if days is not None else "不另行约定（按本市规定）"
    dossier_event_record(
        planner=appointment.planner, kind=DossierEventKind.CONTRACT_AMENDED, article=article, actor=actor,
        source=appointment, summary=f"{appointment.unit.name}{appointment.role_label}聘用合同约定退出提前期：{agreed}",
        data={"working_days": days, "contract": contract.number},
    )
    audit_log(
        actor=actor, action="appointments.withdrawal_notice_set", obj=appointment, before=before,
        after={"contract_withdrawal_notice_working_days": days, "contract": contract.number}, article=article,
        summary=f"聘用合同约定退出提前期（{agreed}）：{appointment.planner.name} · {appointment.unit.name}",
    )
    return appointment


# --- termination (B25, P6(5)) --------------------------------------------------------------------------------


def _require_not_over(appointment: Appointment) -> None:
    if appointment.status != AppointmentStatus.ACTIVE or appointment.state() in OVER_STATUSES:
        raise Conflict(f"该聘任已{appointment.state_label()}。", code="appointment_over")


def appointment_end_record(*, actor, appointment: Appointment, last_day: dt.date, kind: str, reason: str) -> None:
    """The one place an appointment is ended early (termination, withdrawal, removal): its last day of
    service, how and why. A last day before tomorrow settles the stored status at once (the appointment
    stops counting now: coverage, cap, public pages); a later one is computed from the date
    (`Appointment.state`). Callers hold the appointment's row lock and write the audit row."""
    kind = EndKind(kind)
    if appointment.ended_on is not None:
        last_day = min(last_day, appointment.ended_on)
    last_day = max(last_day, appointment.start - dt.timedelta(days=1))
    appointment.ended_on = last_day
    appointment.end_kind = kind
    appointment.end_reason = (reason or "").strip()
    # Over now when its last day has come, or when it ends before it began (an upcoming posting).
    if (last_day <= clock.today() or last_day < appointment.start) and appointment.status != END_KIND_STATUS[kind]:
        appointment.move_to(END_KIND_STATUS[kind])
    appointment.save(update_fields=["status", "ended_on", "end_kind", "end_reason", "updated_at"])
    # Its documents follow: the certificate, contract and dispatch notice verify as ended from that day.
    from rpms.documents.services import documents_subject_ended

    documents_subject_ended(subject=appointment, ended_on=last_day, ending=kind.value, ending_label=kind.label)


def appointment_event(event: str, appointment: Appointment, record=None, *, actor=None) -> None:
    """Tells the parties of an appointment what just happened (P6(2), B25, P6(5), P5(4)): runs the
    APPOINTMENT_EVENT hook inside the act's transaction; rpms.notifications puts one inbox item per party
    (deduplicated per event and record, so an act is announced once) and e-mails after commit."""
    from rpms.core import hooks

    hooks.run(hooks.APPOINTMENT_EVENT, event=event, appointment=appointment, record=record, actor=actor)


def _exit_notify(event: str, appointment: Appointment, record) -> None:
    """event: termination_requested | termination_consented | termination_refused | termination_withdrawn |
    termination_decided (entity, evidence attached) | termination_evidence | termination_statement |
    withdrawal_requested. `record` is the TerminationRequest or the Withdrawal."""
    appointment_event(event, appointment, record)


TERMINATION_EVIDENCE_FOLDER = "terminations"
TERMINATION_EVIDENCE_MAX_FILES = 20


def _require_no_ending(appointment: Appointment) -> None:
    """An appointment whose early end is already decided (a consented termination, a withdrawal, a
    removal) takes no new termination."""
    if appointment.ended_on is not None:
        raise Conflict(
            f"该聘任已确定于 {appointment.ended_on.isoformat()} 结束（{appointment.ending_label}），不能再办理解除或退出。",
            code="appointment_ending",
        )


def _effective_date(value, *, appointment: Appointment, required: bool) -> dt.date:
    """B25: the contract ends from the effective date (its last day), today or later, within the term."""
    if value in (None, ""):
        if required:
            raise DomainError("请填写解除生效日期（今天或以后，YYYY-MM-DD）。", code="effective_date_required")
        return clock.today()
    day = _parse_date(value, "解除生效日期")
    today = clock.today()
    if day < today:
        raise DomainError(
            f"解除生效日期 {day.isoformat()} 早于今天（{today.isoformat()}）：解除只能自今天或以后生效，不能追溯。",
            code="effective_date_past",
        )
    if day > appointment.end:
        raise DomainError(
            f"解除生效日期 {day.isoformat()} 晚于本聘期结束日（{appointment.end.isoformat()}）：聘期届满即自然终止，无需解除。",
            code="effective_date_after_end",
        )
    return day


def _pending_request(appointment: Appointment, *, initiator: str | None = None) -> TerminationRequest | None:
    queryset = TerminationRequest.objects.select_for_update().filter(
        appointment=appointment, status=TerminationStatus.PENDING
    )
    if initiator is not None:
        queryset = queryset.filter(initiator=initiator)
    return queryset.first()


def _request_json(request: TerminationRequest) -> dict:
    return {"request": request.pk, "initiator": request.initiator, "status": request.status,
            "effective_on": request.effective_on.isoformat() if request.effective_on else None}


def _evidence_store(files) -> list:
    """Checks every file by content before writing any (PDF, JPEG, PNG), then stores them; a refusal
    leaves nothing behind."""
    from rpms.core.uploads import proof_check, proof_delete, proof_store

    files = [f for f in files or [] if f is not None]
    if len(files) > TERMINATION_EVIDENCE_MAX_FILES:
        raise DomainError(f"一次最多上传 {TERMINATION_EVIDENCE_MAX_FILES} 份证据材料。", code="too_many_files")
    for upload in files:
        proof_check(upload)
    stored = []
    try:
        for upload in files:
            stored.append(proof_store(upload, folder=TERMINATION_EVIDENCE_FOLDER))
    except BaseException:
        for item in stored:
            proof_delete(item.path)
        raise
    return stored


def _evidence_rows(request: TerminationRequest, stored, *, actor) -> list[TerminationEvidence]:
    rows = []
    for item in stored:
        row = TerminationEvidence(
            request=request, path=item.path, original_name=item.original_name[:200], kind=item.kind, size=item.size,
            sha256=item.sha256, uploaded_by=actor, uploaded_at=clock.now(),
        )
        full_clean_or_refuse(row, validate_constraints=False)
        row.save()
        rows.append(row)
    return rows


def _with_evidence(files, body):
    """Stores the evidence files, then runs body(stored) in a savepoint; if body raises, the files go."""
    from rpms.core.uploads import proof_delete

    stored = _evidence_store(files)
    try:
        with transaction.atomic():
            return body(stored)
    except BaseException:
        for item in stored:
            proof_delete(item.path)
        raise


def _termination_decide(*, actor, appointment: Appointment, request: TerminationRequest, effective_on: dt.date) -> None:
    """The decision that ends the contract (the entity's consent, or its termination for a breach once
    its evidence is attached): the appointment ends on `effective_on` through appointment_end_record;
    effective at once when that day is today, otherwise consented until the date is reached (the
    appointment runs on until then). The planner's dossier records it."""
    if not request.can_become(TerminationStatus.CONSENTED):
        raise Conflict(f"该解除申请{request.state_label()}，不能再办理。", code="termination_not_pending")
    _require_no_ending(appointment)  # e.g. a removal from the pool already fixed its last day
    today = clock.today()
    request.move_to(TerminationStatus.EFFECTIVE if effective_on <= today else TerminationStatus.CONSENTED)
    request.effective_on = effective_on
    request.consented_at = clock.now()
    request.consented_by = actor
    full_clean_or_refuse(request, validate_constraints=False)
    request.save()
    appointment_end_record(actor=actor, appointment=appointment, last_day=effective_on, kind=EndKind.TERMINATION,
                           reason=request.reason)
    how = (f"聘任主体以责任规划师违反“{request.breach_label}”为由依约解除" if request.initiator == TerminationInitiator.ENTITY
           else "经聘任主体同意解除")
    dossier_event_record(
        planner=appointment.planner, kind=DossierEventKind.TERMINATED,
        article=policy_article(appointment.city, "termination"), actor=actor, source=appointment,
        summary=f"{appointment.unit.name}{appointment.role_label}聘用合同{how}，{effective_on.isoformat()} 解除",
        data={"initiator": request.initiator, "breach": request.breach, "reason": request.reason,
              "effective_on": effective_on.isoformat(), "request": request.pk},
    )


def _entity_breach_clause(city, breach: str, article: str) -> dict:
    """B25: the clause the entity names must be one of the contract's clauses binding the planner."""
    policy = city.policy
    allowed = policy.clauses_binding_planner()
    choices = "、".join(f"“{c['label']}”" for c in allowed)
    details = {"clauses": [c["code"] for c in allowed]}
    if not breach:
        raise DomainError(
            f"{ENTITY_TERMINATION_REFUSED}（{article}）。请选择责任规划师违反的合同条款（可选：{choices}）。",
            code="breach_required", details=details,
        )
    clause = policy.contract_clause(breach)
    if clause is None:
        raise DomainError(
            f"“{breach}”不是聘用合同中的条款：{ENTITY_TERMINATION_REFUSED}（{article}）。可选：{choices}。",
            code="breach_not_in_contract", details=details,
        )
    if clause not in allowed:
        raise DomainError(
            f"“{clause['label']}”是约束聘任主体（甲方）自身的条款，不能作为解除理由：聘任主体只能在责任规划师未按合同约定"
            f"履行责任义务时依约解除，{ENTITY_TERMINATION_REFUSED}（{article}）。可选：{choices}。",
            code="breach_binds_entity", details=details,
        )
    return clause


@transaction.atomic
def termination_request(*, actor, appointment: Appointment, initiator: str, reason: str = "", breach: str = "",
                        facts: str = "", effective_date=None, evidence=()) -> TerminationRequest:
    """B25. initiator "planner": the planner's written request (`reason`), pending until the hiring
    entity consents or refuses; the planner may withdraw it while pending.

    initiator "entity": the hiring entity (contract signer) ends the contract because the planner
    failed a duty of a clause binding the planner (`breach`; a clause binding only the entity, such as
    its own payment, is never a ground), stating the `facts` (`reason` is read as the facts when `facts`
    is empty) and the `effective_date` (today or later). It takes effect only with evidence: the files
    given here (`evidence`, PDF/JPEG/PNG), or a first file uploaded later with
    termination_evidence_add on or before the effective date; until then it stays pending and the
    appointment runs on."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    city = appointment.city
    article = policy_article(city, "termination")
    if initiator not in TerminationInitiator.values:
        raise DomainError("请选择解除的提出方：责任规划师申请（planner）或聘任主体解除（entity）。", code="invalid_initiator")
    if initiator == TerminationInitiator.PLANNER:
        if not permissions.is_planner_of(actor, appointment):
            raise Forbidden("只有责任规划师本人可以书面申请解除聘用合同。")
    elif not permissions.is_contract_signer(actor, appointment):
        raise Forbidden("只有聘任主体（合同甲方）可以解除聘用合同。")
    _require_not_over(appointment)
    if appointment.termination_requests.filter(status=TerminationStatus.PENDING).exists():
        raise Conflict("已有待处理的解除申请，请先办理或撤回。", code="termination_pending")
    _require_no_ending(appointment)
    before = snapshot(appointment, ["status", "ended_on", "end_kind"])
    now = clock.now()

    if initiator == TerminationInitiator.PLANNER:
        reason = (reason or "").strip()
        if not reason:
            raise DomainError("请写明解除聘用合同的理由（书面申请）。", code="reason_required")
        request = TerminationRequest(appointment=appointment, initiator=initiator, reason=reason, requested_by=actor,
                                     requested_at=now, status=TerminationStatus.PENDING)
        full_clean_or_refuse(request, validate_constraints=False)
        request.save()
        dossier_event_record(
            planner=appointment.planner, kind=DossierEventKind.TERMINATION_REQUESTED, article=article, actor=actor,
            source=appointment, summary=f"书面申请解除{appointment.unit.name}{appointment.role_label}聘用合同，待聘任主体同意",
            data={"reason": reason, "request": request.pk},
        )
        audit_log(
            actor=actor, action="appointments.termination_request", obj=appointment, before=before,
            after={**_request_json(request), "reason": reason}, article=article,
            summary=f"责任规划师申请解除聘用合同：{appointment.planner.name} · {appointment.unit.name}",
        )
        _exit_notify("termination_requested", appointment, request)
        return request

    clause = _entity_breach_clause(city, (breach or "").strip(), article)
    facts = (facts or reason or "").strip()
    if not facts:
        raise DomainError("请写明责任规划师未履行该条款约定义务的事实。", code="facts_required")
    effective_on = _effective_date(effective_date, appointment=appointment, required=True)

    def body(stored):
        request = TerminationRequest(
            appointment=appointment, initiator=initiator, reason=facts, breach=clause["code"],
            breach_label=clause["label"][:100], requested_by=actor, requested_at=now, status=TerminationStatus.PENDING,
            effective_on=effective_on,
        )
        full_clean_or_refuse(request, validate_constraints=False)
        request.save()
        rows = _evidence_rows(request, stored, actor=actor)
        if rows:
            _termination_decide(actor=actor, appointment=appointment, request=request, effective_on=effective_on)
        else:
            dossier_event_record(
                planner=appointment.planner, kind=DossierEventKind.TERMINATION_REQUESTED, article=article, actor=actor,
                source=appointment,
                summary=f"聘任主体拟以违反“{clause['label']}”为由解除{appointment.unit.name}{appointment.role_label}聘用合同，"
                        f"待上传证据材料",
                data={"breach": clause["code"], "facts": facts, "effective_on": effective_on.isoformat(),
                      "request": request.pk},
            )
        audit_log(
            actor=actor, action="appointments.termination_by_entity", obj=appointment, before=before,
            after={**snapshot(appointment, ["status", "ended_on", "end_kind"]), **_request_json(request),
                   "breach": clause["code"], "binds": clause.get("binds"), "facts": facts,
                   "evidence": [{"name": r.original_name, "sha256": r.sha256} for r in rows]},
            article=article,
            summary=f"聘任主体依约解除聘用合同（违反“{clause['label']}”，{effective_on.isoformat()} 解除"
                    f"{'' if rows else '，待上传证据材料'}）：{appointment.planner.name} · {appointment.unit.name}",
        )
        _exit_notify("termination_decided" if rows else "termination_requested", appointment, request)
        return request

    return _with_evidence(evidence, body)


@transaction.atomic
def termination_evidence_add(*, actor, appointment: Appointment, file) -> TerminationEvidence:
    """B25: evidence of the planner's breach, attached by the hiring entity to its termination. The first
    file of a pending termination completes the decision (the appointment then ends on the stated
    effective date, which must not have passed); further files may be added until the effective date."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    if not permissions.is_contract_signer(actor, appointment):
        raise Forbidden("只有聘任主体（合同甲方）可以上传解除证据材料。")
    if file is None:
        raise DomainError("请选择要上传的证据材料（PDF、JPEG 或 PNG）。", code="upload_missing")
    request = (
        TerminationRequest.objects.select_for_update()
        .filter(appointment=appointment, initiator=TerminationInitiator.ENTITY,
                status__in=[TerminationStatus.PENDING, TerminationStatus.CONSENTED])
        .order_by("-requested_at", "-id").first()
    )
    if request is None:
        raise Conflict("没有待生效的聘任主体解除决定，无需上传证据材料。", code="no_entity_termination")
    today = clock.today()
    if request.status == TerminationStatus.PENDING:
        _require_not_over(appointment)
        if request.effective_on < today:
            raise Conflict(
                f"解除生效日期 {request.effective_on.isoformat()} 已过而未上传证据材料，该解除未生效；请撤回后重新办理。",
                code="effective_date_passed",
            )
    elif request.state(today) == TerminationStatus.EFFECTIVE:
        raise Conflict(f"解除已于 {request.effective_on.isoformat()} 生效，不能再补充证据材料。", code="termination_effective")
    article = policy_article(appointment.city, "termination")
    before = snapshot(appointment, ["status", "ended_on", "end_kind"])
    decides = request.status == TerminationStatus.PENDING

    def body(stored):
        [row] = _evidence_rows(request, stored, actor=actor)
        if decides:
            _termination_decide(actor=actor, appointment=appointment, request=request, effective_on=request.effective_on)
        else:
            dossier_event_record(
                planner=appointment.planner, kind=DossierEventKind.TERMINATION_EVIDENCE, article=article, actor=actor,
                source=appointment, summary=f"聘任主体补充解除证据材料：{row.original_name}",
                data={"request": request.pk, "sha256": row.sha256},
            )
        audit_log(
            actor=actor, action="appointments.termination_evidence_add", obj=appointment, before=before,
            after={**snapshot(appointment, ["status", "ended_on", "end_kind"]), **_request_json(request),
                   "evidence": {"id": row.pk, "name": row.original_name, "sha256": row.sha256}},
            article=article,
            summary=f"上传解除证据材料（{row.original_name}）{'，解除决定生效日期 ' + request.effective_on.isoformat() if decides else ''}："
                    f"{appointment.planner.name} · {appointment.unit.name}",
        )
        _exit_notify("termination_decided" if decides else "termination_evidence", appointment, request)
        return row

    return _with_evidence([file], body)


@transaction.atomic
def termination_consent(*, actor, appointment: Appointment, effective_date=None) -> TerminationRequest:
    """B25: the hiring entity consents to the planner's written request, from `effective_date` (today
    or later; default today). Effective today: the appointment ends at once; later: it runs until then."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    if not permissions.is_contract_signer(actor, appointment):
        raise Forbidden("只有聘任主体（合同甲方）可以同意解除聘用合同。")
    request = _pending_request(appointment, initiator=TerminationInitiator.PLANNER)
    if request is None:
        raise Conflict("没有待同意的解除申请。", code="no_pending_termination")
    _require_not_over(appointment)
    effective_on = _effective_date(effective_date, appointment=appointment, required=False)
    before = snapshot(appointment, ["status", "ended_on", "end_kind"])
    _termination_decide(actor=actor, appointment=appointment, request=request, effective_on=effective_on)
    audit_log(
        actor=actor, action="appointments.termination_consent", obj=appointment, before=before,
        after={**snapshot(appointment, ["status", "ended_on", "end_kind"]), **_request_json(request)},
        article=policy_article(appointment.city, "termination"),
        summary=f"聘任主体同意解除聘用合同，{effective_on.isoformat()} 解除：{appointment.planner.name} · {appointment.unit.name}",
    )
    _exit_notify("termination_consented", appointment, request)
    return request


@transaction.atomic
def termination_refuse(*, actor, appointment: Appointment, reason: str) -> TerminationRequest:
    """B25: the hiring entity does not consent to the planner's request, giving its reason; the contract
    runs on."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    if not permissions.is_contract_signer(actor, appointment):
        raise Forbidden("只有聘任主体（合同甲方）可以答复解除申请。")
    request = _pending_request(appointment, initiator=TerminationInitiator.PLANNER)
    if request is None:
        raise Conflict("没有待答复的解除申请。", code="no_pending_termination")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明不同意解除的理由。", code="reason_required")
    article = policy_article(appointment.city, "termination")
    request.move_to(TerminationStatus.REFUSED)
    request.refused_at = clock.now()
    request.refused_by = actor
    request.refusal_reason = reason
    full_clean_or_refuse(request, validate_constraints=False)
    request.save()
    dossier_event_record(
        planner=appointment.planner, kind=DossierEventKind.TERMINATION_REFUSED, article=article, actor=actor,
        source=appointment, summary=f"聘任主体不同意解除{appointment.unit.name}{appointment.role_label}聘用合同：{reason}",
        data={"request": request.pk, "reason": reason},
    )
    audit_log(
        actor=actor, action="appointments.termination_refuse", obj=appointment,
        before={"request": request.pk, "status": TerminationStatus.PENDING},
        after={**_request_json(request), "reason": reason}, article=article,
        summary=f"聘任主体不同意解除聘用合同：{appointment.planner.name} · {appointment.unit.name}",
    )
    _exit_notify("termination_refused", appointment, request)
    return request


@transaction.atomic
def termination_withdraw(*, actor, appointment: Appointment) -> TerminationRequest:
    """Withdraws a pending termination: the planner its own request; the hiring entity its termination
    still waiting for evidence. The contract runs on."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    request = _pending_request(appointment)
    if request is None:
        raise Conflict("没有可撤回的待处理解除申请。", code="no_pending_termination")
    if request.initiator == TerminationInitiator.PLANNER:
        if not permissions.is_planner_of(actor, appointment):
            raise Forbidden("只有提出申请的责任规划师本人可以撤回解除申请。")
    elif not permissions.is_contract_signer(actor, appointment):
        raise Forbidden("只有聘任主体（合同甲方）可以撤回其解除决定。")
    article = policy_article(appointment.city, "termination")
    request.move_to(TerminationStatus.WITHDRAWN)
    request.withdrawn_at = clock.now()
    full_clean_or_refuse(request, validate_constraints=False)
    request.save()
    who = "责任规划师撤回解除申请" if request.initiator == TerminationInitiator.PLANNER else "聘任主体撤回解除决定"
    dossier_event_record(
        planner=appointment.planner, kind=DossierEventKind.TERMINATION_WITHDRAWN, article=article, actor=actor,
        source=appointment, summary=f"{who}（{appointment.unit.name}{appointment.role_label}）",
        data={"request": request.pk},
    )
    audit_log(
        actor=actor, action="appointments.termination_withdraw", obj=appointment,
        before={"request": request.pk, "status": TerminationStatus.PENDING}, after=_request_json(request),
        article=article, summary=f"{who}：{appointment.planner.name} · {appointment.unit.name}",
    )
    _exit_notify("termination_withdrawn", appointment, request)
    return request


@transaction.atomic
def termination_statement(*, actor, appointment: Appointment, statement: str) -> TerminationRequest:
    """The planner's statement in reply to the entity's termination (once), recorded on it and shown to
    the hiring entity, the district and the city."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    if not permissions.is_planner_of(actor, appointment):
        raise Forbidden("只有责任规划师本人可以提交陈述。")
    request = (
        TerminationRequest.objects.select_for_update()
        .filter(appointment=appointment, initiator=TerminationInitiator.ENTITY)
        .exclude(status=TerminationStatus.WITHDRAWN).order_by("-requested_at", "-id").first()
    )
    if request is None:
        raise Conflict("聘任主体没有提出解除，无需陈述。", code="no_entity_termination")
    if request.statement:
        raise Conflict(f"已于 {timezone.localtime(request.statement_at):%Y-%m-%d} 提交过陈述，不能重复提交。",
                       code="statement_exists")
    statement = (statement or "").strip()
    if not statement:
        raise DomainError("请填写陈述内容。", code="statement_required")
    if len(statement) > 4000:
        raise DomainError("陈述不超过 4000 字。", code="statement_too_long")
    article = policy_article(appointment.city, "termination")
    request.statement = statement
    request.statement_at = clock.now()
    full_clean_or_refuse(request, validate_constraints=False)
    request.save()
    dossier_event_record(
        planner=appointment.planner, kind=DossierEventKind.TERMINATION_STATEMENT, article=article, actor=actor,
        source=appointment, summary=f"就聘任主体解除{appointment.unit.name}{appointment.role_label}聘用合同提交陈述",
        data={"request": request.pk, "statement": statement},
    )
    audit_log(
        actor=actor, action="appointments.termination_statement", obj=appointment,
        after={"request": request.pk, "statement": statement}, article=article,
        summary=f"责任规划师就解除提交陈述：{appointment.planner.name} · {appointment.unit.name}",
    )
    _exit_notify("termination_statement", appointment, request)
    return request


# --- withdrawal and replacement (P6(5)) ---------------------------------------------------------------


class WithdrawalTooEarly(DomainError):
    """400 with the earliest allowed leave date and how it was computed, also as top-level JSON fields."""

    def __init__(self, message, *, earliest: dt.date, explanation: list[str]):
        super().__init__(message, code="withdrawal_too_early",
                         details={"earliest": earliest.isoformat(), "explanation": explanation})
        self.earliest = earliest
        self.explanation = explanation

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["earliest"] = self.earliest.isoformat()
        data["explanation"] = self.explanation
        return data


def withdrawal_notice(appointment: Appointment) -> tuple[int | None, str]:
    """See Appointment.withdrawal_notice: the contract's clause, the city's rule, or None (no unilateral
    withdrawal)."""
    return appointment.withdrawal_notice()


def withdrawal_not_allowed(city) -> Conflict:
    """409 where a planner cannot leave on notice: the way out is the written termination request."""
    article = policy_article(city, "termination")
    return Conflict(
        f"按{city.name}的规定，责任规划师不能单方提前退出；因自身原因无法履行合同的，请向聘任主体书面申请解除聘用合同"
        f"（解除申请），经聘任主体同意后解除（{article}）。",
        code="withdrawal_not_allowed",
    )


def withdrawal_earliest(*, requested_on: dt.date, appointment: Appointment | None = None, city=None
                        ) -> tuple[dt.date, list[str]]:
    """The earliest leave date (last day of service) for a withdrawal requested on `requested_on`:
    the notice (`withdrawal_notice`: the contract's clause or the city's rule) runs that many working
    days counted from the day after the request (the day of the request is not counted, as for any
    period counted in days, Civil Code art. 201). Without an appointment, the city's rule. Where there
    is no notice at all (no unilateral withdrawal), Conflict `withdrawal_not_allowed`."""
    from rpms.workdays.selectors import add_working_days

    if appointment is not None:
        city = appointment.city
        days, source = withdrawal_notice(appointment)
    else:
        days, source = city.policy.withdrawal_notice_working_days, "policy"
    if days is None:
        raise withdrawal_not_allowed(city)
    result = add_working_days(requested_on + dt.timedelta(days=1), days)
    article = policy_article(city, "withdrawal")
    basis = (f"按聘用合同的约定（{article}，合同另有约定的从其约定），应提前 {days} 个工作日提交书面退出申请。"
             if source == "contract" else f"按规定应提前 {days} 个工作日提交书面退出申请（{article}）。")
    explanation = [
        f"申请日期 {requested_on.isoformat()}，{basis}",
        f"提前期自申请次日（{(requested_on + dt.timedelta(days=1)).isoformat()}）起计算，申请当日不计入。",
        *result.explanation,
        f"第 {days} 个工作日为 {result.end.isoformat()}，最早可于当日离任（最后服务日）。",
    ]
    return result.end, explanation


def _parse_date(value, label: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise DomainError(f"{label}格式不正确，应为 YYYY-MM-DD。", code="invalid_date") from None


@transaction.atomic
def withdrawal_request(*, actor, appointment: Appointment, leave_date, reason: str) -> Withdrawal:
    """P6(5): the planner's written withdrawal with a leave date at least N working days after the
    request date; earlier → 400 with the earliest date and its computation. The appointment ends on
    the leave date (status WITHDRAWN after it, computed from `ended_on`)."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_view(actor, appointment):
        raise NotFound()
    if not permissions.is_planner_of(actor, appointment):
        raise Forbidden("只有责任规划师本人可以提交退出申请。")
    _require_not_over(appointment)
    days, _source = withdrawal_notice(appointment)
    if days is None:
        raise withdrawal_not_allowed(appointment.city)
    if appointment.termination_requests.filter(status=TerminationStatus.PENDING).exists():
        raise Conflict("已有待处理的解除申请。", code="termination_pending")
    if Withdrawal.objects.filter(appointment=appointment).exists():
        raise Conflict("已提交过退出申请。", code="withdrawal_exists")
    _require_no_ending(appointment)
    leave_date = _parse_date(leave_date, "离任日期")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明退出理由（书面申请）。", code="reason_required")
    city = appointment.city
    article = policy_article(city, "withdrawal")
    today = clock.today()
    earliest, explanation = withdrawal_earliest(appointment=appointment, requested_on=today)
    if leave_date < earliest:
        raise WithdrawalTooEarly(
            f"离任日期 {leave_date.isoformat()} 过早：应提前 {days} 个工作日"
            f"提交书面退出申请，最早可离任日期为 {earliest.isoformat()}（{article}）。",
            earliest=earliest, explanation=explanation,
        )
    if leave_date < appointment.start:
        raise DomainError("离任日期早于聘期开始日期；尚未到任的，请申请解除聘用合同。", code="leave_before_start")
    if leave_date >= appointment.end:
        raise DomainError(
            f"离任日期不早于聘期结束日（{appointment.end}）：聘期届满即自然离任，无需申请退出。", code="leave_after_end"
        )
    withdrawal = Withdrawal(
        appointment=appointment, requested_on=today, leave_date=leave_date, earliest=earliest,
        explanation=explanation, reason=reason, requested_by=actor,
    )
    full_clean_or_refuse(withdrawal, validate_constraints=False)
    withdrawal.save()
    before = snapshot(appointment, ["ended_on"])
    appointment_end_record(actor=actor, appointment=appointment, last_day=leave_date, kind=EndKind.WITHDRAWAL,
                           reason=reason)
    dossier_event_record(
        planner=appointment.planner, kind=DossierEventKind.WITHDRAWAL_REQUESTED, article=article, actor=actor,
        source=appointment, summary=f"申请退出{appointment.unit.name}{appointment.role_label}，{leave_date} 离任",
        data={"leave_date": leave_date.isoformat(), "earliest": earliest.isoformat(), "reason": reason},
    )
    audit_log(
        actor=actor, action="appointments.withdrawal_request", obj=appointment, before=before,
        after={"ended_on": leave_date.isoformat(), "withdrawal": withdrawal.pk, "earliest": earliest.isoformat()},
        article=article, summary=f"申请退出派驻：{appointment.planner.name} · {appointment.unit.name}，{leave_date} 离任",
    )
    _exit_notify("withdrawal_requested", appointment, withdrawal)
    return withdrawal


@transaction.atomic
def withdrawal_replace(*, actor, withdrawal: Withdrawal, planner, fee_yuan=None, fee_note="", service_focus="") -> Appointment:
    """P6(5): appoints a replacement in the same unit and role, starting the day after the leave date
    (or today, if that has passed), so that the unit's service continues. Who: as
    `require_replacement_appointer` (in a local-selection city the entity proposes and the district
    approves instead: 403 here)."""
    withdrawal = Withdrawal.objects.select_for_update().filter(pk=withdrawal.pk).first()
    if withdrawal is None:
        raise NotFound()
    leaving = Appointment.objects.select_related("unit__city__policy", "unit__district", "city__policy", "planner").get(
        pk=withdrawal.appointment_id
    )
    require_replacement_appointer(actor=actor, leaving=leaving)
    if withdrawal.replacement_id is not None:
        raise Conflict("该退出已安排补位人员。", code="already_replaced")
    if getattr(planner, "pk", planner) == leaving.planner_id:
        raise Conflict("补位人员不能是退出的责任规划师本人。", code="replacement_is_leaver")
    start = max(withdrawal.leave_date + dt.timedelta(days=1), clock.today())
    appointment = _appointment_create(
        actor=actor, planner=planner, unit=leaving.unit, role=leaving.role, start=start, fee_yuan=fee_yuan,
        fee_note=fee_note, service_focus=service_focus or leaving.service_focus, source="replacement",
        note=f"接替退出的 {leaving.planner.name}（{withdrawal.leave_date} 离任）",
    )
    withdrawal.replacement = appointment
    withdrawal.save(update_fields=["replacement"])
    city = leaving.city
    audit_log(
        actor=actor, action="appointments.withdrawal_replace", obj=appointment,
        after={**snapshot(appointment), "withdrawal": withdrawal.pk, "replaces": leaving.pk},
        article=_article_text(policy_article(city, "replacement"), policy_article(city, "appointment")),
        summary=f"调整补位：{appointment.planner.name}接替{leaving.planner.name}任{appointment.unit.name}{appointment.role_label}",
    )
    return appointment


# --- district chief planner (B6) ----------------------------------------------------------------------


@transaction.atomic
def district_chief_appoint(*, actor, district, planner, start, end=None, note: str = "") -> DistrictChief:
    """B6: names a district's chief planner (区级总责任规划师). The current chief's post ends the day before."""
    from rpms.geography.models import District

    district = District.objects.select_for_update(of=("self",)).select_related("city__policy").filter(pk=getattr(district, "pk", district)).first()
    if district is None or not getattr(actor, "is_authenticated", False):
        raise NotFound()
    if not permissions.can_name_district_chief(actor, district):
        if actor.city_id != district.city_id or actor.role == Role.DISTRICT_OFFICER:
            raise NotFound()
        raise Forbidden("只有区级工作专班或市级管理员可以聘请区级总责任规划师。")
    city = district.city
    start = _check_start(start)
    end = _parse_date(end, "任期结束日期") if end else term_end(start, city.policy.first_term_years)
    if end < start:
        raise DomainError("任期结束日期不能早于开始日期。", code="invalid_end")
    planner = Planner.objects.filter(pk=getattr(planner, "pk", planner)).first()
    if planner is None:
        raise NotFound("责任规划师不存在。", code="planner_not_found")
    if planner.city_id != city.pk or planner.pool_status != PoolStatus.ACTIVE:
        raise Conflict(f"{planner.name}不在{city.name}责任规划师资源库中，不能聘为区级总责任规划师。",
                       code="planner_not_in_pool")
    previous = DistrictChief.objects.filter(district=district, status=DistrictChiefStatus.ACTIVE).first()
    before = snapshot(previous) if previous else None
    if previous is not None:
        if previous.planner_id == planner.pk:
            raise Conflict(f"{planner.name}已是{district.name}区级总责任规划师。", code="already_chief")
        previous.move_to(DistrictChiefStatus.ENDED)
        previous.end = max(previous.start, min(previous.end, start - dt.timedelta(days=1)))
        previous.save(update_fields=["status", "end", "updated_at"])
    chief = DistrictChief(district=district, planner=planner, start=start, end=end, note=(note or "").strip(),
                          created_by=actor)
    full_clean_or_refuse(chief, validate_constraints=False)
    chief.save()
    article = policy_article(city, "district_chief")
    dossier_event_record(
        planner=planner, kind=DossierEventKind.APPOINTED, article=article, actor=actor, source=chief,
        summary=f"聘为{district.name}区级总责任规划师，{start} 至 {end}",
    )
    audit_log(
        actor=actor, action="appointments.district_chief_appoint", obj=chief, before=before, after=snapshot(chief),
        article=article, city_code=city.code, summary=f"聘请{planner.name}为{district.name}区级总责任规划师",
    )
    return chief
