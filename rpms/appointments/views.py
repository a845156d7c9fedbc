"""Appointment pages: the list (filters, Excel export), a new appointment, the detail page with its
documents and the acts each party may take (filing, renewal, termination, withdrawal), contracts
expiring soon, withdrawals and replacement, district chief planners, and the public pages (who serves
each unit, B19(7))."""
import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.accounts.scoping import scope_queryset
from rpms.cities.models import AppointmentMode, City
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.confirm import confirm_first
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.audit import audit_export
from rpms.core.excel import workbook_response
from rpms.core.paging import pager
from rpms.core.params import is_digits, page_within
from rpms.core.web import Submission, act, attempt, submit
from rpms.dispatch import replacement
from rpms.geography.models import District, ResponsibilityUnit
from rpms.registry import limits
from rpms.registry.models import ExceptionStatus, LimitException, Planner, PoolStatus

from . import permissions, proposals, removal, selectors, services, signing
from .models import (
    AppointmentStatus,
    ContractState,
    SelectionStatus,
    TerminationInitiator,
    TerminationRequest,
    TerminationStatus,
)

STAFF_ROLES = (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER)


def _require_staff(user):
    if not (user.is_superuser or user.role in STAFF_ROLES):
        raise Forbidden("您的角色无权查看聘任信息。")


def _districts_for(user) -> list[District]:
    queryset = District.objects.select_related("city").order_by("city__sort_order", "sort_order", "code")
    return list(scope_queryset(queryset, user, district="pk"))


# --- list and export ----------------------------------------------------------------------------


@login_required
@require_GET
def appointment_list(request):
    user = request.user
    _require_staff(user)
    parsed = attempt(request, lambda: selectors.filters_parse(request.GET), propagate=())
    filters = parsed.result if parsed.accepted else selectors.AppointmentFilters()
    error = parsed.error
    queryset = selectors.appointment_list(user=user, filters=filters)
    if request.GET.get("unfiled") == "1":
        queryset = queryset.filter(contract_state=ContractState.SUBMITTED).filter(
            selectors.status_q(AppointmentStatus.ACTIVE) | selectors.status_q(selectors.UPCOMING)
        )
    if request.GET.get("unsigned") == "1":
        queryset = queryset.filter(contract_state__in=(ContractState.UNSIGNED, ContractState.RETURNED)).filter(
            selectors.status_q(AppointmentStatus.ACTIVE) | selectors.status_q(selectors.UPCOMING)
        )
    if request.GET.get("termination") == "pending":
        # a semi-join (EXISTS), not DISTINCT over joined rows (issue #15)
        pending = TerminationRequest.objects.filter(appointment=OuterRef("pk"), status=TerminationStatus.PENDING,
                                                    initiator=TerminationInitiator.PLANNER)
        queryset = queryset.filter(Exists(pending))
    if request.GET.get("export") == "xlsx":
        audit_export(actor=user, what="责任规划师聘任", object_type="appointments.appointment",
                     filters=request.GET.dict())
        return _export(queryset)
    size = selectors.PAGE_SIZE
    total = queryset.count()
    page = page_within(request.GET.get("page"), count=total, per_page=size)
    appointments = selectors.page_rows(queryset, (page - 1) * size, page * size)
    today = clock.today()
    for appointment in appointments:
        appointment.state_now = appointment.state(today)
        appointment.state_now_label = appointment.state_label(today)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    local_selection = bool(user.city_id) and user.city.policy.appointment_mode == AppointmentMode.LOCAL_SELECTION
    # B2, B19(1)(5): in a local-selection city nobody appoints directly (the entity proposes, the district
    # approves); running contracts are entered by the city, or there by the district.
    can_create = not local_selection and (user.is_superuser or user.role == Role.CITY_ADMIN)
    can_enter_existing = user.is_superuser or user.role == Role.CITY_ADMIN or (
        user.role == Role.DISTRICT_OFFICER and local_selection
    )
    return render(request, "appointments/list.html", {
        "appointments": appointments,
        "total": total,
        "page": page,
        "has_next": page * size < total,
        "query": query.urlencode(),
        "filters": filters,
        "statuses": selectors.STATUS_FILTERS,
        "districts": _districts_for(user),
        "error": error,
        "can_create": can_create,
        "can_enter_existing": can_enter_existing,
        "local_selection": local_selection,
        "can_read_proposals": local_selection and _may_read_selection(user),
        "can_propose": local_selection and user.role == Role.HIRING_ENTITY,
        "unfiled": request.GET.get("unfiled") == "1",
        "unsigned": request.GET.get("unsigned") == "1",
    })


def _export(queryset):
    headers = ["编号", "城市", "所在区", "责任单元", "包含街道乡镇", "派驻角色", "责任规划师（团队）", "类型", "团队负责人",
               "工作单位", "聘期开始", "当前聘期结束", "提前结束日", "聘期序号", "状态", "甲方（聘任主体）", "服务费用（元）",
               "备案时间", "已公开"]
    today = clock.today()

    def rows():
        # the rows carry no policy profile (issue #15): one read per city for the role labels
        for a in selectors.with_policies(list(queryset)):
            yield [a.pk, a.city.name, a.unit.district.name, a.unit.name, [s.name for s in a.unit.current_subdistricts],
                   a.role_label, a.planner.name, a.planner.get_kind_display(), a.planner.leader_name, a.planner.employer,
                   a.start, a.end, a.ended_on, a.term_no, a.state_label(today), a.party_a, a.fee_yuan, a.filed_at,
                   a.disclosed]

    return workbook_response(f"责任规划师聘任-{today.isoformat()}", "聘任", headers, rows())


