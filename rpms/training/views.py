"""Training pages.

Planner: its hours per year, records and certificates (/training/planners/<id>/), declaring practice or
external training, the city's published courses, enrolment, the materials (video played in the page,
streamed with Range support) and completion. City administrator: courses and their materials
(management), live attendance, records to confirm, hours of any planner, Excel export. Auditor: reads."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.cities.models import City
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.excel import workbook_response
from rpms.core.paging import page_of
from rpms.core.params import is_digits
from rpms.core.web import Submission, act, submit

from . import permissions, selectors, services
from .media import ranged_file_response
from .models import CourseDelivery, RecordStatus, TrainingSource


def _manager_city(user):
    """The city a city administrator or auditor manages/reads (superusers: the first city)."""
    if getattr(user, "city_id", None):
        return City.objects.select_related("policy").get(pk=user.city_id)
    if user.is_superuser or user.role == Role.AUDITOR:
        return City.objects.filter(is_active=True).select_related("policy").order_by("sort_order", "code").first()
    return None


def _city_reader(user):
    city = _manager_city(user)
    if city is None or not permissions.can_read_city(user, city):
        raise Forbidden("您的角色无权访问此页面。")
    return city


@login_required
@require_GET
def home(request):
    planner = permissions.planner_of(request.user)
    if planner is not None:
        return redirect("training:planner", pk=planner.pk)
    if request.user.role == Role.PLANNER:
        # registered and applying, not yet admitted: hours are kept from admission on (issue #17 item 2)
        return render(request, "registry/not_yet_admitted.html",
                      {"heading": "继续教育", "what": "可在此查看培训课程、登记继续教育学时。"})
    _city_reader(request.user)
    return redirect("training:record_list")


# --- a planner's hours ---------------------------------------------------------------------------------


@login_required
@require_GET
def planner_page(request, pk):
    planner = selectors.planner_get(user=request.user, pk=pk)
    records = list(selectors.record_list(user=request.user, planner=planner)[: selectors.LIST_LIMIT])
    by_year = selectors.training_hours_by_year(planner)
    own = permissions.planner_of(request.user)
    is_self = own is not None and own.pk == planner.pk
    return render(request, "training/planner.html", {
        "planner": planner,
        "records": records,
        "by_year": by_year,
        "certificates": selectors.certificates_for(planner),
        "is_self": is_self,
        "can_record": is_self or permissions.is_course_manager(request.user, planner.city),
        "can_certify": is_self or permissions.is_course_manager(request.user, planner.city),
        "this_year": clock.today().year,
        "article": policy_article(planner.city, "training"),
    })


@login_required
@require_POST
def certificate_issue(request, pk):
    planner = selectors.planner_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.training_certificate_issue(actor=request.user, planner=planner, year=request.POST.get("year")),
        success=lambda certificate: f"已出具 {certificate.year} 年继续教育学时证明（{certificate.document.number}）。",
        redirect_to=lambda certificate: reverse("training:certificate_pdf", args=[certificate.pk]),
        refused_to=reverse("training:planner", args=[planner.pk]),
    )


@login_required
@require_GET
def certificate_pdf(request, pk):
    from rpms.documents.rendering import document_pdf_response

    certificate = selectors.certificate_get(user=request.user, pk=pk)
    return document_pdf_response(
        certificate.document, filename=f"继续教育学时证明-{certificate.planner.name}-{certificate.year}-{certificate.document.number}.pdf")


# --- records -------------------------------------------------------------------------------------------


RECORD_HEADERS = ["责任规划师", "年度", "日期", "来源", "名称", "组织单位", "学时", "状态", "确认人", "确认时间"]


@login_required
@require_GET
def record_list(request):
    city = _city_reader(request.user)
    params = request.GET
    queryset = selectors.record_list(user=request.user, city=city, year=params.get("year"),
                                     status=params.get("status", ""), source=params.get("source", ""),
                                     planner=params.get("planner") if is_digits(str(params.get("planner") or "")) else None)
    if params.get("export") == "xlsx":
        rows = ([r.planner.name, r.year, r.date, r.get_source_display(), r.title, r.provider, r.hours,
                 r.get_status_display(), r.confirmed_by_label, r.confirmed_at] for r in queryset.iterator(chunk_size=1000))
        return workbook_response(f"{city.name}继续教育学时-{clock.today().isoformat()}", "继续教育学时",
                                 RECORD_HEADERS, rows)
    records = list(queryset[: selectors.LIST_LIMIT])
    return render(request, "training/record_list.html", {
        "city": city, "records": records, "truncated": len(records) >= selectors.LIST_LIMIT,
        "pending_count": selectors.pending_records(user=request.user).filter(city=city).count(),
        "statuses": RecordStatus.choices, "sources": TrainingSource.choices, "params": params,
        "is_manager": permissions.is_course_manager(request.user, city), "query": params.urlencode(),
        "article": policy_article(city, "training"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def record_new(request):
    own = permissions.planner_of(request.user)
    planners = []
    if own is None:
        city = _city_reader(request.user)
        if not permissions.is_course_manager(request.user, city):
            raise Forbidden("只有责任规划师本人或市级主管部门可以登记继续教育学时。")
        planners = selectors.city_planners(city)
    form = {"planner": request.GET.get("planner", ""), "source": TrainingSource.PRACTICE, "title": "", "date": "",
            "hours": "", "provider": "", "description": ""}
    sent = Submission()
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}

        def create():
            planner = own
            if planner is None:
                if not is_digits(form["planner"]):
                    raise DomainError("请选择责任规划师。", code="planner_required")
                planner = selectors.planner_get(user=request.user, pk=int(form["planner"]))
            return services.training_record_create(
                actor=request.user, planner=planner, source=form["source"], title=form["title"], date=form["date"],
                hours=form["hours"], provider=form["provider"], description=form["description"],
                evidence=request.FILES.get("evidence"),
            )

        sent = submit(request, create,
                      success=lambda record: "已登记并计入学时。" if record.status == RecordStatus.CONFIRMED
                      else "已提交申报，待市级主管部门确认后计入学时。",
                      redirect_to=lambda record: reverse("training:planner", args=[record.planner_id]))
        if sent.response:
            return sent.response
    return render(request, "training/record_form.html", {
        "form": form, "error": sent.error, "planners": planners, "own": own,
        "sources": [(TrainingSource.PRACTICE, TrainingSource.PRACTICE.label),
                    (TrainingSource.EXTERNAL, TrainingSource.EXTERNAL.label)],
        "today": clock.today(),
    }, status=sent.status)


@login_required
@require_http_methods(["GET", "POST"])
def record_detail(request, pk):
    record = selectors.record_get(user=request.user, pk=pk)
    is_manager = permissions.is_course_manager(request.user, record.city)
    own = permissions.planner_of(request.user)
    sent = Submission()
    if request.method == "POST":
        action = request.POST.get("action")
        here = reverse("training:record_detail", args=[record.pk])

        def apply():
            if action == "confirm":
                services.training_record_confirm(actor=request.user, record=record)
                return "已确认并计入学时。", here
            if action == "reject":
                services.training_record_reject(actor=request.user, record=record, reason=request.POST.get("reason", ""))
                return "已标记为未予确认，并通知责任规划师。", here
            if action == "withdraw":
                planner_id = record.planner_id
                services.training_record_withdraw(actor=request.user, record=record)
                return "已撤回申报。", reverse("training:planner", args=[planner_id])
            raise DomainError("未知的操作。", code="unknown_action")

        sent = submit(request, apply, success=lambda done: done[0], redirect_to=lambda done: done[1])
        if sent.response:
            return sent.response
    return render(request, "training/record_detail.html", {
        "record": record, "is_manager": is_manager, "error": sent.error,
        "is_owner": own is not None and own.pk == record.planner_id,
    }, status=sent.status)


@login_required
@require_GET
def record_evidence(request, pk):
    from rpms.core.uploads import proof_response

    record = selectors.record_get(user=request.user, pk=pk)
    if not record.evidence_path:
        raise NotFound("文件不存在或您无权下载。")
    return proof_response(record.evidence_path, download_name=record.evidence_name, reader=request.user, obj=record)


# --- courses -------------------------------------------------------------------------------------------

COURSE_PAGE_SIZE = 50


@login_required
@require_GET
def course_list(request):
    user = request.user
    planner = permissions.planner_of(user)
    city = planner.city if planner is not None else _city_reader(user)
    courses, pager = page_of(request, selectors.course_list(user=user, city=city), size=COURSE_PAGE_SIZE)
    return render(request, "training/course_list.html", {
        "courses": courses, "pager": pager, "city": city, "planner": planner,
        "is_manager": permissions.is_course_manager(user, city),
        "article": policy_article(city, "course"),
    })


def _course_form(data=None, course=None) -> dict:
    if data is not None:
        return {k: data.get(k, "") for k in ("title", "description", "hours", "delivery", "session_on", "place")}
    if course is not None:
        return {"title": course.title, "description": course.description, "hours": str(course.hours),
                "delivery": course.delivery, "session_on": course.session_on.isoformat() if course.session_on else "",
                "place": course.place}
    return {"title": "", "description": "", "hours": "", "delivery": CourseDelivery.ONLINE, "session_on": "", "place": ""}


@login_required
@require_http_methods(["GET", "POST"])
def course_new(request):
    city = _city_reader(request.user)
    if not permissions.is_course_manager(request.user, city):
        raise Forbidden("只有市级主管部门可以发布培训课程。")
    form, sent = _course_form(), Submission()
    if request.method == "POST":
        form = _course_form(request.POST)
        sent = submit(request, lambda: services.course_create(actor=request.user, city=city, **form),
                      success="课程已创建，请上传学习材料后发布。",
                      redirect_to=lambda course: reverse("training:course_detail", args=[course.pk]))
        if sent.response:
            return sent.response
    return render(request, "training/course_form.html", {"form": form, "error": sent.error, "course": None,
                                                         "deliveries": CourseDelivery.choices}, status=sent.status)


@login_required
@require_http_methods(["GET", "POST"])
def course_edit(request, pk):
    course = selectors.course_get(user=request.user, pk=pk)
    if not permissions.is_course_manager(request.user, course.city):
        raise Forbidden("只有市级主管部门可以修改培训课程。")
    form, sent = _course_form(course=course), Submission()
    if request.method == "POST":
        form = _course_form(request.POST)
        sent = submit(request, lambda: services.course_update(actor=request.user, course=course, **form),
                      success="课程已保存。", redirect_to=reverse("training:course_detail", args=[course.pk]))
        if sent.response:
            return sent.response
    return render(request, "training/course_form.html", {"form": form, "error": sent.error, "course": course,
                                                         "deliveries": CourseDelivery.choices}, status=sent.status)


def _course_action(request, course):
    action = request.POST.get("action")
    user = request.user
    if action == "enrol":
        services.course_enrol(actor=user, course=course)
        return "已报名，可以开始学习。"
    if action == "complete":
        record = services.course_complete(actor=user, course=course)
        return f"已完成课程，计入 {record.year} 年继续教育学时 {record.hours} 学时。"
    if action in ("publish", "unpublish"):
        services.course_publish(actor=user, course=course, published=action == "publish")
        return "课程已发布。" if action == "publish" else "课程已撤回。"
    if action == "upload":
        material = services.material_add(actor=user, course=course, file=request.FILES.get("file"),
                                         title=request.POST.get("title", ""))
        return f"已上传“{material.title}”。"
    if action == "remove_material":
        material = next((m for m in course.materials.all() if str(m.pk) == request.POST.get("material")), None)
        if material is None:
            raise NotFound()
        services.material_remove(actor=user, material=material)
        return "已删除材料。"
    if action == "attendance":
        records = services.course_attendance_confirm(actor=user, course=course, planners=request.POST.getlist("planners"))
        return f"已确认 {len(records)} 名责任规划师出勤并计入学时。"
    raise DomainError("未知的操作。", code="unknown_action")


@login_required
@require_http_methods(["GET", "POST"])
def course_detail(request, pk):
    course = selectors.course_get(user=request.user, pk=pk)
    sent = Submission()
    if request.method == "POST":
        sent = submit(request, lambda: _course_action(request, course), success=lambda message: message,
                      redirect_to=reverse("training:course_detail", args=[course.pk]))
        if sent.response:
            return sent.response
        course = selectors.course_get(user=request.user, pk=pk)
    planner = permissions.planner_of(request.user)
    enrolment = services.enrolment_of(planner, course)
    progress = selectors.progress_map(enrolment)
    materials = [(m, progress.get(m.pk)) for m in course.materials.all()]
    is_manager = permissions.is_course_manager(request.user, course.city)
    enrolments = selectors.course_enrolments(course) if permissions.can_read_city(request.user, course.city) else []
    credited = {e.planner_id for e in enrolments if e.is_completed}
    return render(request, "training/course_detail.html", {
        "course": course, "materials": materials, "enrolment": enrolment, "planner": planner,
        "all_finished": bool(materials) and all(p is not None and p.finished_at for _, p in materials),
        "is_manager": is_manager, "enrolments": enrolments,
        "attendance_candidates": [p for p in selectors.city_planners(course.city) if p.pk not in credited]
        if is_manager and course.delivery == CourseDelivery.LIVE else [],
        "error": sent.error, "article": policy_article(course.city, "course"),
    }, status=sent.status)


@login_required
@require_http_methods(["GET", "POST"])
def material_page(request, pk):
    material, enrolment = selectors.material_get(user=request.user, pk=pk)
    sent = Submission()
    if request.method == "POST":
        sent = submit(request, lambda: services.material_finish(actor=request.user, material=material),
                      success="已标记为已学完。", redirect_to=reverse("training:course_detail", args=[material.course_id]))
        if sent.response:
            return sent.response
    progress = selectors.progress_map(enrolment).get(material.pk)
    return render(request, "training/material.html", {
        "material": material, "course": material.course, "enrolment": enrolment, "progress": progress,
        "file_url": reverse("training:material_file", args=[material.pk]), "error": sent.error,
    }, status=sent.status)


@login_required
@require_http_methods(["GET", "HEAD"])
def material_file(request, pk):
    """Streams the material to the entitled only (404 otherwise), with Range support for seeking; the
    first delivery to an enrolled planner is recorded (attendance)."""
    material, enrolment = selectors.material_get(user=request.user, pk=pk)
    if enrolment is not None and request.method == "GET":
        services.material_open(actor=request.user, material=material)
    return ranged_file_response(request, material.path, content_type=material.content_type,
                                filename=material.original_name, etag=material.etag, obj=material)
