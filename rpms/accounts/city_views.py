"""Pages of issue #17 item 7: the city administrator's accounts of its city (/accounts/city/…) and the officers'
delegations (/accounts/delegations/…). The services (rpms.accounts.city_accounts, rpms.accounts.delegation)
decide and check their actor; these pages gather input, keep everything typed when a service refuses (with
its Chinese message next to the field), and show a generated password once."""
from __future__ import annotations

from itertools import groupby

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.excel import workbook_response
from rpms.core.paging import page_of
from rpms.core.web import act, typed

from . import city_accounts as services
from . import delegation as delegations
from .models import Role

PAGE_SIZE = 30
LIST_FILTERS = ("q", "role", "district", "status")
ROLE_CHOICES = [(r.value, r.label) for r in services.CITY_MANAGED_ROLES]

_ERROR_FIELDS = {
    "invalid_username": "username", "username_taken": "username", "invalid_display_name": "display_name",
    "invalid_email": "email", "invalid_role": "role", "district_required": "districts",
    "district_outside_city": "districts", "subdistrict_required": "subdistricts",
    "subdistrict_outside_city": "subdistricts", "invalid_scope": "districts",
    "delegate_required": "delegate", "delegate_self": "delegate", "delegate_other_city": "delegate",
    "delegate_other_role": "delegate", "delegate_inactive": "delegate", "invalid_date": "starts_on",
    "invalid_period": "ends_on", "period_past": "ends_on", "period_too_long": "ends_on",
    "reason_required": "reason",
}


def _run(form, call):
    """`call()`'s result, or None with the refusal next to its field (403/404 go on to the error page)."""
    try:
        return call()
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        field = _ERROR_FIELDS.get(exc.code)
        form.add_error(field if field in form.fields else None, exc.message)
        form.refusal_status = exc.status
        return None


def _status(form) -> int:
    return getattr(form, "refusal_status", 400) if form.is_bound else 200


def _chinese_errors(form):
    for field in form.fields.values():
        field.error_messages["required"] = f"请填写{field.label}。"
        field.error_messages.setdefault("max_length", f"{field.label}不能超过 %(limit_value)d 个字符。")
        field.error_messages["max_length"] = f"{field.label}不能超过 %(limit_value)d 个字符。"
        field.error_messages["invalid_choice"] = f"所选的{field.label}不存在。"
        field.error_messages["invalid"] = f"{field.label}格式不正确。"


# --- the city administrator's accounts -------------------------------------------------------------------------------