# --- new appointment ---------------------------------------------------------------------------------


def _appoint_city(user) -> City:
    if user.is_superuser and not user.city_id:
        city = City.objects.filter(is_active=True).select_related("policy").order_by("sort_order").first()
        if city is None:
            raise NotFound("尚未配置任何城市。")
        return city
    if not user.city_id:
        raise Forbidden("您的账户尚未关联城市。")
    city = user.city
    if proposals.is_local_selection(city) and user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY):
        return city  # appointment_new answers with the way to appoint there (403)
    if not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("您的角色无权办理聘任。")
    return city


@login_required
@require_http_methods(["GET", "POST"])
def appointment_new(request):
    """The city's direct appointing (P6(2)). In a local-selection city (B2, B19(1)(5)) nobody appoints
    here: the page answers 403 with the way to do it (the entity proposes, the district approves), no form."""
    user = request.user
    city = _appoint_city(user)
    if proposals.is_local_selection(city):
        return render(request, "appointments/new.html", {
            "city": city, "local_selection": True, "can_propose": user.role == Role.HIRING_ENTITY,
        }, status=403)
    units = ResponsibilityUnit.objects.filter(city=city, dissolved_at__isnull=True).select_related("district")
    if user.role == Role.DISTRICT_OFFICER:
        units = units.filter(district__in=user.districts.values("pk"))
    units = list(units.order_by("district__sort_order", "district__code", "name"))
    planners = list(Planner.objects.filter(city=city, pool_status=PoolStatus.ACTIVE).order_by("name", "id"))
    form = {"unit": request.GET.get("unit", ""), "planner": request.GET.get("planner", ""),
            "role": request.GET.get("role", ""), "start": clock.today().isoformat(), "fee_yuan": "", "fee_note": "",
            "service_focus": "", "withdrawal_notice_working_days": "", "exception_reason": ""}
    sent = Submission()
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in form}

        def create():
            if not is_digits(form["unit"]) or not is_digits(form["planner"]):
                raise DomainError("请选择责任单元和责任规划师。", code="missing_field")
            if form["fee_yuan"] and not is_digits(form["fee_yuan"]):
                raise DomainError("服务费用应为不小于 0 的整数（元）。", code="invalid_fee")
            return services.appointment_create(
                actor=user, planner=int(form["planner"]), unit=int(form["unit"]), role=form["role"],
                start=form["start"], fee_yuan=int(form["fee_yuan"]) if form["fee_yuan"] else None,
                fee_note=form["fee_note"], service_focus=form["service_focus"], source="manual",
                withdrawal_notice_working_days=form["withdrawal_notice_working_days"] or None,
                exception_reason=form["exception_reason"],
            )

        sent = submit(
            request, create,
            success=lambda made: f"已超出{made.get_limit_display()}，例外申请已提交市级主管部门审批，批准后即办理聘任。"
            if isinstance(made, LimitException) else "已办理聘任，并出具派驻通知、聘任证书和聘用合同。",
            redirect_to=lambda made: reverse("registry:exception_detail", args=[made.pk])
            if isinstance(made, LimitException) else reverse("appointments:detail", args=[made.pk]),
        )
        if sent.response:
            return sent.response
    return render(request, "appointments/new.html", {
        "city": city, "units": units, "planners": planners, "roles": city.policy.roles, "form": form,
        "error": sent.error, "local_selection": proposals.is_local_selection(city),
        "cap_in_principle": city.policy.limit_in_principle("unit_cap"),
    }, status=sent.status)


# --- detail and acts ---------------------------------------------------------------------------------


