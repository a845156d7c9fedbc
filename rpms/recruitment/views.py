"""Recruitment pages.

Public: calls (公开征集 / 定向补充), a call's detail, public notices with the objection form.
Applicants (planner accounts): the application form with a "检查资格" step that shows the
eligibility rule by rule before submitting, their applications with the reviewers' reasons, proofs.
City administrators: call management, review, notice publication, objection resolution, closing.
Auditors read the management pages without their forms."""
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.cities.models import City
from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.masking import mask_id_number, mask_mobile
from rpms.core.paging import page_of
from rpms.core.ratelimit import client_key, rate_limit_hit
from rpms.core.inputs import date_value
from rpms.core.web import act, attempt

from rpms.registry import limits

from . import selectors, services
from .api import objection_rate
from .models import SCORE_KEYS, ApplicationStatus, CallKind

MEMBER_ROWS = 12
SIMPLE_FIELDS = ("kind", "team_name", "name", "id_number", "mobile", "email", "employer", "degree", "major",
                 "degree_field", "title_level", "title_field", "experience_years")
LIST_FIELDS = ("registrations", "specialties", "districts", "declarations")


# --- public -----------------------------------------------------------------------------------------


@require_GET
def call_list(request):
    cities = list(City.objects.filter(is_active=True).order_by("sort_order", "code"))
    code = request.GET.get("city", "").strip()
    city = next((c for c in cities if c.code == code), None)
    calls = list(selectors.public_call_list(city=city))
    notices = list(selectors.public_notice_list(city=city)[:20])
    today = clock.today()
    for call in calls:
        call.is_open = call.accepts_applications(today)
    return render(request, "recruitment/call_list.html",
                  {"cities": cities, "city": city, "calls": calls, "notices": notices, "today": today})


@require_GET
def call_detail(request, pk):
    call = selectors.public_call_get(pk)
    policy = call.city.policy
    return render(request, "recruitment/call_detail.html", {
        "call": call,
        "is_open": call.accepts_applications(),
        "specialty_labels": [policy.specialty_label(c) for c in call.specialties],
        "notices": selectors.call_notices(call),
        "can_apply": request.user.is_authenticated and request.user.role == Role.PLANNER,
    })


def _notice_context(notice, **extra):
    policy = notice.city.policy
    candidates = []
    for entry in notice.entries.all():
        row = selectors.public_candidate(entry, policy)
        row["findings"] = entry.published_objections
        candidates.append(row)
    context = {
        "notice": notice,
        "candidates": candidates,
        "open_candidates": [c for c in candidates if not c["cancelled"]],
        "is_open": notice.is_open(),
        "window": {"start": notice.start, "end": notice.end, "days": notice.working_days,
                   "provisional": notice.provisional, "explanation": notice.explanation},
        "minimum_working_days": policy.notice_working_days,
        "recomputations": list(notice.recomputations.all()),
        "form": {},
    }
    context.update(extra)
    return context


@require_GET
def notice_detail(request, pk):
    notice = selectors.public_notice_get(pk)
    return render(request, "recruitment/notice_detail.html", _notice_context(notice))


@require_POST
def objection_submit(request, pk):
    """Anyone (signed in or not) may object while the notice is open; rate-limited per address."""
    notice = selectors.public_notice_get(pk)
    form = {key: request.POST.get(key, "") for key in ("application", "content", "contact_name", "contact_phone")}

    def _call():
        limit, window = objection_rate()
        rate_limit_hit(client_key(request, "recruitment.objection"), limit=limit, window_seconds=window)
        services.objection_submit(
            notice=notice, application_id=form["application"], content=form["content"],
            contact_name=form["contact_name"], contact_phone=form["contact_phone"],
            actor=request.user if request.user.is_authenticated else None,
        )

    def _refused(exc):
        context = _notice_context(selectors.public_notice_get(pk), error=exc.message, form=form)
        return render(request, "recruitment/notice_detail.html", context, status=exc.status)

    return act(
        request,
        _call,
        success="您的意见已收到。市级主管部门将核查处理，核查结果在本页公布；您的联系方式不会公开。",
        redirect_to=resolve_url("recruitment:notice_detail", pk=notice.pk),
        on_refusal=_refused,
    )