class CityAccountForm(forms.Form):
    username = forms.CharField(
        label="用户名", max_length=150, help_text="用于登录，可使用字母、数字和 @ . + - _，不区分大小写。",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}))
    display_name = forms.CharField(label="姓名或机构名称", max_length=100)
    email = forms.EmailField(label="电子邮箱（选填）", required=False, max_length=254)
    role = forms.ChoiceField(label="角色", choices=ROLE_CHOICES, widget=forms.RadioSelect,
                             help_text="区级工作人员选择负责的区；聘任主体选择所属的街道乡镇。")
    districts = forms.MultipleChoiceField(label="负责的区（区级工作人员）", required=False,
                                          widget=forms.CheckboxSelectMultiple)
    subdistricts = forms.MultipleChoiceField(label="所属街道乡镇（聘任主体）", required=False,
                                             help_text="可多选（电脑上按住 Ctrl 或 ⌘ 键点选）。")

    def __init__(self, *args, actor, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["username"]
        self.fields["districts"].choices = [(str(d.pk), d.name) for d in services.city_districts(actor)]
        self.fields["subdistricts"].choices = [
            (district.name, [(str(s.pk), s.name) for s in group])
            for district, group in groupby(services.city_subdistricts(actor), key=lambda s: s.district)
        ]
        self.fields["subdistricts"].widget.attrs["size"] = 10
        _chinese_errors(self)
        self.fields["role"].error_messages["required"] = "请选择角色。"
        self.fields["role"].error_messages["invalid_choice"] = "角色只能是区级工作人员或聘任主体。"
        self.fields["email"].error_messages["invalid"] = "电子邮箱格式不正确。"
        self.fields["districts"].error_messages["invalid_choice"] = f"所选的区不存在或不属于{actor.city.name}。"
        self.fields["subdistricts"].error_messages["invalid_choice"] = f"所选的街道乡镇不存在或不属于{actor.city.name}。"


def _scope_args(data) -> dict:
    role = data["role"]
    return {"role": role,
            "districts": (data.get("districts") or []) if role == Role.DISTRICT_OFFICER else [],
            "subdistricts": (data.get("subdistricts") or []) if role == Role.HIRING_ENTITY else []}


@require_GET
@never_cache
@login_required
def city_account_list(request):
    services.require_city_admin(request.user)
    filters = typed(request.GET, LIST_FILTERS)
    accounts = services.city_account_list(actor=request.user, **filters)
    rows, pager = page_of(request, accounts, size=PAGE_SIZE)
    return render(request, "accounts/city/list.html", {
        "accounts": rows, "pager": pager, "filters": filters, "is_filtered": any(filters.values()),
        "roles": ROLE_CHOICES, "statuses": services.STATUS_CHOICES,
        "districts": services.city_districts(request.user),
    })


EXPORT_HEADERS = ["用户名", "姓名或机构名称", "角色", "负责的区", "所属街道乡镇", "电子邮箱", "状态", "最近登录", "开设时间"]
EXPORT_WIDTHS = [20, 28, 14, 24, 36, 28, 10, 20, 20]


@require_GET
@never_cache
@login_required
def city_account_export(request):
    services.require_city_admin(request.user)
    filters = typed(request.GET, LIST_FILTERS)
    accounts = services.city_account_list(actor=request.user, **filters)
    services.city_account_export_record(actor=request.user, rows=accounts.count(), filters=filters)
    rows = (
        (u.username, u.display_name, u.get_role_display(), "、".join(d.name for d in u.districts.all()),
         "、".join(s.name for s in u.subdistricts.all()), u.email, "启用" if u.is_active else "已停用",
         u.last_login, u.date_joined)
        for u in accounts
    )
    stamp = clock.localtime().strftime("%Y%m%d-%H%M")
    return workbook_response(f"本市机构账户-{stamp}.xlsx", "机构账户", EXPORT_HEADERS, rows, widths=EXPORT_WIDTHS)


@never_cache
@login_required
def city_account_create(request):
    services.require_city_admin(request.user)
    form = CityAccountForm(data=request.POST if request.method == "POST" else None, actor=request.user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        result = _run(form, lambda: services.city_account_create(
            actor=request.user, username=data["username"], display_name=data["display_name"],
            email=data.get("email") or "", **_scope_args(data)))
        if result is not None:
            account, password = result
            # Shown once, in this answer only: never flashed (a message may sit in a cookie) nor stored.
            return render(request, "accounts/city/password_shown.html",
                          {"account": account, "password": password, "created": True}, status=201)
    return render(request, "accounts/city/form.html", {"form": form, "creating": True}, status=_status(form))


@require_GET
@never_cache
@login_required
def city_account_detail(request, pk):
    account = services.city_account_get(actor=request.user, pk=pk)
    given = delegations.delegation_list(actor=request.user).filter(delegator=account)[:20]
    received = delegations.delegation_list(actor=request.user).filter(delegate=account)[:20]
    return render(request, "accounts/city/detail.html", {"account": account, "given": given, "received": received})


@never_cache
@login_required
def city_account_edit(request, pk):
    account = services.city_account_get(actor=request.user, pk=pk)
    if request.method == "POST":
        form = CityAccountForm(data=request.POST, actor=request.user, editing=True)
        if form.is_valid() and _run(form, lambda: services.city_account_update(
                actor=request.user, user=account, display_name=form.cleaned_data["display_name"],
                email=form.cleaned_data.get("email") or "", **_scope_args(form.cleaned_data))) is not None:
            messages.success(request, f"已保存{account.display_name}的账户资料和管辖范围。")
            return redirect("accounts:city_account_detail", pk=account.pk)
    else:
        form = CityAccountForm(actor=request.user, editing=True, initial={
            "display_name": account.display_name, "email": account.email, "role": account.role,
            "districts": [str(d.pk) for d in account.districts.own()],
            "subdistricts": [str(s.pk) for s in account.subdistricts.own()],
        })
    return render(request, "accounts/city/form.html", {"form": form, "account": account}, status=_status(form))


def _button(request, pk, call, success):
    account = services.city_account_get(actor=request.user, pk=pk)
    return act(request, lambda: call(actor=request.user, user=account), success=success,
               redirect_to=reverse("accounts:city_account_detail", args=[account.pk]))


@require_POST
@login_required
def city_account_deactivate(request, pk):
    return _button(request, pk, services.city_account_deactivate, lambda u: f"已停用{u.display_name}的账户。")


@require_POST
@login_required
def city_account_reactivate(request, pk):
    return _button(request, pk, services.city_account_reactivate, lambda u: f"已重新启用{u.display_name}的账户。")


@require_POST
@never_cache
@login_required
def city_account_password_reset(request, pk):
    account = services.city_account_get(actor=request.user, pk=pk)
    account, password = services.city_account_password_reset(actor=request.user, user=account)
    return render(request, "accounts/city/password_shown.html", {"account": account, "password": password})


# --- delegations -----------------------------------------------------------------------------------------------------

class DelegationForm(forms.Form):
    delegate = forms.ChoiceField(label="代理人", help_text="同一城市、同一角色的同事。")
    starts_on = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}),
                              help_text="含当天；委托期间代理人可查看和办理您负责范围内的事项，待办事项一并转给代理人。")
    reason = forms.CharField(label="委托事由", max_length=delegations.REASON_MAX,
                             widget=forms.Textarea(attrs={"rows": 2}), help_text="如：休假、出差、外出培训。")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].choices = [("", "请选择")] + [
            (str(u.pk), _colleague_label(u)) for u in delegations.colleagues(actor).prefetch_related("districts")]
        _chinese_errors(self)
        self.fields["delegate"].error_messages["required"] = "请选择代理人。"
        self.fields["delegate"].error_messages["invalid_choice"] = "所选代理人不是本市同一角色的同事。"
        for name in ("starts_on", "ends_on"):
            self.fields[name].error_messages["invalid"] = f"请填写有效的{self.fields[name].label}（格式如 2026-03-01）。"


