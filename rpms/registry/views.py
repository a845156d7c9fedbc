"""Resource-pool pages: the pool with filters and its Excel export (city administrators and
auditors: full records with masked identifiers; district officers: public fields), the dossier
(个人档案), removal on a policy ground (P5(4)), direct commission (B19(1)), a planner's request to
leave, and a team's members (B19(7))."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.cities.models import City
from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core import clock
from rpms.core.confirm import confirm_first
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.audit import audit_export
from rpms.core.excel import workbook_response
from rpms.core.params import page_within
from rpms.core.masking import mask_id_number, mask_mobile
from rpms.core.web import act, attempt
from rpms.geography.models import District

from . import limits, selectors, services
from .models import Planner, PlannerKind, PoolStatus

POOL_PAGE_SIZE = 100


def _pool_city(request) -> City:
    user = request.user
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER)):
        raise Forbidden("您的角色无权查看资源库。")
    if user.city_id:
        return user.city
    code = request.GET.get("city") or request.POST.get("city")
    cities = City.objects.filter(is_active=True).order_by("sort_order", "code")
    city = cities.filter(code=code).first() if code else cities.first()
    if city is None:
        raise NotFound("尚未配置任何城市。")
    return city


def _attach_policy(city) -> None:
    """The city's policy profile from the cache (issue #15: read once per request and city, never decoded again)."""
    from rpms.cities.selectors import policy_for

    profile = policy_for(city)
    if profile is not None:
        city._state.fields_cache["policy"] = profile


def _pool_query(request, city):
    access = selectors.pool_access(request.user, city)
    filters = selectors.pool_filters_parse(request.GET)
    return access, filters, selectors.pool_list(user=request.user, city=city, filters=filters)


@login_required
@require_GET
def pool_list(request):
    city = _pool_city(request)
    _attach_policy(city)
    queried = attempt(request, lambda: _pool_query(request, city))
    if queried.accepted:
        access, filters, queryset = queried.result
    else:  # filters that do not parse: the message above the unfiltered list
        access, filters = selectors.pool_access(request.user, city), selectors.PoolFilters()
        queryset = selectors.pool_list(user=request.user, city=city)
    error = queried.error
    total = queryset.count()
    page = page_within(request.GET.get("page"), count=total, per_page=POOL_PAGE_SIZE)
    planners = selectors.pool_page(queryset, (page - 1) * POOL_PAGE_SIZE, page * POOL_PAGE_SIZE)
    rows = [selectors.planner_row(p, access) for p in planners]
    leaving = (selectors.pending_leave_requests(city=city, planner_ids=[p.pk for p in planners])
               if access == selectors.FULL and planners else set())
    for row in rows:
        row["leave_requested"] = row["id"] in leaving
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "registry/pool_list.html", {
        "city": city,
        "access": access,
        "full": access == selectors.FULL,
        "rows": rows,
        "total": total,
        "page": page,
        "has_next": page * POOL_PAGE_SIZE < total,
        "query": query.urlencode(),
        "filters": filters,
        "error": error,
        "specialties": city.policy.specialties,
        "districts": list(District.objects.filter(city=city).order_by("sort_order", "code")),
        "statuses": PoolStatus.choices,
        "titles": [c for c in TitleLevel.choices if c[0] != TitleLevel.NONE],
        "can_manage": selectors.can_manage_pool(request.user, city),
        "can_commission": selectors.can_manage_pool(request.user, city) and not city.policy.pool_requires_notice,
        "cities": list(City.objects.filter(is_active=True)) if not request.user.city_id else [],
    })


@login_required
@require_GET
def pool_export(request):
    """The filtered pool as .xlsx; identifiers are masked, district officers get public columns only."""
    city = _pool_city(request)
    access, _filters, queryset = _pool_query(request, city)
    policy = city.policy
    registrations = {r["code"]: r["label"] for r in policy.registrations}
    headers = ["编号", "姓名/团队名称", "类型", "团队负责人", "工作单位", "职称", "职称专业领域", "擅长专业领域", "熟悉的区", "入库状态"]
    if access == selectors.FULL:
        headers += ["学历", "所学专业", "执业资格", "相关工作年限", "入库来源", "入库时间", "调出时间", "调出情形",
                    "身份证号（掩码）", "手机号（掩码）"]

    def rows():
        for planner in queryset:
            row = [planner.pk, planner.name, planner.get_kind_display(), planner.leader_name, planner.employer,
                   planner.get_title_level_display() if planner.title_level != "none" else "",
                   policy.specialty_label(planner.title_field) if planner.title_field else "",
                   [policy.specialty_label(c) for c in planner.specialties or []],
                   [d.name for d in planner.familiar_districts.all()], planner.get_pool_status_display()]
            if access == selectors.FULL:
                ground = policy.removal_ground(planner.removal_ground) if planner.removal_ground else None
                row += [planner.get_degree_display(), planner.major,
                        [registrations.get(c, c) for c in planner.registrations or []], planner.experience_years,
                        planner.get_source_display(), planner.admitted_at, planner.removed_at,
                        ground["label"] if ground else "",
                        mask_id_number(planner.id_number) if planner.id_number else "",
                        mask_mobile(planner.mobile) if planner.mobile else ""]
            yield row

    audit_export(actor=request.user, what=f"{city.name}责任规划师资源库（{'完整字段' if access == selectors.FULL else '公开字段'}）",
                 object_type="registry.planner", filters=request.GET.dict(), city_code=city.code)
    return workbook_response(f"{city.name}责任规划师资源库", "资源库", headers, rows())


