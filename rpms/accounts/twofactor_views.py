"""Pages of two-factor authentication (rpms.accounts.twofactor): the code page of the login, enrolment by QR
code, the "两步验证" page (state, new recovery codes) and the security administrator's reset. No script;
every form posts with a CSRF token."""
from urllib.parse import urlencode

from django import forms
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from rpms.core.errors import DomainError, Forbidden

from .models import Role, User
from .services import locked_message, login_success_record
from .twofactor import (
    RECOVERY_CODE_COUNT,
    confirmed_totp_device,
    device_kind,
    has_confirmed_device,
    otp_throttled,
    qr_svg,
    recovery_codes_left,
    recovery_codes_regenerate,
    reset_two_factor,
    second_factor_verify,
    secret_text,
    totp_enrolment_confirm,
    totp_enrolment_device,
    two_factor_eligible,
    two_factor_required,
)
from .views import safe_next


class CodeForm(forms.Form):
    code = forms.CharField(
        label="动态验证码",
        max_length=32,
        error_messages={"required": "请输入验证码。"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "none",
                                      "spellcheck": "false", "autofocus": True}),
    )


def _is_verified(request) -> bool:
    return bool(getattr(request.user, "is_verified", lambda: False)())


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


def _next(request) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next", ""))


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@login_required
def twofactor_verify_view(request):
    """The login's second step: a code from the authenticator app or a recovery code."""
    user = request.user
    target = _next(request)
    if not two_factor_eligible(user) or _is_verified(request):
        return redirect(target)
    if not has_confirmed_device(user):
        return redirect(_with_next("accounts:twofactor_setup", target))
    form = CodeForm(data=request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        device, user = second_factor_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()  # a new session id now that the login is complete
            if device_kind(device) == "recovery_code":
                messages.warning(request, f"您使用了一个恢复码，还剩 {recovery_codes_left(user)} 个未使用。"
                                          "恢复码不多时请在“两步验证”页面重新生成。")
            return redirect(target)
        if user.is_locked():
            # The password was right, so the lock may be told; the session ends.
            message = locked_message(user)
            auth.logout(request)
            messages.error(request, message)
            return redirect("accounts:login")
        error = "验证码不正确或已使用过，请重新输入。"
        if otp_throttled(user):
            error += "错误次数较多，请稍等几秒再试。"
    elif request.method == "POST":
        error = "请输入验证码。"
    return render(request, "accounts/twofactor_verify.html", {"form": form, "error": error, "next": target},
                  status=401 if error else 200)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@login_required
def twofactor_setup_view(request):
    """Enrolment: scan the QR code (or type the secret), confirm with a first code, receive recovery codes."""
    user = request.user
    target = _next(request)
    if not two_factor_eligible(user):
        messages.info(request, "您的角色无需两步验证。")
        return redirect("portal:home")
    if has_confirmed_device(user):
        if not _is_verified(request):
            return redirect(_with_next("accounts:twofactor_verify", target))
        messages.info(request, "您已启用两步验证。")
        return redirect("accounts:twofactor")
    device = totp_enrolment_device(user=user)
    form = CodeForm(data=request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        was_verified = _is_verified(request)
        try:
            device, codes = totp_enrolment_confirm(user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            error = exc.message
        else:
            otp_login(request, device)
            if two_factor_required(user) and not was_verified:
                login_success_record(user=user, second_factor="totp")  # the login completes with the first code
                request.session.cycle_key()
            return render(request, "accounts/twofactor_codes.html",
                          {"codes": codes, "next": target, "enrolled": True})
    elif request.method == "POST":
        error = "请输入验证码。"
    return render(
        request,
        "accounts/twofactor_setup.html",
        {"form": form, "error": error, "next": target, "qr_svg": qr_svg(device), "secret": secret_text(device),
         "required": two_factor_required(user), "code_count": RECOVERY_CODE_COUNT},
        status=400 if error else 200,
    )


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@login_required
def twofactor_view(request):
    """"两步验证": the user's state; new recovery codes after a code (POST)."""
    user = request.user
    eligible = two_factor_eligible(user)
    form = CodeForm(data=request.POST or None)
    error = ""
    if request.method == "POST":
        if not eligible:
            raise Forbidden("您的角色无需两步验证。", code="two_factor_not_applicable")
        if form.is_valid():
            try:
                codes = recovery_codes_regenerate(user=user, code=form.cleaned_data["code"])
            except DomainError as exc:
                error = exc.message
            else:
                return render(request, "accounts/twofactor_codes.html", {"codes": codes, "enrolled": False})
        else:
            error = "请输入验证码。"
    device = confirmed_totp_device(user) if eligible else None
    return render(
        request,
        "accounts/twofactor.html",
        {"form": form, "error": error, "eligible": eligible, "required": two_factor_required(user), "device": device,
         "codes_left": recovery_codes_left(user) if device else 0, "code_count": RECOVERY_CODE_COUNT},
        status=400 if error else 200,
    )


@csrf_protect
@never_cache
@login_required
def twofactor_reset_view(request, user_id: int):
    """The security administrator resets a user's two-factor authentication (confirmation page, then POST)."""
    if request.user.role != Role.SECURITY_ADMIN:
        raise Forbidden("只有安全管理员可以重置两步验证。")
    target = get_object_or_404(User, pk=user_id)
    if request.method == "POST":
        try:
            reset_two_factor(actor=request.user, user=target)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已重置 {target.display_name or target.username} 的两步验证。"
                                      "该用户下次登录时需重新扫码绑定认证器应用。")
        return redirect("accounts:twofactor_reset", user_id=target.pk)
    return render(
        request,
        "accounts/twofactor_reset.html",
        {"target": target, "enrolled": has_confirmed_device(target), "codes_left": recovery_codes_left(target),
         "self_reset": target.pk == request.user.pk},
    )
