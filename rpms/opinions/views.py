"""Written opinion pages (/opinions/).

Planners: their opinions, the draft form, the declaration of interests, issuing, corrections.
Hiring entities and district officers: "收到的书面意见" with read receipts; recording the design
unit's response and departments' answers. City administrators and auditors read. Nothing is public."""
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.confirm import confirm_first
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.excel import workbook_response
from rpms.core.paging import CappedPaginator, capped_count
from rpms.core.params import is_digits
from rpms.core.web import act
from rpms.geography.models import ResponsibilityUnit

from . import permissions, selectors, services
from .models import OpinionImmutable, OpinionStatus, Responder, ResponseOutcome, SubjectKind

FORM_FIELDS = ("title", "subject", "subject_kind", "developer", "design_unit", "findings", "recommendations")
READER_ROLES = (Role.PLANNER, Role.HIRING_ENTITY, Role.DISTRICT_OFFICER, Role.CITY_ADMIN, Role.AUDITOR)


def _require_reader(user):
    if not (user.is_superuser or user.role in READER_ROLES):
        raise Forbidden("您的角色无权查看书面意见。")


def _require_planner(user):
    if user.role != Role.PLANNER:
        raise Forbidden("只有责任规划师可以起草书面意见。")


# --- lists ------------------------------------------------------------------------------------------


