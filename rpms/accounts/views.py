from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth import password_validation
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from urllib.parse import urlencode


from rpms.core.errors import DomainError
from rpms.core.ratelimit import client_key, rate_limit_hit

from .forms import PlannerRegistrationForm
from .services import LOGIN_FAILED_MESSAGE, logout_record, password_change, register_rate
from .twofactor import has_confirmed_device, two_factor_required


def safe_next(request, next_url: str) -> str:
    """`next` if it stays on this site, else the home page."""
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                    require_https=request.is_secure()):
        return next_url
    return reverse("portal:home")


@sensitive_post_parameters("password")
@never_cache
def login_view(request):
    error = ""
    username = ""
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        try:
            user = auth.authenticate(request, username=username, password=password)
        except PermissionDenied:
            user = None
        except DomainError as exc:  # too many failed logins from this address (429), or the limiter is down (503)
            return render(request, "accounts/login.html", {"error": exc.message, "username": username, "next": next_url},
                          status=exc.status)
        if user is not None:
            auth.login(request, user)  # cycles the session key: a new session id at login
            target = safe_next(request, next_url)
            if two_factor_required(user):
                # The password was right; the code comes next (TwoFactorMiddleware holds every other page).
                step = "accounts:twofactor_verify" if has_confirmed_device(user) else "accounts:twofactor_setup"
                return redirect(f"{reverse(step)}?{urlencode({'next': target})}")
            return redirect(target)
        # Item 6: one message whether the user is unknown, the password wrong or the account locked.
        error = LOGIN_FAILED_MESSAGE
    return render(
        request,
        "accounts/login.html",
        {"error": error, "username": username, "next": next_url},
        status=401 if error else 200,
    )


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        logout_record(user=request.user)
    auth.logout(request)
    return redirect("portal:home")


# Django's zh_Hans catalogue lacks some validator messages (the minimum length one comes out in
# English), so the page states every known rule in Chinese by its error code.
_PASSWORD_ERRORS_ZH = {
    "password_too_short": "密码太短，至少需要 {min_length} 个字符。",
    "password_too_similar": "密码与您的用户名或其他个人信息太相似。",
    "password_too_common": "这个密码太常见，容易被猜到，请换一个。",
    "password_entirely_numeric": "密码不能全部是数字。",
}


def _chinese(error: ValidationError) -> list[ValidationError]:
    result = []
    for item in error.error_list:
        template = _PASSWORD_ERRORS_ZH.get(item.code)
        if template:
            item = ValidationError(template.format(**(item.params or {})), code=item.code)
        result.append(item)
    return result


class PasswordChangeFormZh(PasswordChangeForm):
    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "当前密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "当前密码"
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password2"].label = "确认新密码"
        self.fields["new_password2"].help_text = "请再次输入新密码。"

    def validate_password_for_user(self, user, password_field_name="password2"):
        password = self.cleaned_data.get(password_field_name)
        if password:
            try:
                password_validation.validate_password(password, user)
            except ValidationError as error:
                self.add_error(password_field_name, _chinese(error))


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@csrf_protect
@never_cache
@login_required
def password_change_view(request):
    if request.method == "POST":
        form = PasswordChangeFormZh(user=request.user, data=request.POST)
        if form.is_valid():
            user = password_change(actor=request.user, user=request.user, new_password=form.cleaned_data["new_password1"])
            auth.update_session_auth_hash(request, user)  # stay logged in; other sessions lose validity
            messages.success(request, "密码已修改。下次登录请使用新密码。")
            return redirect("portal:home")
    else:
        form = PasswordChangeFormZh(user=request.user)
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "password_rules": password_validators_help_texts()},
        status=400 if form.is_bound else 200,
    )


def register_refusal_message(exc: DomainError, *, limit: int, window: int) -> str:
    if exc.code != "rate_limited":
        return exc.message
    retry = max(1, -(-int((exc.details or {}).get("retry_after_seconds", window)) // 60))
    return (f"{exc.message}同一网络地址每 {max(1, window // 60)} 分钟最多提交 {limit} 次注册（含用户名是否已被注册的核对），"
            f"请约 {retry} 分钟后再试。您填写的内容已保留，密码需重新输入。")


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def register_view(request):
    """申请人自助注册责任规划师账户；成功后自动登录并回到首页。每个 IP 每小时最多提交 10 次。"""
    if request.user.is_authenticated:
        messages.info(request, "您已登录，无需重复注册。")
        return redirect("portal:home")
    limit, window = register_rate()
    if request.method == "POST":
        form = PlannerRegistrationForm(data=request.POST)
        try:
            # Every attempt counts, the answer "user name taken" (409) included: one address cannot probe
            # which names exist faster than the limit (issue 16 item 6).
            rate_limit_hit(client_key(request, "accounts.register"), limit=limit, window_seconds=window)
        except DomainError as exc:  # 429, or 503 when the shared cache is down and the limiter fails closed
            return render(
                request,
                "accounts/register.html",
                {"form": form, "error": register_refusal_message(exc, limit=limit, window=window),
                 "password_rules": password_validators_help_texts(), "rate_limit": limit,
                 "rate_window_minutes": max(1, window // 60)},
                status=exc.status,
            )
        user = form.register() if form.is_valid() else None
        if user is not None:
            auth.login(request, user, backend="rpms.accounts.backends.LockoutModelBackend")
            messages.success(
                request,
                f"注册成功，欢迎您，{user.display_name}！您现在可以查看{user.city.name}的公开征集并提交入库申请。",
            )
            return redirect("portal:home")
    else:
        form = PlannerRegistrationForm()
    return render(
        request,
        "accounts/register.html",
        {"form": form, "password_rules": password_validators_help_texts(), "rate_limit": limit,
         "rate_window_minutes": max(1, window // 60)},
        status=400 if form.is_bound else 200,
    )