# --- applicants -------------------------------------------------------------------------------------


def _require_planner(user):
    if not (user.is_superuser or user.role == Role.PLANNER):
        raise Forbidden("只有责任规划师账户可以申请入库。请先注册责任规划师账户。")


def _form_data(post) -> dict:
    data = {key: post.get(key, "") for key in SIMPLE_FIELDS}
    for key in LIST_FIELDS:
        data[key] = post.getlist(key)
    members = []
    for i in range(1, MEMBER_ROWS + 1):
        name = post.get(f"member_name_{i}", "").strip()
        if name:
            members.append({"name": name, "specialty": post.get(f"member_specialty_{i}", ""),
                            "is_core": post.get(f"member_core_{i}") == "on"})
    data["members"] = members
    return data


def _apply_context(call, data, **extra):
    policy = call.city.policy
    member_rows = []
    members = data.get("members") or []
    for i in range(1, MEMBER_ROWS + 1):
        member = members[i - 1] if i <= len(members) else {}
        member_rows.append({"index": i, **member})
    context = {
        "call": call,
        "policy": policy,
        "form": data,
        "degrees": DegreeLevel.choices,
        "titles": TitleLevel.choices,
        "specialties": policy.specialties,
        "registrations": policy.registrations,
        "districts": list(call.city.districts.order_by("sort_order", "code")),
        "declarations": services.declaration_rules(policy),
        "member_rows": member_rows,
        "max_core": policy.max_core_team_members,
        "max_proof_mb": _max_proof_mb(),
    }
    context.update(extra)
    return context


def _max_proof_mb():
    from rpms.core.uploads import max_proof_bytes

    return f"{max_proof_bytes() / (1024 * 1024):g}"


@login_required
@require_http_methods(["GET", "POST"])
def apply(request, pk):
    """The application form. "检查资格" shows the eligibility rule by rule without saving;
    "提交申请" submits (an ineligible application is accepted and marked so) with its proofs."""
    _require_planner(request.user)
    call = selectors.public_call_get(pk)
    prior = selectors.prior_planner(city=call.city, user=request.user)
    if request.method == "GET":
        user = request.user
        if prior is not None:
            # Someone already in the city's registry starts from the dossier's data (issue #12 item 8).
            initial = selectors.application_defaults(prior)
        else:
            initial = {"kind": "individual", "name": user.display_name, "email": user.email, "degree": "none",
                       "title_level": "none", "members": []}
        return render(request, "recruitment/apply.html", _apply_context(call, initial, prior=prior))
    data = _form_data(request.POST)
    eligibility = services.eligibility_preview(call=call, data=data).as_dict()
    if request.POST.get("action") != "submit":
        return render(request, "recruitment/apply.html",
                      _apply_context(call, data, eligibility=eligibility, checked=True, prior=prior))
    files = request.FILES.getlist("proofs")
    labels = request.POST.getlist("proof_labels")

    def send():
        from rpms.core.uploads import proof_check

        for upload in files:
            proof_check(upload)  # refuse a disguised or oversize file before anything is saved
        with transaction.atomic():
            application = services.application_submit(actor=request.user, call=call, data=data)
            for index, upload in enumerate(files):
                services.proof_add(actor=request.user, application=application, file=upload,
                                   label=labels[index] if index < len(labels) else "")
        return application

    sent = attempt(request, send)
    if not sent.accepted:
        return render(request, "recruitment/apply.html",
                      _apply_context(call, data, eligibility=eligibility, checked=True, error=sent.error, prior=prior),
                      status=sent.status)
    application = sent.result
    if application.eligible:
        messages.success(request, "申请已提交，请等待审核。")
    else:
        messages.warning(request, "申请已提交。按本市选聘条件检查，您的申请有未满足的条件，已标记为“不符合”，审核人员将据此审核。")
    return redirect("recruitment:application_detail", pk=application.pk)


@login_required
@require_GET
def my_applications(request):
    _require_planner(request.user)
    return render(request, "recruitment/my_applications.html",
                  {"applications": list(selectors.my_applications(user=request.user))})


