"""Account management pages of the system and security administrators (/accounts/manage/…; 三权分立,
GB/T 22239-2019 8.1.5). The services in rpms.accounts.administration decide and check their actor; these pages
gather input, show a refusal next to the form with everything typed (passwords excepted), and answer 403 to
every other role — the audit administrator and the Django superuser included."""
from __future__ import annotations

from itertools import groupby

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.excel import workbook_response
from rpms.core.paging import page_of
from rpms.core.web import act, typed

from . import administration as admin_services
from .administration import INSTITUTION_ROLES
from .models import Role

PAGE_SIZE = 30
LIST_FILTERS = ("q", "role", "status")
STATUS_CHOICES = (("active", "启用"), ("inactive", "已停用"), ("locked", "已锁定"))

# Which form field a service refusal belongs to, so its message appears next to it.
_ERROR_FIELDS = {
    "invalid_username": "username",
    "username_taken": "username",
    "invalid_display_name": "display_name",
    "invalid_email": "email",
    "invalid_city": "city",
    "city_required": "city",
    "weak_password": "password1",
    "invalid_role": "role",
    "district_outside_city": "districts",
    "district_required": "districts",
    "subdistrict_outside_city": "subdistricts",
    "subdistrict_required": "subdistricts",
}


def _run(form, call):
    """`call()`'s result, or None with the service's refusal attached to its field (403/404 go on to the
    error page)."""
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


def _city_choices(empty_label: str):
    return [("", empty_label)] + [(str(c.pk), c.name) for c in admin_services.assignable_cities()]


# --- forms -----------------------------------------------------------------------------------------------------

class AccountCreateForm(forms.Form):
    username = forms.CharField(
        label="用户名", max_length=150, help_text="用于登录，可使用字母、数字和 @ . + - _，不区分大小写。",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}))
    display_name = forms.CharField(label="姓名或机构名称", max_length=100)
    email = forms.EmailField(label="电子邮箱（选填）", required=False, max_length=254,
                             error_messages={"invalid": "电子邮箱格式不正确。"})
    city = forms.ChoiceField(label="所属城市", required=False,
                             help_text="审计员等不属于某一城市的账户可不选。角色和管辖范围由安全管理员分配。")
    password1 = forms.CharField(
        label="初始密码（选填）", required=False, strip=False,
        help_text="留空则由系统生成一个随机密码，只显示一次。出于安全考虑，提交未成功时需重新输入密码。",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label="确认初始密码", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].choices = _city_choices("不属于某一城市")
        self.fields["city"].error_messages["invalid_choice"] = "所选城市不存在或未启用。"
        for field in self.fields.values():
            field.error_messages["required"] = f"请填写{field.label}。"
            field.error_messages["max_length"] = f"{field.label}不能超过 %(limit_value)d 个字符。"

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if (first or second) and first != second:
            self.add_error("password2", "两次输入的密码不一致。")
        return cleaned


class AccountProfileForm(forms.Form):
    display_name = forms.CharField(label="姓名或机构名称", max_length=100,
                                   error_messages={"required": "请填写姓名或机构名称。",
                                                   "max_length": "姓名或机构名称不能超过 100 个字符。"})
    email = forms.EmailField(label="电子邮箱（选填）", required=False, max_length=254,
                             error_messages={"invalid": "电子邮箱格式不正确。", "max_length": "电子邮箱不能超过 254 个字符。"})