def _detail_context(request, appointment, **extra) -> dict:
    user = request.user
    today = clock.today()
    documents = selectors.appointment_documents(appointment)
    current = {}
    for document in documents:
        current[document.kind] = document  # oldest first: the last one wins
    opens, closes = services.renewal_window(appointment)
    requests = list(appointment.termination_requests.all())
    for r in requests:
        r.state_now = r.state(today)
        r.state_now_label = r.state_label(today)
    pending = next((r for r in requests if r.status == TerminationStatus.PENDING), None)
    in_force = appointment.status == AppointmentStatus.ACTIVE and appointment.state(today) in (
        AppointmentStatus.ACTIVE, selectors.UPCOMING
    )
    policy = appointment.city.policy
    withdrawals = list(appointment.withdrawals.all())
    is_planner = permissions.is_planner_of(user, appointment)
    is_signer = permissions.is_contract_signer(user, appointment)
    ending_decided = appointment.ended_on is not None
    notice_days, notice_source = appointment.withdrawal_notice()
    # B25: the entity's termination waiting for evidence, or decided and not yet effective (more evidence).
    entity_open = next(
        (r for r in requests if r.initiator == TerminationInitiator.ENTITY
         and (r.status == TerminationStatus.PENDING and r.effective_on and r.effective_on >= today
              or r.status == TerminationStatus.CONSENTED and r.state_now != TerminationStatus.EFFECTIVE)),
        None,
    )
    statement_target = next(
        (r for r in requests if r.initiator == TerminationInitiator.ENTITY and r.status != TerminationStatus.WITHDRAWN),
        None,
    )
    can_withdraw = (in_force and not ending_decided and not withdrawals and is_planner and pending is None
                    and notice_days is not None)
    context = {
        "appointment": appointment,
        "today": today,
        "state": appointment.state(today),
        "state_label": appointment.state_label(today),
        "documents": documents,
        "pdf_links": [
            (label, reverse(f"appointments:{name}", args=[appointment.pk]), current.get(kind))
            for label, name, kind in (
                ("派驻通知", "dispatch_notice_pdf", services.KIND_DISPATCH_NOTICE),
                ("聘任证书", "certificate_pdf", services.KIND_CERTIFICATE),
                ("聘用合同", "contract_pdf", services.KIND_CONTRACT),
            )
        ],
        "terms": list(appointment.terms.all()),
        "termination_requests": requests,
        "withdrawals": withdrawals,
        "pending_termination": pending,
        "renewal_opens": opens,
        "renewal_closes": closes,
        "renewal_open_now": opens <= today <= closes,
        "renewal_years": list(range(policy.renewal_years_min, policy.renewal_years_max + 1)),
        "breach_clauses": policy.clauses_binding_planner(),
        "can_file": in_force and not appointment.is_filed and appointment.contract_state == ContractState.SUBMITTED
        and not signing.files_on_submission(appointment.city) and permissions.can_file(user, appointment),
        "can_renew": in_force and appointment.ended_on is None and permissions.can_renew(user, appointment),
        "is_planner": in_force and is_planner,
        "is_signer": in_force and is_signer,
        # Termination (B25): who may do what now.
        "can_request_termination": in_force and is_planner and pending is None and not ending_decided,
        "can_answer_termination": in_force and is_signer and pending is not None
        and pending.initiator == TerminationInitiator.PLANNER,
        "can_withdraw_termination": pending is not None and (
            is_planner if pending.initiator == TerminationInitiator.PLANNER else is_signer
        ),
        "can_terminate_for_breach": in_force and is_signer and pending is None and not ending_decided,
        "entity_open": entity_open if is_signer else None,
        "statement_target": statement_target if is_planner and statement_target and not statement_target.statement
        else None,
        # Withdrawal on notice (P6(5), or the contract's own clause under B25).
        "notice_days": notice_days,
        "notice_source": notice_source,
        "can_withdraw": can_withdraw,
        "withdrawal_closed": in_force and is_planner and notice_days is None and not ending_decided,
        "can_set_notice": in_force and is_signer and policy.contract_notice_clause_allowed and not ending_decided
        and not withdrawals,
        "earliest_leave": services.withdrawal_earliest(appointment=appointment, requested_on=today)[0]
        if can_withdraw else None,
        "form": {},
        "error": "",
        "error_details": None,
        "error_form": "",
        # B19(2): the exception to the in-principle cap this appointment was made under, if any.
        "limit_exceptions": limits.exceptions_for_result(appointment),
    }
    context.update(_signing_context(user, appointment, in_force))
    context.update(extra)
    return context


def _signing_context(user, appointment, in_force: bool) -> dict:
    """What the detail page shows and offers about the signed contract (B19(3), P6(3))."""
    state = appointment.contract_state
    signed = list(appointment.signed_contracts.all())
    open_to_sign = state in (ContractState.UNSIGNED, ContractState.RETURNED) and not appointment.is_filed
    at_once = signing.files_on_submission(appointment.city)
    return {
        "contract_state": state,
        "contract_state_label": appointment.get_contract_state_display(),
        "signed_contracts": signed,
        "signed_latest": signed[-1] if signed else None,
        "files_at_once": at_once,
        "signer_label": signing.signer_label(appointment),
        "filer_label": signing.filer_label(appointment),
        "signing_earliest": signing.signing_date_earliest(appointment),
        "can_sign": in_force and open_to_sign and permissions.is_contract_signer(user, appointment),
        "can_file_return": in_force and not at_once and state == ContractState.SUBMITTED
        and permissions.can_file(user, appointment),
    }


@login_required
@require_GET
def appointment_detail(request, pk: int):
    _require_staff(request.user)
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    return render(request, "appointments/detail.html", _detail_context(request, appointment))


def _act(request, pk: int, form_name: str, fields: tuple[str, ...], action, success: str):
    """Runs an act from a detail-page form; a refusal re-renders the page with the error and the input."""
    _require_staff(request.user)
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    form = {name: request.POST.get(name, "").strip() for name in fields}

    def _refused(exc):
        appointment = selectors.appointment_get(user=request.user, pk=pk)
        context = _detail_context(request, appointment, form=form, error=exc.message, error_form=form_name,
                                  error_details=getattr(exc, "details", None))
        return render(request, "appointments/detail.html", context, status=exc.status)

    return act(
        request,
        lambda: action(appointment, form),
        success=success,
        redirect_to=resolve_url("appointments:detail", pk),
        on_refusal=_refused,
    )


@login_required
@require_POST
def appointment_file(request, pk: int):
    """Filing and disclosing asks for confirmation on a page saying what will follow (issue #17 item 5)."""
    _require_staff(request.user)
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    if permissions.can_file(request.user, appointment) and not appointment.is_filed:
        city = appointment.city
        waiting = confirm_first(
            request, title=f"聘用合同备案并公开：{appointment.planner.name} · {appointment.unit.name}",
            back_to=resolve_url("appointments:detail", pk), button="确认备案并公开",
            consequences=[
                f"聘任主体提交的签字盖章聘用合同即完成备案（{policy_article(city, 'filing')}），备案不能撤回。",
                f"聘任信息（责任规划师、责任单元、派驻角色、聘期）随即在公开页面公布（{policy_article(city, 'disclosure')}）。",
                "备案和公开记入责任规划师个人档案。",
            ],
            summary=[("责任规划师", appointment.planner.name), ("责任单元", appointment.unit.name),
                     ("聘期", f"{appointment.start:%Y-%m-%d} 至 {appointment.end:%Y-%m-%d}")],
        )
        if waiting is not None:
            return waiting
    return _act(request, pk, "file", (), lambda a, f: services.appointment_file(actor=request.user, appointment=a),
                "聘用合同已备案，聘任信息已在公开页面公布。")