def _application_context(request, application, **extra):
    user = request.user
    is_applicant = application.applicant_id == user.pk
    can_review = selectors.is_city_admin_of(user, application.call.city) and application.status == ApplicationStatus.SUBMITTED
    context = {
        "application": application,
        "call": application.call,
        "policy": application.call.city.policy,
        "is_applicant": is_applicant,
        "can_review": can_review,
        "can_upload": is_applicant and application.status in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED),
        "is_reader": not is_applicant,
        # Full identifiers for the applicant and the city's administrators only (non-public pages).
        "show_identifiers": is_applicant or selectors.is_city_admin_of(user, application.call.city),
        "id_number_masked": mask_id_number(application.id_number),
        "mobile_masked": mask_mobile(application.mobile),
        "specialty_labels": [application.call.city.policy.specialty_label(c) for c in application.specialties],
        "degree_field_label": application.call.city.policy.specialty_label(application.degree_field) if application.degree_field else "",
        "title_field_label": application.call.city.policy.specialty_label(application.title_field) if application.title_field else "",
        "registration_labels": _registration_labels(application.call.city.policy, application.registrations),
        "score_keys": SCORE_KEYS,
        "scores": [(label, (application.scores or {}).get(key)) for key, label in SCORE_KEYS.items()],
        "review_form": {},
        "max_proof_mb": _max_proof_mb(),
        "changes": application.changes or [],
        # B18 "原则上": an ineligible application may be approved with an exception where the city allows it.
        "limit_exceptions": limits.exceptions_for_source(application),
        "eligibility_in_principle": application.call.city.policy.limit_in_principle("eligibility"),
    }
    context.update(extra)
    return context


def _registration_labels(policy, codes):
    labels = {r["code"]: r["label"] for r in policy.registrations}
    return [labels.get(c, c) for c in codes]


@login_required
@require_GET
def application_detail(request, pk):
    application = selectors.application_get(user=request.user, application_id=pk)
    return render(request, "recruitment/application_detail.html", _application_context(request, application))


@login_required
@require_POST
def proof_upload(request, pk):
    application = selectors.application_get(user=request.user, application_id=pk)
    upload = request.FILES.get("file")

    def add():
        if upload is None:
            raise DomainError("请选择要上传的文件。", code="upload_missing")
        return services.proof_add(actor=request.user, application=application, file=upload,
                                  label=request.POST.get("label", ""))

    def refused(exc):
        again = selectors.application_get(user=request.user, application_id=pk)
        return render(request, "recruitment/application_detail.html",
                      _application_context(request, again, upload_error=exc.message), status=exc.status)

    return act(request, add, success="证明材料已上传。",
               redirect_to=resolve_url("recruitment:application_detail", pk=pk), on_refusal=refused)


@login_required
@require_GET
def proof_download(request, pk, proof_pk):
    from rpms.core.uploads import proof_response

    application = selectors.application_get(user=request.user, application_id=pk)
    if not selectors.can_download_proof(request.user, application):
        raise NotFound()
    proof = next((p for p in application.proofs.all() if p.pk == proof_pk), None)
    if proof is None:
        raise NotFound("证明材料不存在。")
    return proof_response(proof.path, download_name=proof.original_name, reader=request.user, obj=proof)


# --- administrators ---------------------------------------------------------------------------------


def _manage_city(request) -> City:
    """The city whose recruitment the user manages (city administrators) or reads (auditors)."""
    user = request.user
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR)):
        raise Forbidden("只有市级管理员和审计员可以使用征集管理页面。")
    if user.city_id:
        return user.city
    code = request.GET.get("city") or request.POST.get("city")
    cities = City.objects.filter(is_active=True)
    city = cities.filter(code=code).first() if code else cities.order_by("sort_order", "code").first()
    if city is None:
        raise NotFound("尚未配置任何城市。")
    return city


CALL_PAGE_SIZE = 50
APPLICATION_PAGE_SIZE = 100