def _colleague_label(user) -> str:
    districts = "、".join(d.name for d in user.districts.all())
    return f"{user}（{districts}）" if districts else str(user)


@never_cache
@login_required
def delegation_list(request):
    user = request.user
    if not delegations.may_use_delegations(user):
        raise Forbidden("只有区级工作人员、聘任主体和市级管理员可以查看工作委托。")
    form = None
    if delegations.can_delegate(user):
        form = DelegationForm(data=request.POST if request.method == "POST" else None, actor=user)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            done = _run(form, lambda: delegations.delegation_create(
                actor=user, delegate=data["delegate"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                reason=data["reason"]))
            if done is not None:
                messages.success(request, f"已委托{done.delegate}在 {done.starts_on:%Y-%m-%d} 至 {done.ends_on:%Y-%m-%d} "
                                          "代为办理。")
                return redirect("accounts:delegation_list")
    elif request.method == "POST":
        raise Forbidden("只有区级工作人员和聘任主体可以委托同事代为办理。")
    rows, pager = page_of(request, delegations.delegation_list(actor=user), size=PAGE_SIZE)
    return render(request, "accounts/delegations.html", {
        "form": form, "delegations": rows, "pager": pager, "today": clock.today(),
        "is_city_admin": user.role == Role.CITY_ADMIN,
    }, status=_status(form) if form is not None else 200)


@require_POST
@login_required
def delegation_revoke(request, pk):
    found = delegations.delegation_get(actor=request.user, pk=pk)
    return act(request, lambda: delegations.delegation_revoke(actor=request.user, delegation=found),
               success=lambda d: f"已撤销{d.delegator}对{d.delegate}的委托。",
               redirect_to=reverse("accounts:delegation_list"))