class RoleScopeForm(forms.Form):
    role = forms.ChoiceField(label="角色", required=False,
                             help_text="系统管理员、安全管理员、审计管理员只能在系统安装时设置，不在此列。")
    city = forms.ChoiceField(label="所属城市", required=False, help_text="审计员不选城市即可查看全部城市。")
    districts = forms.MultipleChoiceField(label="负责的区（区级工作人员）", required=False,
                                          help_text="须属于所选城市，可多选（电脑上按住 Ctrl 或 ⌘ 键点选）。")
    subdistricts = forms.MultipleChoiceField(label="所属街道乡镇（聘任主体）", required=False,
                                             help_text="须属于所选城市。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "无角色（不能办理业务）")] + [(r.value, r.label) for r in INSTITUTION_ROLES]
        self.fields["role"].error_messages["invalid_choice"] = "所选角色不存在或不能在此分配。"
        self.fields["city"].choices = _city_choices("不属于某一城市")
        self.fields["city"].error_messages["invalid_choice"] = "所选城市不存在或未启用。"
        self.fields["districts"].choices = [
            (city.name, [(str(d.pk), d.name) for d in group])
            for city, group in groupby(admin_services.assignable_districts(), key=lambda d: d.city)
        ]
        self.fields["districts"].error_messages["invalid_choice"] = "所选的区不存在。"
        self.fields["subdistricts"].choices = [
            (f"{district.city.name} · {district.name}", [(str(s.pk), s.name) for s in group])
            for district, group in groupby(admin_services.assignable_subdistricts(), key=lambda s: s.district)
        ]
        self.fields["subdistricts"].error_messages["invalid_choice"] = "所选的街道乡镇不存在。"
        for name in ("districts", "subdistricts"):
            self.fields[name].widget.attrs["size"] = 8


# --- pages -----------------------------------------------------------------------------------------------------

@require_GET
@never_cache
@login_required
def manage_list(request):
    admin_services.require_manager(request.user)
    filters = typed(request.GET, LIST_FILTERS)
    accounts = admin_services.account_list(actor=request.user, **filters)
    rows, pager = page_of(request, accounts, size=PAGE_SIZE)
    return render(request, "accounts/manage/list.html", {
        "accounts": rows, "pager": pager, "filters": filters, "is_filtered": any(filters.values()),
        "roles": Role.choices, "statuses": STATUS_CHOICES, "now": clock.now(),
    })


EXPORT_HEADERS = ["用户名", "姓名或机构名称", "角色", "所属城市", "电子邮箱", "状态", "锁定至", "最近登录", "开设时间"]
EXPORT_WIDTHS = [20, 28, 16, 12, 28, 10, 20, 20, 20]


@require_GET
@never_cache
@login_required
def manage_export(request):
    admin_services.require_manager(request.user)
    filters = typed(request.GET, LIST_FILTERS)
    accounts = admin_services.account_list(actor=request.user, **filters)
    admin_services.account_export_record(actor=request.user, rows=accounts.count(), filters=filters)
    now = clock.now()
    rows = (
        (u.username, u.display_name, u.get_role_display() or "无角色", u.city.name if u.city_id else "",
         u.email, "启用" if u.is_active else "已停用", u.locked_until if u.is_locked(now) else None,
         u.last_login, u.date_joined)
        for u in accounts.iterator(chunk_size=2000)
    )
    stamp = clock.localtime().strftime("%Y%m%d-%H%M")
    return workbook_response(f"账户列表-{stamp}.xlsx", "账户列表", EXPORT_HEADERS, rows, widths=EXPORT_WIDTHS)


@sensitive_post_parameters("password1", "password2")
@never_cache
@login_required
def manage_create(request):
    admin_services.require_system_admin(request.user)
    form = AccountCreateForm(data=request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        result = _run(form, lambda: admin_services.account_create(
            actor=request.user, username=data["username"], display_name=data["display_name"],
            email=data.get("email") or "", city=data.get("city") or None, password=data.get("password1") or None))
        if result is not None:
            account, generated = result
            # Shown once, in this answer only: never flashed (a message may sit in a cookie) nor stored.
            return render(request, "accounts/manage/password_shown.html",
                          {"account": account, "password": generated, "created": True}, status=201)
    return render(request, "accounts/manage/create.html",
                  {"form": form, "password_rules": password_validators_help_texts()}, status=_status(form))


@require_GET
@never_cache
@login_required
def manage_detail(request, pk):
    account = admin_services.account_get(actor=request.user, pk=pk)
    changeable = account.pk != request.user.pk and account.role not in admin_services.ADMIN_ROLES
    return render(request, "accounts/manage/detail.html", {
        "account": account,
        "is_system_admin": request.user.role == Role.SYSTEM_ADMIN,
        "is_security_admin": request.user.role == Role.SECURITY_ADMIN,
        "changeable": changeable,
        "is_self": account.pk == request.user.pk,
        "is_locked": account.is_locked(),
    })


def _changeable_account(request, pk, require):
    require(request.user)
    account = admin_services.account_get(actor=request.user, pk=pk)
    admin_services.check_changeable(request.user, account)
    return account


@never_cache
@login_required
def manage_edit(request, pk):
    account = _changeable_account(request, pk, admin_services.require_system_admin)
    if request.method == "POST":
        form = AccountProfileForm(data=request.POST)
        if form.is_valid() and _run(form, lambda: admin_services.account_profile_update(
                actor=request.user, user=account, display_name=form.cleaned_data["display_name"],
                email=form.cleaned_data.get("email") or "")) is not None:
            messages.success(request, f"已保存账户 {account.username} 的资料。")
            return redirect("accounts:manage_detail", pk=account.pk)
    else:
        form = AccountProfileForm(initial={"display_name": account.display_name, "email": account.email})
    return render(request, "accounts/manage/edit.html", {"form": form, "account": account}, status=_status(form))


@never_cache
@login_required
def manage_role(request, pk):
    account = _changeable_account(request, pk, admin_services.require_security_admin)
    if request.method == "POST":
        form = RoleScopeForm(data=request.POST)
        if form.is_valid():
            data = form.cleaned_data
            districts = list(admin_services.assignable_districts().filter(pk__in=data["districts"]))
            subdistricts = list(admin_services.assignable_subdistricts().filter(pk__in=data["subdistricts"]))
            done = _run(form, lambda: admin_services.account_role_assign(
                actor=request.user, user=account, role=data["role"], city=data.get("city") or None,
                districts=districts, subdistricts=subdistricts))
            if done is not None:
                messages.success(request, f"已更新账户 {account.username} 的角色和管辖范围。")
                return redirect("accounts:manage_detail", pk=account.pk)
    else:
        form = RoleScopeForm(initial={
            "role": account.role, "city": str(account.city_id or ""),
            "districts": [str(d.pk) for d in account.districts.own()],
            "subdistricts": [str(s.pk) for s in account.subdistricts.own()],
        })
    return render(request, "accounts/manage/role.html", {"form": form, "account": account}, status=_status(form))


def _button(request, pk, call, success):
    account = admin_services.account_get(actor=request.user, pk=pk)
    return act(request, lambda: call(actor=request.user, user=account), success=success,
               redirect_to=reverse("accounts:manage_detail", args=[account.pk]))


@require_POST
@login_required
def manage_deactivate(request, pk):
    admin_services.require_system_admin(request.user)
    return _button(request, pk, admin_services.account_deactivate, lambda u: f"已停用账户 {u.username}。")


@require_POST
@login_required
def manage_reactivate(request, pk):
    admin_services.require_system_admin(request.user)
    return _button(request, pk, admin_services.account_reactivate, lambda u: f"已重新启用账户 {u.username}。")


@require_POST
@login_required
def manage_unlock(request, pk):
    admin_services.require_security_admin(request.user)
    return _button(request, pk, admin_services.account_unlock, lambda u: f"已解除账户 {u.username} 的登录锁定。")


@require_POST
@never_cache
@login_required
def manage_password_reset(request, pk):
    admin_services.require_system_admin(request.user)
    account = admin_services.account_get(actor=request.user, pk=pk)
    account, password = admin_services.account_password_reset(actor=request.user, user=account)
    return render(request, "accounts/manage/password_shown.html", {"account": account, "password": password, "created": False})