@login_required
@require_POST
def appointment_renew(request, pk: int):
    return _act(request, pk, "renew", ("years",),
                lambda a, f: services.appointment_renew(actor=request.user, appointment=a, years=f["years"]),
                "已办理续聘，并出具新的聘用合同和聘任证书。")


def _require_confirmation(form: dict) -> None:
    """Irreversible acts ask for an explicit confirmation on the page."""
    if form.get("confirm") != "1":
        raise DomainError("请勾选确认后再提交：该操作提交后不能撤销。", code="confirmation_required")


@login_required
@require_POST
def appointment_terminate(request, pk: int):
    def action(appointment, form):
        if form["initiator"] == "entity":
            _require_confirmation(form)
        return services.termination_request(
            actor=request.user, appointment=appointment, initiator=form["initiator"], reason=form["reason"],
            breach=form["breach"], facts=form["facts"], effective_date=form["effective_date"] or None,
            evidence=request.FILES.getlist("evidence"),
        )

    initiator = request.POST.get("initiator", "")
    success = ("解除申请已提交，待聘任主体同意。" if initiator == "planner"
               else "已作出依约解除决定。" if request.FILES.getlist("evidence")
               else "已记录依约解除，请在解除生效日前上传证据材料；上传后解除决定方生效。")
    return _act(request, pk, "terminate" if initiator == "planner" else "breach",
                ("initiator", "reason", "breach", "facts", "effective_date", "confirm"), action, success)


@login_required
@require_POST
def appointment_terminate_consent(request, pk: int):
    """Consenting asks for confirmation on a page saying what will follow (issue #17 item 5)."""
    _require_staff(request.user)
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    if permissions.is_contract_signer(request.user, appointment):
        raw = request.POST.get("effective_date", "").strip()
        when = f"自 {raw} 起" if raw else "自今天起"
        waiting = confirm_first(
            request, title=f"同意解除聘用合同：{appointment.planner.name} · {appointment.unit.name}",
            back_to=resolve_url("appointments:detail", pk), button="确认同意解除",
            consequences=[
                f"聘用合同{when}解除（{policy_article(appointment.city, 'termination')}）；生效日为今天的立即解除，"
                "以后生效的，生效前责任规划师继续履职。同意后不能撤销。",
                "该责任规划师在本责任单元的派驻随之结束。",
                "解除记入责任规划师个人档案，并通知责任规划师和相关主管部门。",
            ],
            summary=[("解除生效日期", raw or "今天")],
        )
        if waiting is not None:
            return waiting

    def action(appointment, form):
        _require_confirmation(form)
        return services.termination_consent(actor=request.user, appointment=appointment,
                                            effective_date=form["effective_date"] or None)

    return _act(request, pk, "consent", ("effective_date", "confirm"), action, "已同意解除聘用合同。")


@login_required
@require_POST
def appointment_terminate_refuse(request, pk: int):
    def action(appointment, form):
        _require_confirmation(form)
        return services.termination_refuse(actor=request.user, appointment=appointment, reason=form["reason"])

    return _act(request, pk, "refuse", ("reason", "confirm"), action, "已答复不同意解除，聘用合同继续履行。")


@login_required
@require_POST
def appointment_terminate_withdraw(request, pk: int):
    return _act(request, pk, "withdraw", (),
                lambda a, f: services.termination_withdraw(actor=request.user, appointment=a), "已撤回解除申请。")


@login_required
@require_POST
def appointment_terminate_evidence(request, pk: int):
    return _act(request, pk, "evidence", (),
                lambda a, f: services.termination_evidence_add(actor=request.user, appointment=a,
                                                               file=request.FILES.get("evidence")),
                "证据材料已上传。")


@login_required
@require_POST
def appointment_terminate_statement(request, pk: int):
    return _act(request, pk, "statement", ("statement",),
                lambda a, f: services.termination_statement(actor=request.user, appointment=a, statement=f["statement"]),
                "陈述已提交，聘任主体、区级工作专班和市级主管部门均可查看。")


@login_required
@require_GET
def termination_evidence_download(request, pk: int, evidence_pk: int):
    from rpms.core.uploads import proof_response

    _require_staff(request.user)
    evidence = selectors.termination_evidence_get(user=request.user, appointment_id=pk, pk=evidence_pk)
    return proof_response(evidence.path, download_name=evidence.original_name, reader=request.user, obj=evidence)


@login_required
@require_POST
def appointment_withdrawal_notice(request, pk: int):
    return _act(request, pk, "notice", ("working_days",),
                lambda a, f: services.appointment_withdrawal_notice_set(actor=request.user, appointment=a,
                                                                        working_days=f["working_days"] or None),
                "已记录合同约定的退出提前期，并出具补充约定后的聘用合同。")


@login_required
@require_POST
def appointment_withdrawal(request, pk: int):
    def action(appointment, form):
        return services.withdrawal_request(actor=request.user, appointment=appointment, leave_date=form["leave_date"],
                                           reason=form["reason"])

    return _act(request, pk, "withdrawal", ("leave_date", "reason"), action,
                "退出申请已提交，市级主管部门将安排补位。")