def _dossier_context(request, planner, **extra):
    policy = planner.city.policy
    user = request.user
    can_manage = selectors.can_manage_pool(user, planner.city)
    is_self = planner.user_id == user.pk
    context = {
        "planner": planner,
        "policy": policy,
        "events": selectors.dossier_events(planner),
        "members": list(planner.members.all()),
        "can_manage": can_manage,
        "is_self": is_self,
        # Full identifiers for the city's administrators and the planner only; masked for auditors.
        "show_identifiers": can_manage or is_self,
        "id_number_masked": mask_id_number(planner.id_number) if planner.id_number else "",
        "mobile_masked": mask_mobile(planner.mobile) if planner.mobile else "",
        "specialty_labels": [policy.specialty_label(c) for c in planner.specialties or []],
        "registration_labels": [next((r["label"] for r in policy.registrations if r["code"] == c), c)
                                for c in planner.registrations or []],
        "duties": policy.duty_categories,
        "discipline": policy.removal_grounds,
        "removal_ground": policy.removal_ground(planner.removal_ground) if planner.removal_ground else None,
        "leave_requested": planner.pk in selectors.pending_leave_requests(city=planner.city) if planner.pool_status == PoolStatus.ACTIVE else False,
        "member_form": {},
        # B18, B19(2), B19(7): the exceptions this record was admitted or served under.
        "limit_exceptions": limits.exceptions_for_planner(planner),
        "core_cap_in_principle": policy.limit_in_principle("core_team_members"),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def dossier(request, pk):
    planner = selectors.planner_get(user=request.user, planner_id=pk)
    return render(request, "registry/dossier.html", _dossier_context(request, planner))


@login_required
@require_GET
def my_dossier(request):
    planner = Planner.objects.filter(user=request.user).first()
    if planner is None and request.user.role == Role.PLANNER:
        # registered and applying, not yet admitted: the way to a dossier rather than a 404 (issue #17 item 2)
        return render(request, "registry/not_yet_admitted.html",
                      {"heading": "我的档案", "what": "可在此查看本人的档案（资格、派驻、考核、继续教育等记录）。"})
    if planner is None:
        raise NotFound("您的账户尚未关联责任规划师档案。入库后可在此查看个人档案。")
    return redirect("registry:dossier", pk=planner.pk)


def _removal_confirmation(request, planner, ground: dict, form: dict):
    """Removal from the pool asks for confirmation on a page naming the postings it ends (issue #17 item 5)."""
    from rpms.appointments.models import Appointment

    today = clock.today()
    postings = list(Appointment.objects.select_related("unit").filter(planner_id=planner.pk).not_over(today)
                    .order_by("start", "id"))
    ended = [f"{a.unit.name}（{a.role_label}，{'尚未到任' if a.start > today else '在任'}，聘期至 {a.end:%Y-%m-%d}）"
             for a in postings]
    return confirm_first(
        request, title=f"将{planner.name}调出资源库", back_to=resolve_url("registry:remove", pk=planner.pk),
        button="确认调出",
        consequences=[
            f"{planner.name}以“{ground.get('label', '')}”（{ground.get('article', '')}）为由调出资源库，即时生效，"
            "不再参与新的派驻；调出不能撤销。",
            (f"其派驻于今天（{today:%Y-%m-%d}）终止（最后服务日）：{'；'.join(ended)}；所在责任单元列入待调整补位，"
             "补位前显示为空缺，公开信息同步更新。") if ended else "其目前没有在任或待到任的派驻。",
            "调出记入个人档案和操作日志。",
        ],
        summary=[("调出情形", ground.get("label", "")), ("说明", form["note"])],
    )


@login_required
@require_http_methods(["GET", "POST"])
def remove(request, pk):
    planner = selectors.planner_get(user=request.user, planner_id=pk, write=True)
    grounds = planner.city.policy.removal_grounds
    leave = selectors.pending_leave_requests(city=planner.city)
    form = {"ground": "voluntary_withdrawal" if planner.pk in leave else "", "note": ""}
    if request.method == "POST":
        form = {"ground": request.POST.get("ground", ""), "note": request.POST.get("note", "")}
        ground = next((g for g in grounds if g.get("code") == form["ground"]), None)
        if ground is not None and planner.pool_status == PoolStatus.ACTIVE:  # else refused at once, next to the form
            waiting = _removal_confirmation(request, planner, ground, form)
            if waiting is not None:
                return waiting
        return act(
            request,
            lambda: services.planner_remove(actor=request.user, planner=planner, ground=form["ground"], note=form["note"]),
            success=f"{planner.name}已调出资源库，即日起不再参与派驻；其派驻即日终止，所在责任单元列入待调整补位。",
            redirect_to=resolve_url("registry:dossier", pk=planner.pk),
            on_refusal=lambda exc: render(request, "registry/remove.html",
                          {"planner": planner, "grounds": grounds, "form": form, "error": exc.message}, status=exc.status),
        )
    return render(request, "registry/remove.html", {"planner": planner, "grounds": grounds, "form": form})


@login_required
@require_POST
def leave(request, pk):
    planner = selectors.planner_get(user=request.user, planner_id=pk)
    if planner.user_id != request.user.pk:
        raise Forbidden("只有责任规划师本人可以申请退出。")
    return act(
        request,
        lambda: services.planner_leave_request(actor=request.user, planner=planner, note=request.POST.get("note", "")),
        success="退出申请已提交，市级主管部门办理后生效。",
        redirect_to=resolve_url("registry:dossier", pk=pk),
        on_refusal=lambda exc: render(request, "registry/dossier.html", _dossier_context(request, planner, leave_error=exc.message),
                      status=exc.status),
    )


@login_required
@require_POST
def member_add(request, pk):
    planner = selectors.planner_get(user=request.user, planner_id=pk, write=True)
    form = {"name": request.POST.get("name", ""), "specialty": request.POST.get("specialty", ""),
            "is_core": request.POST.get("is_core") == "on", "exception_reason": request.POST.get("exception_reason", "")}

    def refused(exc):
        again = selectors.planner_get(user=request.user, planner_id=pk)
        return render(request, "registry/dossier.html",
                      _dossier_context(request, again, member_error=exc.message, member_form=form), status=exc.status)

    return act(request, lambda: services.team_member_add(actor=request.user, planner=planner, **form),
               success="团队成员已登记。", redirect_to=resolve_url("registry:dossier", pk=pk), on_refusal=refused)


def _commission_context(city, **extra):
    from rpms.cities.eligibility import declaration_rules

    context = {
        "declarations": declaration_rules(city.policy),
        "eligibility_in_principle": city.policy.limit_in_principle("eligibility"),
        "eligibility_article": (city.policy.eligibility_rules or {}).get("article", ""),
        "city": city,
        "policy": city.policy,
        "specialties": city.policy.specialties,
        "registrations": city.policy.registrations,
        "districts": list(District.objects.filter(city=city).order_by("sort_order", "code")),
        "degrees": DegreeLevel.choices,
        "titles": TitleLevel.choices,
        "form": {"kind": "individual", "degree": "none", "title_level": "none"},
    }
    context.update(extra)
    return context


COMMISSION_FIELDS = ("kind", "name", "leader_name", "id_number", "mobile", "email", "employer", "degree", "major",
                     "major_field", "title_level", "title_field")


@login_required
@require_http_methods(["GET", "POST"])
def commission(request):
    """定向委托 (B19(1)) where the city's pool needs no public notice."""
    city = _pool_city(request)
    selectors.require_pool_manager(request.user, city)
    if request.method == "GET":
        return render(request, "registry/commission.html", _commission_context(city))
    form = {key: request.POST.get(key, "").strip()
            for key in COMMISSION_FIELDS + ("reason", "experience_years", "exception_reason")}
    form["declarations"] = request.POST.getlist("declarations")
    form["specialties"] = request.POST.getlist("specialties")
    form["registrations"] = request.POST.getlist("registrations")
    form["districts"] = request.POST.getlist("districts")

    def _call():
        try:
            years = int(form["experience_years"] or 0)
        except ValueError:
            raise DomainError("相关工作年限应为整数。", code="invalid_field") from None
        if form["kind"] not in PlannerKind.values:
            raise DomainError("类型不正确。", code="invalid_kind")
        districts = list(District.objects.filter(city=city, code__in=form["districts"]))
        fields = {key: form[key] for key in COMMISSION_FIELDS if key != "name"}
        planner = services.planner_commission(
            actor=request.user, city=city, reason=form["reason"], name=form["name"], familiar_districts=districts,
            experience_years=years, specialties=form["specialties"], registrations=form["registrations"],
            declarations=form["declarations"], exception_reason=form["exception_reason"], **fields,
        )
        return planner

    return act(
        request,
        _call,
        success=lambda planner: f"已定向委托{planner.name}入库。",
        redirect_to=lambda planner: resolve_url("registry:dossier", pk=planner.pk),
        on_refusal=lambda exc: render(request, "registry/commission.html", _commission_context(city, form=form, error=exc.message),
                      status=exc.status),
    )