def _manage_context(request, city, **extra):
    calls, pager = page_of(request, selectors.admin_call_list(city=city), size=CALL_PAGE_SIZE)
    context = {
        "city": city,
        "calls": calls,
        "pager": pager,
        "can_manage": selectors.is_city_admin_of(request.user, city),
        "kinds": CallKind.choices,
        "specialties": city.policy.specialties,
        "form": {"deadline": (clock.today() + dt.timedelta(days=30)).isoformat(), "kind": "open"},
        "cities": list(City.objects.filter(is_active=True)) if not request.user.city_id else [],
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def manage(request):
    city = _manage_city(request)
    if request.method == "GET":
        return render(request, "recruitment/manage.html", _manage_context(request, city))
    selectors.require_city_admin(request.user, city)
    form = {key: request.POST.get(key, "") for key in ("title", "kind", "requirements", "deadline")}
    form["specialties"] = request.POST.getlist("specialties")
    return act(
        request,
        lambda: services.call_create(
            actor=request.user, city=city, title=form["title"], kind=form["kind"], requirements=form["requirements"],
            specialties=form["specialties"], deadline=date_value(form["deadline"], label="报名截止日期"),
            publish=request.POST.get("publish") == "on",
        ),
        success=lambda call: f"已{'发布' if call.is_published else '保存'}“{call.title}”。",
        redirect_to=lambda call: resolve_url("recruitment:manage_call", pk=call.pk),
        on_refusal=lambda exc: render(request, "recruitment/manage.html", _manage_context(request, city, form=form, error=exc.message),
                      status=exc.status),
    )


def _call_context(request, call, **extra):
    applications, pager = page_of(request, selectors.call_applications(call=call), size=APPLICATION_PAGE_SIZE)
    context = {
        "call": call,
        "policy": call.city.policy,
        "applications": applications,
        "pager": pager,
        "approved_waiting": list(call.applications.filter(status=ApplicationStatus.APPROVED).order_by("submitted_at", "id")
                                 .only("kind", "name", "team_name")),
        "notices": selectors.call_notices(call),
        "can_manage": selectors.is_city_admin_of(request.user, call.city),
        "today": clock.today(),
        "specialty_labels": [call.city.policy.specialty_label(c) for c in call.specialties],
        "notice_form": {"start": clock.today().isoformat(), "working_days": call.city.policy.notice_working_days},
    }
    context.update(extra)
    return context


@login_required
@require_GET
def manage_call(request, pk):
    call = selectors.call_get_for_admin(user=request.user, call_id=pk, write=False)
    return render(request, "recruitment/manage_call.html", _call_context(request, call))


@login_required
@require_POST
def call_publish(request, pk):
    call = selectors.call_get_for_admin(user=request.user, call_id=pk)
    return act(
        request,
        lambda: services.call_publish(actor=request.user, call=call),
        success="征集已发布。",
        redirect_to=resolve_url("recruitment:manage_call", pk=pk),
        on_refusal=lambda exc: render(request, "recruitment/manage_call.html", _call_context(request, call, error=exc.message),
                      status=exc.status),
    )


@login_required
@require_POST
def review(request, pk):
    application = selectors.application_get(user=request.user, application_id=pk, write=True)
    form = {"decision": request.POST.get("decision", ""), "reason": request.POST.get("reason", ""),
            "exception_reason": request.POST.get("exception_reason", "")}
    scores = {key: request.POST.get(f"score_{key}", "") for key in SCORE_KEYS}
    form["scores"] = scores

    def refused(exc):
        again = selectors.application_get(user=request.user, application_id=pk)
        return render(request, "recruitment/application_detail.html",
                      _application_context(request, again, review_error=exc.message, review_form=form),
                      status=exc.status)

    return act(
        request,
        lambda: services.application_review(actor=request.user, application=application, decision=form["decision"],
                                            reason=form["reason"], scores={k: v for k, v in scores.items() if v != ""},
                                            exception_reason=form["exception_reason"]),
        success="审核结果已保存，申请人可在“我的申请”中看到审核意见。",
        redirect_to=lambda _: resolve_url("recruitment:manage_call", pk=application.call_id),
        on_refusal=refused,
    )


@login_required
@require_POST
def notice_publish(request, pk):
    """公示 with its period (at least the policy's working days) and, for a start before today, the
    original publication's address or scan (补录)."""
    call = selectors.call_get_for_admin(user=request.user, call_id=pk)
    form = {key: request.POST.get(key, "") for key in ("start", "working_days", "evidence_url", "title")}

    def publish():
        start = date_value(form["start"] or clock.today().isoformat(), label="公示开始日期")
        return services.notice_publish(
            actor=request.user, call=call, start=start, title=form["title"], working_days=form["working_days"] or None,
            evidence_url=form["evidence_url"], evidence_file=request.FILES.get("evidence_file"),
        )

    return act(
        request, publish,
        success=lambda notice: f"公示已发布：{notice.start:%Y-%m-%d} 至 {notice.end:%Y-%m-%d}（{notice.working_days} 个工作日）"
        + ("，已注明为补录。" if notice.backdated else "。"),
        redirect_to=lambda notice: resolve_url("recruitment:manage_notice", pk=notice.pk),
        on_refusal=lambda exc: render(request, "recruitment/manage_call.html",
                                      _call_context(request, call, error=exc.message, notice_form=form), status=exc.status),
    )


@login_required
@require_GET
def notice_evidence(request, pk):
    """The scan of a recorded notice's original: the city's administrators and auditors only."""
    from rpms.core.uploads import proof_response

    notice = selectors.notice_get_for_admin(user=request.user, notice_id=pk, write=False)
    if not notice.evidence_path:
        raise NotFound("该公示没有附扫描件。")
    return proof_response(notice.evidence_path, download_name=notice.evidence_name, reader=request.user, obj=notice)


def _manage_notice_context(request, notice, **extra):
    objections = list(notice.objections.all())
    context = {
        "notice": notice,
        "entries": list(notice.entries.all()),
        "objections": objections,
        "unresolved": [o for o in objections if not o.is_resolved],
        "can_manage": selectors.is_city_admin_of(request.user, notice.city),
        "window": {"start": notice.start, "end": notice.end, "days": notice.working_days,
                   "provisional": notice.provisional, "explanation": notice.explanation},
        "minimum_working_days": notice.city.policy.notice_working_days,
        "recomputations": list(notice.recomputations.all()),
        "today": clock.today(),
        "is_open": notice.is_open(),
        "has_ended": notice.has_ended(),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def manage_notice(request, pk):
    notice = selectors.notice_get_for_admin(user=request.user, notice_id=pk, write=False)
    return render(request, "recruitment/manage_notice.html", _manage_notice_context(request, notice))


@login_required
@require_POST
def objection_resolve(request, pk):
    objection = selectors.objection_get_for_admin(user=request.user, objection_id=pk)
    upheld = request.POST.get("upheld")

    def resolve():
        if upheld not in ("1", "0"):
            raise DomainError("请选择异议是否成立。", code="invalid_resolution")
        return services.objection_resolve(actor=request.user, objection=objection, upheld=upheld == "1",
                                          finding=request.POST.get("finding", ""))

    def refused(exc):
        notice = selectors.notice_get_for_admin(user=request.user, notice_id=objection.notice_id)
        return render(request, "recruitment/manage_notice.html",
                      _manage_notice_context(request, notice, error=exc.message, error_objection=objection.pk),
                      status=exc.status)

    return act(request, resolve, success="异议处理结果已保存并在公示页公布。",
               redirect_to=resolve_url("recruitment:manage_notice", pk=objection.notice_id), on_refusal=refused)


@login_required
@require_POST
def notice_close(request, pk):
    notice = selectors.notice_get_for_admin(user=request.user, notice_id=pk)

    def refused(exc):
        again = selectors.notice_get_for_admin(user=request.user, notice_id=pk)
        return render(request, "recruitment/manage_notice.html", _manage_notice_context(request, again, error=exc.message),
                      status=exc.status)

    return act(request, lambda: services.notice_close(actor=request.user, notice=notice),
               success=lambda admitted: f"公示已结束，{len(admitted)} 人正式入库。",
               redirect_to=reverse("recruitment:manage_notice", kwargs={"pk": pk}), on_refusal=refused)