@login_required
@require_POST
def signed_contract_submit(request, pk: int):
    """The signer uploads the signed, sealed scan (PDF) with its signing date and the agreed fee."""
    _require_staff(request.user)
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    form = {name: request.POST.get(name, "").strip() for name in ("signed_on", "fee_yuan")}

    def refused(exc):
        again = selectors.appointment_get(user=request.user, pk=pk)
        context = _detail_context(request, again, form=form, error=exc.message, error_form="sign")
        return render(request, "appointments/detail.html", context, status=exc.status)

    return act(
        request,
        lambda: signing.signed_contract_submit(actor=request.user, appointment=appointment, file=request.FILES.get("file"),
                                               signed_on=form["signed_on"], fee_yuan=form["fee_yuan"]),
        success=lambda _: "签订的聘用合同已上传，即完成备案，聘任信息已在公开页面公布。"
        if signing.files_on_submission(appointment.city)
        else f"签订的聘用合同已提交{signing.filer_label(appointment)}备案。",
        redirect_to=resolve_url("appointments:detail", pk),
        on_refusal=refused,
    )


@login_required
@require_POST
def signed_contract_return(request, pk: int):
    return _act(request, pk, "file_return", ("reason",),
                lambda a, f: signing.signed_contract_return(actor=request.user, appointment=a, reason=f["reason"]),
                "已退回报备的聘用合同，聘任主体更正后可重新提交。")


@login_required
@require_GET
def signed_contract_download(request, pk: int, sid: int):
    _require_staff(request.user)
    return signing.signed_contract_response(signing.signed_contract_get(user=request.user, appointment_pk=pk, pk=sid),
                                           reader=request.user)


def _pdf(request, pk: int, kind: str):
    from rpms.documents.rendering import document_pdf_response

    _require_staff(request.user)
    _, document = selectors.appointment_document(user=request.user, pk=pk, kind=kind)
    return document_pdf_response(document)


@login_required
@require_GET
def certificate_pdf(request, pk: int):
    return _pdf(request, pk, services.KIND_CERTIFICATE)


@login_required
@require_GET
def dispatch_notice_pdf(request, pk: int):
    return _pdf(request, pk, services.KIND_DISPATCH_NOTICE)


@login_required
@require_GET
def contract_pdf(request, pk: int):
    return _pdf(request, pk, services.KIND_CONTRACT)


# --- expiring, withdrawals, replacement ----------------------------------------------------------------


@login_required
@require_GET
def expiring(request):
    _require_staff(request.user)
    today = clock.today()
    # a page of rows, ids first (issue #15)
    queryset = selectors.expiring_queryset(user=request.user, on=today)
    size = selectors.SHORT_PAGE_SIZE
    total = queryset.count()
    page = page_within(request.GET.get("page"), count=total, per_page=size)
    appointments = selectors.page_rows(queryset, (page - 1) * size, page * size)
    for appointment in appointments:
        appointment.days_left = (appointment.end - today).days
    return render(request, "appointments/expiring.html", {
        "appointments": appointments, "today": today, "pager": pager(request, page=page, total=total, size=size, drop=()),
    })


def _withdrawal_reader(user):
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY)):
        raise Forbidden("您的角色无权查看退出申请。")


@login_required
@require_GET
def withdrawals(request):
    _withdrawal_reader(request.user)
    today = clock.today()
    # both lists paged, ids first (issue #15): `page` for the withdrawals, `removed_page` for the removals
    size = selectors.SHORT_PAGE_SIZE
    queryset = selectors.withdrawal_queryset(user=request.user)
    total = queryset.count()
    page = page_within(request.GET.get("page"), count=total, per_page=size)
    rows = selectors.page_rows(queryset, (page - 1) * size, page * size, "appointment__")
    removed_qs = selectors.removed_posting_queryset(user=request.user)
    removed_total = removed_qs.count()
    removed_page = page_within(request.GET.get("removed_page"), count=removed_total, per_page=size)
    removed = selectors.page_rows(removed_qs, (removed_page - 1) * size, removed_page * size)
    return render(request, "appointments/withdrawals.html", {
        "withdrawals": rows, "removed": removed, "today": today,
        "pager": pager(request, page=page, total=total, size=size, drop=()),
        "removed_pager": pager(request, page=removed_page, total=removed_total, size=size, param="removed_page", drop=()),
    })


def _replacement_by_selection(user, appointment, start: dt.date) -> dict | None:
    """In a local-selection city (B2, B19(1)(5)) a replacement, too, is proposed by the unit's entity and
    approved by the district (the approved proposal is recorded as the replacement): the way there, with
    the proposal form prefilled for the unit's entity. None where the city appoints replacements itself."""
    from urllib.parse import urlencode

    if not proposals.is_local_selection(appointment.city):
        return None
    query = urlencode({"unit": appointment.unit_id, "role": appointment.role, "start": start.isoformat()})
    return {"can_propose": permissions.is_hiring_entity_of(user, appointment.unit),
            "can_read_proposals": _may_read_selection(user),
            "propose_url": f"{reverse('appointments:proposal_new')}?{query}"}