@login_required
@require_GET
def opinion_list(request):
    _require_reader(request.user)
    status = request.GET.get("status", "")
    opinions = selectors.opinion_list(user=request.user, status=status)
    if request.GET.get("format") == "xlsx":
        return workbook_response(
            "书面意见.xlsx", "书面意见",
            ["文书编号", "标题", "审查对象", "对象类型", "区", "责任单元", "责任规划师", "版本", "状态", "出具时间", "内容摘要"],
            ([o.document.number if o.document else "", o.title, o.subject, o.get_subject_kind_display(),
              o.unit.district.name, o.unit.name, o.planner.name, o.version, o.get_status_display(), o.issued_at,
              o.content_hash] for o in opinions.iterator()),
        )
    page = CappedPaginator(opinions, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(request, "opinions/list.html", {
        "opinions": page.object_list,
        "page_obj": page,
        "query": query.urlencode(),
        "status": status,
        "statuses": OpinionStatus.choices,
        "is_planner": request.user.role == Role.PLANNER,
        # drafting needs a posting served today (opinion_new answers 403 otherwise: after a termination, or
        # before the first appointment), so the link is shown only then
        "can_draft": request.user.role == Role.PLANNER and selectors.serving_appointments(request.user).exists(),
        "has_inbox": selectors.inbox_q(request.user) is not None,
    })


@login_required
@require_GET
def inbox(request):
    if selectors.inbox_q(request.user) is None:
        raise Forbidden("“收到的书面意见”供聘任主体和区级工作人员使用。")
    unread_only = request.GET.get("unread") == "1"
    page = CappedPaginator(selectors.opinion_inbox(user=request.user, unread_only=unread_only),
                           selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    if unread_only:
        unread, unread_capped = page.paginator.count, page.paginator.capped
    else:  # every unread opinion of the inbox, not only this page's (counted apart, at most COUNT_CAP)
        unread, unread_capped = capped_count(selectors.opinion_inbox(user=request.user, unread_only=True))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "opinions/inbox.html", {
        "opinions": page.object_list,
        "page_obj": page,
        "query": query.urlencode(),
        "unread_only": unread_only,
        "unread": unread,
        "unread_capped": unread_capped,
    })


# --- drafting ---------------------------------------------------------------------------------------


def _form_data(post) -> dict:
    data = {key: post.get(key, "") for key in FORM_FIELDS}
    data["reviewed_documents"] = [line.strip() for line in post.get("reviewed_documents", "").splitlines() if line.strip()]
    data["departments"] = post.getlist("departments")
    return data


def _form_context(*, unit, units, form, opinion=None, **extra):
    context = {
        "unit": unit,
        "units": units,
        "opinion": opinion,
        "form": form,
        "reviewed_text": "\n".join(form.get("reviewed_documents") or []),
        "chosen_departments": {str(d) for d in form.get("departments") or []},
        "departments": list(selectors.department_choices(unit)) if unit else [],
        "subject_kinds": SubjectKind.choices,
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def opinion_new(request):
    _require_planner(request.user)
    units = selectors.serving_units(request.user)
    if not units:
        raise Forbidden("您当前没有在任的派驻聘任，不能起草书面意见。")
    wanted = (request.POST.get("unit") or request.GET.get("unit") or "").strip()
    unit = next((u for u in units if str(u.pk) == wanted), None) or units[0]
    if request.method == "GET":
        return render(request, "opinions/form.html",
                      _form_context(unit=unit, units=units, form={"subject_kind": SubjectKind.DESIGN_SCHEME}))
    form = _form_data(request.POST)
    if request.POST.get("action") == "choose_unit":
        return render(request, "opinions/form.html", _form_context(unit=unit, units=units, form=form))
    if wanted and str(unit.pk) != wanted:
        # A unit the planner does not serve: the service says so (403); never silently switch units.
        unit = ResponsibilityUnit.objects.select_related("city", "district").filter(pk=wanted).first() if is_digits(wanted) else None
        if unit is None:
            raise NotFound("责任单元不存在。")
    return act(
        request,
        lambda: services.opinion_create(actor=request.user, unit=unit, **form),
        success="草稿已保存。出具前请作出利益冲突声明。",
        redirect_to=lambda opinion: resolve_url("opinions:detail", pk=opinion.pk),
        on_refusal=lambda exc: render(request, "opinions/form.html", _form_context(unit=unit, units=units, form=form, error=exc.message),
                      status=exc.status),
    )


@login_required
@require_http_methods(["GET", "POST"])
def opinion_edit(request, pk):
    opinion = selectors.opinion_get(user=request.user, pk=pk)
    if not permissions.can_edit(request.user, opinion):
        if permissions.is_author(request.user, opinion):
            raise OpinionImmutable()
        raise Forbidden("只有起草人可以修改书面意见草稿。")
    if request.method == "GET":
        form = {key: getattr(opinion, key) for key in FORM_FIELDS}
        form["reviewed_documents"] = list(opinion.reviewed_documents or [])
        form["departments"] = [d.pk for d in opinion.departments.all()]
        return render(request, "opinions/form.html", _form_context(unit=opinion.unit, units=[opinion.unit], form=form,
                                                                    opinion=opinion))
    form = _form_data(request.POST)
    return act(
        request,
        lambda: services.opinion_update(actor=request.user, opinion=opinion, data=form),
        success="草稿已更新。",
        redirect_to=resolve_url("opinions:detail", pk=opinion.pk),
        on_refusal=lambda exc: render(request, "opinions/form.html", _form_context(unit=opinion.unit, units=[opinion.unit], form=form,
                                                                    opinion=opinion, error=exc.message),
                      status=exc.status),
    )


# --- detail and acts --------------------------------------------------------------------------------


def _detail_context(request, opinion, **extra):
    user = request.user
    is_author = permissions.is_author(user, opinion)
    responses = list(opinion.responses.all())
    answered = {r.department_id for r in responses if r.responder == Responder.DEPARTMENT}
    context = {
        "opinion": opinion,
        "versions": selectors.opinion_versions(opinion, include_draft=is_author),
        "newer": opinion.newer_version(include_draft=is_author),
        "is_author": is_author,
        "can_edit": permissions.can_edit(user, opinion),
        "can_supersede": is_author and opinion.status == OpinionStatus.ISSUED and opinion.newer_version(include_draft=True) is None,
        "can_respond": permissions.can_record_response(user, opinion),
        "responses": responses,
        "design_unit_answered": any(r.responder == Responder.DESIGN_UNIT for r in responses),
        "open_departments": [d for d in opinion.departments.all() if d.pk not in answered],
        "outcomes": ResponseOutcome.choices,
        "show_receipts": opinion.status != OpinionStatus.DRAFT and (is_author or not permissions.is_hiring_entity_of(user, opinion.unit)),
        "receipts": list(opinion.receipts.all()),
        "today": clock.today().isoformat(),
        "declaration_preview": services.declaration_text(opinion, "") if opinion.declaration_made else "",
    }
    context.update(extra)
    return context


@login_required
@require_GET
def opinion_detail(request, pk):
    opinion = selectors.opinion_get(user=request.user, pk=pk)
    if permissions.is_recipient(request.user, opinion):
        # Opening it is reading it: the receipt (who/when) is recorded once.
        services.opinion_mark_read(actor=request.user, opinion=opinion)
        opinion = selectors.opinion_get(user=request.user, pk=pk)
    return render(request, "opinions/detail.html", _detail_context(request, opinion))


def _act(request, pk, call, success: str, *, redirect_to=None):
    """Runs one act on the opinion; a refusal is shown on the detail page with its status."""
    opinion = selectors.opinion_get(user=request.user, pk=pk)

    def refused(exc):
        fresh = selectors.opinion_get(user=request.user, pk=pk)
        return render(request, "opinions/detail.html", _detail_context(request, fresh, error=exc.message),
                      status=exc.status)

    return act(request, lambda: call(opinion), success=success, on_refusal=refused,
               redirect_to=lambda result: resolve_url("opinions:detail", pk=redirect_to(result) if redirect_to else pk))


@login_required
@require_POST
def opinion_declare(request, pk):
    choice = request.POST.get("has_conflict")

    def act(opinion):
        if choice not in ("0", "1"):
            raise DomainError("请选择是否存在利益冲突。", code="invalid_field")
        return services.opinion_interest_declare(actor=request.user, opinion=opinion, has_conflict=choice == "1",
                                                 note=request.POST.get("note", ""))

    return _act(request, pk, act, "利益冲突声明已记录。")


@login_required
@require_POST
def opinion_issue(request, pk):
    """Issuing asks for confirmation on a page saying what will follow (issue #17 item 5)."""
    opinion = selectors.opinion_get(user=request.user, pk=pk)
    if not (permissions.is_author(request.user, opinion) and opinion.status == OpinionStatus.DRAFT
            and opinion.declaration_made and not opinion.has_conflict):
        # what cannot be issued is refused at once, without asking first
        return _act(request, pk, lambda o: services.opinion_issue(actor=request.user, opinion=o), "")
    departments = "、".join(d.name for d in opinion.departments.all())
    article = policy_article(opinion.city, "opinion")
    waiting = confirm_first(
        request, title=f"出具书面意见“{opinion.title}”", back_to=resolve_url("opinions:detail", pk=pk),
        button="确认出具",
        consequences=[
            f"书面意见的内容即冻结，不能再修改、撤回或删除（{article}）；如需更正，只能另行出具更正版本替代。",
            "生成文书编号、核验码和 PDF，收到文书的单位可凭核验码在“文书核验”页面核验真伪。",
            f"即送达聘任主体{('和抄送部门（' + departments + '）') if departments else ''}，由其记录阅读回执和采纳情况。",
            "更正版本出具后，被替代的原意见标记为“已被更正版本替代”。" if opinion.supersedes_id else "",
        ],
        summary=[("标题", opinion.title), ("审查对象", opinion.subject), ("版本", f"第 {opinion.version} 版")],
    )
    if waiting is not None:
        return waiting
    return _act(request, pk, lambda o: services.opinion_issue(actor=request.user, opinion=o),
                "书面意见已出具，已送达聘任主体和抄送部门。出具后不可修改。")


@login_required
@require_POST
def opinion_supersede(request, pk):
    return _act(request, pk,
                lambda o: services.opinion_supersede(actor=request.user, opinion=o, reason=request.POST.get("reason", "")),
                "已起草更正版本。出具后，原意见将标记为“已被更正版本替代”。", redirect_to=lambda draft: draft.pk)


@login_required
@require_POST
def opinion_discard(request, pk):
    opinion = selectors.opinion_get(user=request.user, pk=pk)
    services.opinion_discard(actor=request.user, opinion=opinion)
    messages.success(request, "草稿已删除。")
    return redirect("opinions:list")


@login_required
@require_POST
def opinion_response(request, pk):
    def act(opinion):
        responded_on = None
        raw = request.POST.get("responded_on", "").strip()
        if raw:
            try:
                responded_on = dt.date.fromisoformat(raw)
            except ValueError:
                raise DomainError("反馈日期格式不正确，应为 YYYY-MM-DD。", code="invalid_date") from None
        department = request.POST.get("department", "").strip()
        return services.opinion_response_record(
            actor=request.user, opinion=opinion, responder=request.POST.get("responder", ""),
            outcome=request.POST.get("outcome", ""), reasons=request.POST.get("reasons", ""),
            responded_on=responded_on, department_id=int(department) if is_digits(department) else None,
        )

    return _act(request, pk, act, "反馈已记录。")


@login_required
@require_POST
def attachment_upload(request, pk):
    return _act(request, pk, lambda o: services.opinion_attachment_add(
        actor=request.user, opinion=o, file=request.FILES.get("file"), title=request.POST.get("title", "")),
        "审查文件已上传。")


@login_required
@require_POST
def attachment_remove(request, pk, attachment_pk):
    return _act(request, pk, lambda o: services.opinion_attachment_remove(
        actor=request.user, opinion=o, attachment_id=attachment_pk), "审查文件已删除。")


@login_required
@require_GET
def attachment_download(request, pk, attachment_pk):
    from rpms.core.uploads import proof_response

    opinion = selectors.opinion_get(user=request.user, pk=pk)
    attachment = next((a for a in opinion.attachments.all() if a.pk == attachment_pk), None)
    if attachment is None:
        raise NotFound("附件不存在。")
    return proof_response(attachment.path, download_name=attachment.original_name, reader=request.user, obj=attachment)


@login_required
@require_GET
def opinion_pdf(request, pk):
    from rpms.documents.rendering import document_pdf_response

    opinion = selectors.opinion_get(user=request.user, pk=pk)
    if opinion.document is None:
        raise NotFound("草稿尚未出具，没有 PDF 文书。")
    return document_pdf_response(opinion.document,
                                 filename=f"{opinion.title}-第{opinion.version}版-{opinion.document.number}.pdf")
