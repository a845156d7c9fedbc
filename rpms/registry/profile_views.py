"""Pages of issue #17 item 8: a planner's own profile (changes that the eligibility rules read wait for the city's
verification with proof; the rest apply at once), the city administrator's verification queue, and a team's page
where its leader or the city administrator keeps the membership current (B19(7) cap) and invites members to link
their own accounts (rpms.registry.profiles, rpms.registry.teams)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.paging import page_of
from rpms.geography.models import District

from . import profiles, selectors, services, teams
from .models import LimitException, ProfileChangeStatus

QUEUE_PAGE_SIZE = 20


def _refusal(exc: DomainError) -> bool:
    return not isinstance(exc, (NotFound, Forbidden))


# --- the planner's own profile -------------------------------------------------------------------------------


def _profile_form(planner) -> dict:
    values = profiles.current_values(planner)
    values["experience_years"] = str(values["experience_years"])
    return values


def _profile_form_from(post) -> dict:
    form = {name: post.get(name, "").strip() for name in profiles.FIELD_LABELS if name not in profiles.LIST_FIELDS}
    for name in profiles.LIST_FIELDS:
        form[name] = post.getlist(name)
    return form


def _profile_context(request, planner, **extra) -> dict:
    city = planner.city
    policy = city.policy
    held = profiles.eligibility_fields(policy)
    context = {
        "planner": planner,
        "city": city,
        "policy": policy,
        "form": _profile_form(planner),
        "held": held,
        "held_labels": [profiles.FIELD_LABELS[k] for k in profiles.FIELD_LABELS if k in held],
        "eligibility_article": profiles.eligibility_article(city),
        "specialties": policy.specialties,
        "registrations": policy.registrations,
        "districts": list(District.objects.filter(city=city).order_by("sort_order", "code")),
        "degrees": DegreeLevel.choices,
        "titles": TitleLevel.choices,
        "pending": planner.profile_changes.filter(status=ProfileChangeStatus.PENDING).first(),
        "recent": list(planner.profile_changes.exclude(status=ProfileChangeStatus.PENDING).order_by("-decided_at")[:5]),
        "teams": teams.teams_of(request.user),
        "note": "",
        "error": "",
    }
    if context["pending"] is not None:
        context["pending_rows"] = profiles.changes_described(city, context["pending"].changes, context["pending"].before)
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    planner = profiles.my_planner(request.user)
    if request.method == "GET":
        return render(request, "registry/profile_edit.html", _profile_context(request, planner))
    form = _profile_form_from(request.POST)
    note = request.POST.get("note", "").strip()
    try:
        result = profiles.profile_update(actor=request.user, planner=planner, data=form, proof=request.FILES.get("proof"),
                                         note=note)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        planner = profiles.my_planner(request.user)
        return render(request, "registry/profile_edit.html",
                      _profile_context(request, planner, form=form, note=note, error=exc.message), status=exc.status)
    parts = []
    if result.applied:
        parts.append("已更新：" + "、".join(profiles.FIELD_LABELS[k] for k in profiles.FIELD_LABELS if k in result.applied))
    if result.change is not None:
        labels = "、".join(profiles.FIELD_LABELS[k] for k in profiles.FIELD_LABELS if k in result.change.changes)
        parts.append(f"{labels}的变更已提交市级主管部门核实，核实通过后生效")
    messages.success(request, "；".join(parts) + "。")
    return redirect("registry:profile_edit")


# --- the city's verification queue ---------------------------------------------------------------------------


@login_required
@require_GET
def profile_change_list(request):
    status = request.GET.get("status", "pending")
    if status == "all":
        status = ""
    error = ""
    try:
        queryset = profiles.profile_change_list(user=request.user, status=status)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        error, status = exc.message, ""
        queryset = profiles.profile_change_list(user=request.user)
    rows, pager = page_of(request, queryset, size=QUEUE_PAGE_SIZE)
    for row in rows:
        row.rows = profiles.changes_described(row.city, row.changes, row.before)
    return render(request, "registry/profile_changes.html", {
        "rows": rows, "pager": pager, "status": status or "all", "statuses": ProfileChangeStatus.choices,
        "error": error, "is_decider": bool(request.user.is_superuser or request.user.role == Role.CITY_ADMIN),
    })


def _change_context(request, change, **extra) -> dict:
    context = {
        "change": change,
        "rows": profiles.changes_described(change.city, change.changes, change.before),
        "eligibility": profiles.eligibility_after(change) if change.status == ProfileChangeStatus.PENDING else None,
        "can_decide": change.status == ProfileChangeStatus.PENDING and selectors.can_manage_pool(request.user, change.city),
        "form": {}, "error": "", "error_form": "",
    }
    context.update(extra)
    return context


@login_required
@require_GET
def profile_change_detail(request, pk: int):
    change = profiles.profile_change_get(user=request.user, pk=pk)
    return render(request, "registry/profile_change_detail.html", _change_context(request, change))


@login_required
@require_GET
def profile_change_proof(request, pk: int):
    from rpms.core.uploads import proof_response

    change = profiles.profile_change_get(user=request.user, pk=pk)
    return proof_response(change.proof_path, download_name=change.proof_name, reader=request.user, obj=change)


def _decide(request, pk: int, form_name: str, fields: tuple[str, ...], action):
    change = profiles.profile_change_get(user=request.user, pk=pk)
    form = {name: request.POST.get(name, "").strip() for name in fields}
    try:
        message = action(change, form)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        change = profiles.profile_change_get(user=request.user, pk=pk)
        context = _change_context(request, change, form=form, error=exc.message, error_form=form_name)
        return render(request, "registry/profile_change_detail.html", context, status=exc.status)
    messages.success(request, message)
    return redirect("registry:profile_change_detail", pk)


@login_required
@require_POST
def profile_change_approve(request, pk: int):
    def action(change, form):
        if form["confirm"] != "1":
            raise DomainError("请勾选确认：核准后变更即记入档案并生效。", code="confirm_required")
        profiles.profile_change_approve(actor=request.user, change=change, note=form["note"])
        return f"已核准{change.planner.name}的资格信息变更，已记入个人档案并通知本人。"

    return _decide(request, pk, "approve", ("confirm", "note"), action)


@login_required
@require_POST
def profile_change_reject(request, pk: int):
    def action(change, form):
        if form["confirm"] != "1":
            raise DomainError("请勾选确认：不予核准后档案信息不变，本人将收到理由。", code="confirm_required")
        profiles.profile_change_reject(actor=request.user, change=change, reason=form["reason"])
        return f"已不予核准{change.planner.name}的资格信息变更，已通知本人。"

    return _decide(request, pk, "reject", ("confirm", "reason"), action)


# --- a team's page ---------------------------------------------------------------------------------------------


def _team_context(request, team, **extra) -> dict:
    policy = team.city.policy
    members = teams.member_rows(team)
    for member in members:
        member.specialty_text = policy.specialty_label(member.specialty) if member.specialty else ""
    context = {
        "team": team,
        "policy": policy,
        "members": members,
        "core_count": sum(1 for m in team.members.all() if m.is_core),
        "can_manage": teams.can_manage_team(request.user, team),
        # The team's dossier is read by its leader and the city's administrators and auditors (selectors.planner_get).
        "can_see_dossier": teams.is_leader(request.user, team) or is_city_wide(request.user, team.city),
        "is_city_admin": selectors.can_manage_pool(request.user, team.city),
        "core_cap_in_principle": policy.limit_in_principle("core_team_members"),
        "member_form": {}, "error": "", "error_form": "", "invite_url": "", "invite_member": None,
    }
    context.update(extra)
    return context


@login_required
@require_GET
def team_detail(request, pk: int):
    team = teams.team_get(user=request.user, pk=pk)
    return render(request, "registry/team.html", _team_context(request, team))


def _team_act(request, pk: int, form_name: str, form: dict, call, success):
    team = teams.team_get(user=request.user, pk=pk)
    try:
        result = call(team)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        team = teams.team_get(user=request.user, pk=pk)
        extra = {"error": exc.message, "error_form": form_name}
        if form_name == "add":
            extra["member_form"] = form
        return render(request, "registry/team.html", _team_context(request, team, **extra), status=exc.status)
    messages.success(request, success(result) if callable(success) else success)
    return redirect("registry:team", pk)


@login_required
@require_POST
def team_member_add(request, pk: int):
    form = {"name": request.POST.get("name", "").strip(), "specialty": request.POST.get("specialty", ""),
            "is_core": request.POST.get("is_core") == "on", "exception_reason": request.POST.get("exception_reason", "").strip()}

    def success(result):
        if isinstance(result, LimitException):
            return "核心成员超出上限的例外申请已提交市级主管部门审批，批准后登记该成员。"
        return f"已登记团队成员{result.name}。"

    return _team_act(request, pk, "add", form, lambda team: services.team_member_add(actor=request.user, planner=team, **form),
                     success)


@login_required
@require_POST
def team_member_remove(request, pk: int, member_id: int):
    def call(team):
        if request.POST.get("confirm") != "1":
            raise DomainError("请勾选确认：移除后该成员不再属于本团队。", code="confirm_required")
        return teams.team_member_remove(actor=request.user, team=team, member_id=member_id)

    return _team_act(request, pk, "member", {}, call, "已移除该团队成员，已记入档案。")


@login_required
@require_POST
def team_member_core(request, pk: int, member_id: int):
    is_core = request.POST.get("is_core") == "1"
    return _team_act(request, pk, "member", {},
                     lambda team: teams.team_member_core_set(actor=request.user, team=team, member_id=member_id, is_core=is_core),
                     lambda m: f"{m.name}{'已列为核心成员' if m.is_core else '已不再列为核心成员'}。")


@login_required
@require_POST
def team_leader_change(request, pk: int):
    member_id = request.POST.get("member", "")

    def call(team):
        if request.POST.get("confirm") != "1":
            raise DomainError("请勾选确认：变更后团队账户随负责人变更。", code="confirm_required")
        if not member_id:
            raise DomainError("请选择新的团队负责人。", code="member_required")
        return teams.team_leader_change(actor=request.user, team=team, member_id=member_id)

    return _team_act(request, pk, "leader", {}, call, lambda t: f"团队负责人已变更为{t.leader_name}。")


@login_required
@require_POST
def team_member_invite(request, pk: int, member_id: int):
    team = teams.team_get(user=request.user, pk=pk)
    try:
        member, token = teams.team_member_invite(actor=request.user, team=team, member_id=member_id)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        return render(request, "registry/team.html", _team_context(request, team, error=exc.message, error_form="member"),
                      status=exc.status)
    url = request.build_absolute_uri(reverse("registry:team_join", args=[token]))
    # Shown once, on this answer only: the link is not stored (only its digest).
    return render(request, "registry/team.html", _team_context(request, team, invite_url=url, invite_member=member))


@login_required
@require_http_methods(["GET", "POST"])
def team_join(request, token: str):
    member = teams.invitation_get(token)
    context = {"member": member, "team": member.planner, "token": token, "error": ""}
    if request.method == "GET":
        return render(request, "registry/team_join.html", context)
    try:
        teams.team_member_join(actor=request.user, token=token)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        return render(request, "registry/team_join.html", {**context, "error": exc.message}, status=exc.status)
    messages.success(request, f"您的账户已关联{member.planner.name}（团队成员{member.name}）。")
    return redirect("registry:team", member.planner_id)