def _withdrawal_context(request, withdrawal, **extra):
    user = request.user
    appointment = withdrawal.appointment
    today = clock.today()
    start = max(withdrawal.leave_date + dt.timedelta(days=1), today)
    selection = _replacement_by_selection(user, appointment, start)
    can_replace = (withdrawal.replacement_id is None and selection is None
                   and permissions.can_appoint(user, appointment.unit))
    proposals, note = replacement.replacement_proposals(user=user, withdrawal=withdrawal) if can_replace else ([], "")
    planners = list(
        Planner.objects.filter(city=appointment.city, pool_status=PoolStatus.ACTIVE).exclude(pk=appointment.planner_id)
        .order_by("name", "id")
    ) if can_replace else []
    context = {
        "withdrawal": withdrawal,
        "appointment": appointment,
        "proposals": proposals,
        "proposal_note": note,
        "planners": planners,
        "can_replace": can_replace,
        "selection": selection,
        "replacement_start": start,
        "gap": withdrawal.replacement_id is None and withdrawal.leave_date < today,
        "can_view_replacement": withdrawal.replacement_id is not None
        and permissions.can_view(user, withdrawal.replacement),
        "error": "",
        "form": {},
    }
    context.update(extra)
    return context


@login_required
@require_GET
def withdrawal_detail(request, pk: int):
    if request.user.role != Role.PLANNER:  # a planner reads the withdrawal of a posting of their own (below)
        _withdrawal_reader(request.user)
    # scoped by permissions.can_view: the city, the district, the unit's entity, or the posting's own planner
    withdrawal = selectors.withdrawal_get(user=request.user, pk=pk)
    return render(request, "appointments/withdrawal_detail.html", _withdrawal_context(request, withdrawal))


@login_required
@require_POST
def withdrawal_replace(request, pk: int):
    _withdrawal_reader(request.user)
    withdrawal = selectors.withdrawal_get(user=request.user, pk=pk)
    form = {"planner": request.POST.get("planner", "").strip()}

    def replace():
        if not is_digits(form["planner"]):
            raise DomainError("请选择补位责任规划师。", code="missing_field")
        return services.withdrawal_replace(actor=request.user, withdrawal=withdrawal, planner=int(form["planner"]))

    def refused(exc):
        again = selectors.withdrawal_get(user=request.user, pk=pk)
        return render(request, "appointments/withdrawal_detail.html",
                      _withdrawal_context(request, again, error=exc.message, form=form), status=exc.status)

    return act(request, replace, success=lambda appointment: f"已任命补位人员，自 {appointment.start} 起接续服务。",
               redirect_to=lambda appointment: reverse("appointments:detail", args=[appointment.pk]), on_refusal=refused)


def _removal_context(request, appointment, **extra):
    user = request.user
    start = removal.replacement_start(appointment)
    selection = _replacement_by_selection(user, appointment, start)
    can_replace = (appointment.replacement_id is None and selection is None
                   and permissions.can_appoint(user, appointment.unit))
    proposals, note = (replacement.posting_replacement_proposals(user=user, appointment=appointment, start=start)
                       if can_replace else ([], ""))
    planners = list(
        Planner.objects.filter(city=appointment.city, pool_status=PoolStatus.ACTIVE).exclude(pk=appointment.planner_id)
        .order_by("name", "id")
    ) if can_replace else []
    context = {"appointment": appointment, "proposals": proposals, "proposal_note": note, "planners": planners,
               "can_replace": can_replace, "selection": selection, "replacement_start": start, "error": "", "form": {}}
    context.update(extra)
    return context


@login_required
@require_GET
def removal_detail(request, pk: int):
    """A posting that a removal from the pool ended: the unit waits for a replacement (P5(4), P6(5))."""
    _withdrawal_reader(request.user)
    appointment = selectors.removed_posting_get(user=request.user, pk=pk)
    return render(request, "appointments/removal_detail.html", _removal_context(request, appointment))


@login_required
@require_POST
def removal_replace(request, pk: int):
    _withdrawal_reader(request.user)
    appointment = selectors.removed_posting_get(user=request.user, pk=pk)
    form = {"planner": request.POST.get("planner", "").strip()}

    def replace():
        if not is_digits(form["planner"]):
            raise DomainError("请选择补位责任规划师。", code="missing_field")
        return removal.removal_replace(actor=request.user, appointment=appointment, planner=int(form["planner"]))

    def refused(exc):
        again = selectors.removed_posting_get(user=request.user, pk=pk)
        return render(request, "appointments/removal_detail.html",
                      _removal_context(request, again, error=exc.message, form=form), status=exc.status)

    return act(request, replace, success=lambda replacement: f"已任命补位人员，自 {replacement.start} 起接续服务。",
               redirect_to=lambda replacement: reverse("appointments:detail", args=[replacement.pk]), on_refusal=refused)


# --- district chief planners (B6) -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def district_chiefs(request):
    user = request.user
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER)) or not user.city_id:
        raise Forbidden("您的角色无权查看区级总责任规划师。")
    city = user.city
    manageable = [d for d in District.objects.filter(city=city).order_by("sort_order", "code")
                  if permissions.can_name_district_chief(user, d)]
    form = {"district": "", "planner": "", "start": clock.today().isoformat(), "end": "", "note": ""}
    sent = Submission()
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in form}

        def name_chief():
            district = next((d for d in manageable if str(d.pk) == form["district"]), None)
            if district is None:
                raise DomainError("请选择您负责的区。", code="missing_field")
            if not is_digits(form["planner"]):
                raise DomainError("请选择责任规划师。", code="missing_field")
            return services.district_chief_appoint(actor=user, district=district, planner=int(form["planner"]),
                                                   start=form["start"], end=form["end"] or None, note=form["note"])

        sent = submit(request, name_chief, success="已聘请区级总责任规划师。", redirect_to="appointments:chiefs")
        if sent.response:
            return sent.response
    # the chooser lists at most PICKER_LIMIT pool members (issue #15), narrowed by `?q=` (name, employer, number)
    q = request.GET.get("q", "").strip()
    planners, more = selectors.planner_picker(city=city, q=q) if manageable else ([], False)
    if manageable and is_digits(form["planner"]) and all(str(p.pk) != form["planner"] for p in planners):
        chosen = Planner.objects.filter(city=city, pool_status=PoolStatus.ACTIVE, pk=int(form["planner"])).first()
        if chosen is not None:
            planners.insert(0, chosen)
    return render(request, "appointments/chiefs.html", {
        "city": city, "chiefs": selectors.district_chiefs(city=city), "districts": manageable,
        "planners": planners, "more_planners": more, "q": q,
        "form": form, "error": sent.error,
    }, status=sent.status)


# --- local selection (B2, B19(1)(5)) -----------------------------------------------------------------


def _may_read_selection(user) -> bool:
    return user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY)


def _selection_reader(user):
    if not _may_read_selection(user):
        raise Forbidden("您的角色无权查看选聘提名。")


@login_required
@require_GET
def proposal_list(request):
    user = request.user
    _selection_reader(user)
    status = request.GET.get("status", "")
    listed = attempt(request, lambda: proposals.proposal_list(user=user, status=status), propagate=())
    queryset, error = listed.result, listed.error
    if not listed.accepted:
        queryset, status = proposals.proposal_list(user=user), ""
    size = selectors.PAGE_SIZE
    total = queryset.count()
    page = page_within(request.GET.get("page"), count=total, per_page=size)
    rows = selectors.proposal_page(queryset, (page - 1) * size, page * size)
    query = request.GET.copy()
    query.pop("page", None)
    city = getattr(user, "city", None)
    return render(request, "appointments/proposals.html", {
        "proposals": rows, "status": status, "statuses": SelectionStatus.choices, "error": error, "city": city,
        "total": total, "page": page, "has_next": page * size < total, "query": query.urlencode(),
        "local_selection": city is not None and proposals.is_local_selection(city),
        "can_propose": user.role == Role.HIRING_ENTITY and city is not None and proposals.is_local_selection(city),
    })


@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request):
    """The hiring entity proposes a planner for one of its units: search the registry (eligibility and
    the unit cap shown for each), then propose with role, start, fee and service focus."""
    user = request.user
    if user.role != Role.HIRING_ENTITY or not user.city_id:
        raise Forbidden("选聘提名由责任单元的聘任主体（街道办事处、镇（乡）人民政府、园区管委会）提出。")
    city = user.city
    if not proposals.is_local_selection(city):
        raise Forbidden(f"{city.name}由市级主管部门从资源库统筹选派责任规划师，不适用属地选聘提名。")
    units = list(proposals.entity_units(user))
    source = request.POST if request.method == "POST" else request.GET
    form = {"unit": source.get("unit", "") or (str(units[0].pk) if len(units) == 1 else ""),
            "q": source.get("q", "").strip(), "planner": source.get("planner", ""),
            "role": source.get("role", "") or "responsible_planner",
            "start": source.get("start", "") or clock.today().isoformat(), "fee_yuan": source.get("fee_yuan", ""),
            "fee_note": source.get("fee_note", ""), "service_focus": source.get("service_focus", ""),
            "exception_reason": source.get("exception_reason", "")}
    form = {k: v.strip() for k, v in form.items()}
    unit = next((u for u in units if str(u.pk) == form["unit"]), None)
    sent = Submission()
    if request.method == "POST":
        def propose():
            if unit is None:
                raise DomainError("请选择本单位的责任单元。", code="missing_field")
            if not is_digits(form["planner"]):
                raise DomainError("请从检索结果中选择责任规划师。", code="missing_field")
            return proposals.proposal_submit(
                actor=user, planner=int(form["planner"]), unit=unit, role=form["role"], start=form["start"],
                fee_yuan=form["fee_yuan"] or None, fee_note=form["fee_note"], service_focus=form["service_focus"],
                exception_reason=form["exception_reason"],
            )

        sent = submit(request, propose, success=lambda _: f"已提名，待{unit.district.name}责任规划师工作专班审核。",
                      redirect_to=lambda proposal: reverse("appointments:proposal_detail", args=[proposal.pk]))
        if sent.response:
            return sent.response
    candidates = []
    if unit is not None and (form["q"] or form["planner"]):
        candidates = proposals.selection_candidates(user=user, unit=unit, q=form["q"], role=form["role"])
        if is_digits(form["planner"]) and not any(str(c["id"]) == form["planner"] for c in candidates):
            chosen = Planner.objects.filter(pk=int(form["planner"]), city=city)
            candidates = proposals.planner_selection_facts(planners=chosen, unit=unit, role=form["role"]) + candidates
    cap_in_principle = city.policy.limit_in_principle("unit_cap")
    for candidate in candidates:
        # B19(2) "原则上": a planner held back by the cap alone may be proposed with a justification.
        candidate["cap_exceptable"] = cap_in_principle and candidate["blocking_codes"] == ["unit_cap_reached"]
    return render(request, "appointments/proposal_new.html", {
        "city": city, "units": units, "unit": unit, "roles": city.policy.roles, "form": form, "error": sent.error,
        "candidates": candidates, "searched": bool(form["q"]), "cap_in_principle": cap_in_principle,
        # a withdrawal or removal waiting for its replacement in this unit and role: the approval fills it
        "vacancy": proposals.vacancy(unit=unit, role=form["role"]) if unit is not None else None,
    }, status=sent.status)


def _proposal_context(request, proposal, **extra) -> dict:
    user = request.user
    [facts] = proposals.planner_selection_facts(planners=[proposal.planner], unit=proposal.unit, role=proposal.role,
                                                start=proposal.start)
    pending = proposal.status == SelectionStatus.PENDING
    exceptions = limits.exceptions_for_source(proposal)
    context = {
        "proposal": proposal, "facts": facts, "city": proposal.city,
        "can_decide": pending and permissions.is_district_officer_of(user, proposal.unit.district_id),
        "can_withdraw": pending and permissions.is_hiring_entity_of(user, proposal.unit),
        # the posting this proposal replaces once approved (调整补位), if one waits in its unit and role
        "vacancy": proposals.vacancy(unit=proposal.unit_id, role=proposal.role, planner=proposal.planner_id)
        if pending else None,
        "start_passed": proposal.start < clock.today(),
        "today": clock.today(),
        "form": {}, "error": "", "error_form": "",
        # B19(2): the exception requests made on this proposal (pending, approved or refused).
        "limit_exceptions": exceptions,
        "exception_pending": any(e.status == ExceptionStatus.PENDING for e in exceptions),
        "cap_in_principle": proposal.city.policy.limit_in_principle("unit_cap"),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def proposal_detail(request, pk: int):
    _selection_reader(request.user)
    proposal = proposals.proposal_get(user=request.user, pk=pk)
    return render(request, "appointments/proposal_detail.html", _proposal_context(request, proposal))


def _proposal_act(request, pk: int, form_name: str, fields: tuple[str, ...], action):
    """Runs an act from a proposal-page form: `action(proposal, form)` returns the success message and where
    to go; a refusal re-renders the page with the error and the input."""
    _selection_reader(request.user)
    proposal = proposals.proposal_get(user=request.user, pk=pk)
    form = {name: request.POST.get(name, "").strip() for name in fields}

    def refused(exc):
        again = proposals.proposal_get(user=request.user, pk=pk)
        context = _proposal_context(request, again, form=form, error=exc.message, error_form=form_name)
        return render(request, "appointments/proposal_detail.html", context, status=exc.status)

    return act(request, lambda: action(proposal, form), success=lambda done: done[0],
               redirect_to=lambda done: done[1], on_refusal=refused)


@login_required
@require_POST
def proposal_approve(request, pk: int):
    def action(proposal, form):
        if form["confirm"] != "1":
            raise DomainError("请勾选确认：同意后即办理聘任并出具派驻通知、聘任证书和聘用合同。", code="confirm_required")
        appointment = proposals.proposal_approve(actor=request.user, proposal=proposal, start=form["start"] or None,
                                                 exception_reason=form["exception_reason"])
        if isinstance(appointment, LimitException):
            return (f"人选已达{appointment.get_limit_display()}，例外申请 #{appointment.pk} 已报市级主管部门审批；"
                    "批准后即办理聘任，提名在此之前保持待审核。",
                    reverse("appointments:proposal_detail", args=[proposal.pk]))
        return ("已审核同意，聘任已办理，并出具派驻通知、聘任证书和聘用合同；请聘任主体签订聘用合同后上传。",
                reverse("appointments:detail", args=[appointment.pk]))

    return _proposal_act(request, pk, "approve", ("confirm", "start", "exception_reason"), action)


@login_required
@require_POST
def proposal_return(request, pk: int):
    def action(proposal, form):
        proposals.proposal_return(actor=request.user, proposal=proposal, reason=form["reason"])
        return "已退回提名，聘任主体可以重新提名。", reverse("appointments:proposal_detail", args=[pk])

    return _proposal_act(request, pk, "return", ("reason",), action)


@login_required
@require_POST
def proposal_withdraw(request, pk: int):
    def action(proposal, form):
        proposals.proposal_withdraw(actor=request.user, proposal=proposal)
        return "已撤回提名。", reverse("appointments:proposal_detail", args=[pk])

    return _proposal_act(request, pk, "withdraw", (), action)


# --- public pages (B19(7)) ---------------------------------------------------------------------------


@require_GET
def public_list(request):
    """Who serves which unit: filed appointments in force, by city and district. Open to everyone."""
    cities = list(City.objects.filter(is_active=True).order_by("sort_order", "code"))
    try:
        city, district = selectors.public_filters(request.GET)
    except NotFound:
        city = district = None
    if city is None and district is not None:
        city = district.city
    districts = list(District.objects.filter(city=city).order_by("sort_order", "code")) if city else []
    cards = []
    for appointment in selectors.public_queryset(city=city, district=district):
        card = selectors.public_card(appointment)
        card["unit"] = appointment.unit
        card["district"] = appointment.unit.district
        card["city"] = appointment.city
        cards.append(card)
    return render(request, "appointments/public_list.html", {
        "cards": cards, "cities": cities, "selected_city": city, "districts": districts, "selected_district": district,
    })


@require_GET
def public_unit(request, pk: int):
    """The unit's public page, kept in the shared cache for anonymous visitors until an act changes what the
    unit's city shows (rpms.publicinfo.pagecache, issue #15)."""
    from rpms.publicinfo import pagecache

    city_id = pagecache.unit_city_id(pk)
    if city_id is None:
        return render(request, "appointments/public_unit.html", {"data": selectors.public_unit(pk)})  # 404
    return pagecache.cached_page(
        request, scopes=pagecache.city_scopes([city_id]), key=f"unit:{pk}",
        render=lambda: render(request, "appointments/public_unit.html", {"data": selectors.public_unit(pk)}),
    )
