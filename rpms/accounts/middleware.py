"""Deny by default until the second factor (issue 16 item 1): a user who must pass two-factor authentication
(rpms.accounts.twofactor.two_factor_required) and signed in with the password only reaches nothing but the
code page, the enrolment page (when they have no confirmed authenticator yet) and logout. Pages redirect
there; API calls on the session get 401 with a Chinese message. A bearer token passes (the token endpoint
issues one only after the code), as does the token endpoint itself.

Installed after django_otp.middleware.OTPMiddleware, which sets `request.user.is_verified()`."""
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from rpms.core.roles import ADMINISTRATOR_REFUSAL, administrator_may_use

from .twofactor import has_confirmed_device, two_factor_required

TOKEN_PATH = "/api/v1/auth/token"
API_PREFIX = "/api/"
API_REFUSAL = "请先完成两步验证：在网页输入认证器应用的动态验证码后再使用接口，或使用 /api/v1/auth/token 申请令牌。"


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and two_factor_required(user) and not user.is_verified():
            refusal = self._refusal(request, user)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request, user):
        path = request.path_info
        verify, setup, logout = (reverse(f"accounts:{name}") for name in ("twofactor_verify", "twofactor_setup", "logout"))
        if path in (verify, setup, logout) or path.startswith(settings.STATIC_URL):
            return None  # the views send the user on from there
        if path.startswith(API_PREFIX):
            if path == TOKEN_PATH or request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
                return None
            return JsonResponse({"code": "otp_required", "detail": API_REFUSAL, "message": API_REFUSAL}, status=401)
        target = verify if has_confirmed_device(user) else setup
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)


class AdministratorBoundaryMiddleware:
    """The three separated administrators (issue 16 item 2) reach only their own pages and APIs
    (rpms.core.roles.administrator_may_use): a page elsewhere answers 403, an API call a JSON 403. Bearer calls
    are checked where the token is read (rpms.core.api.TokenAuth), as the user is known only there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        role = getattr(user, "role", "") if getattr(user, "is_authenticated", False) else ""
        if role and not administrator_may_use(role, request.path_info):
            if request.path_info.startswith(API_PREFIX):
                return JsonResponse({"code": "forbidden", "detail": ADMINISTRATOR_REFUSAL,
                                     "message": ADMINISTRATOR_REFUSAL}, status=403)
            raise PermissionDenied(ADMINISTRATOR_REFUSAL)
        return self.get_response(request)


PASSWORD_CHANGE_REQUIRED_PAGE = "您的密码是管理员重置的临时密码，请先设置新密码，再继续使用系统。"
PASSWORD_CHANGE_REQUIRED_API = "您的密码是管理员重置的临时密码，请先登录网页修改密码，再使用接口。"


class PasswordChangeRequiredMiddleware:
    """A temporary password (issue #17 item 7: reset or opened by the city administrator) must be changed at the
    next login: until then every page redirects to the password change page (logout, the two-factor pages and
    static files excepted) and a session API call answers 403 `password_change_required`. Installed after the
    two-factor and administrator middlewares (the code first, then the new password)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if getattr(user, "is_authenticated", False) and getattr(user, "password_must_change", False):
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request):
        path = request.path_info
        allowed = {reverse(f"accounts:{name}") for name in ("password_change", "logout", "twofactor_verify",
                                                             "twofactor_setup")}
        if path in allowed or path.startswith(settings.STATIC_URL):
            return None
        if path.startswith(API_PREFIX):
            if path == TOKEN_PATH or request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
                return None  # the token endpoint refuses itself; tokens were revoked at the reset
            return JsonResponse({"code": "password_change_required", "detail": PASSWORD_CHANGE_REQUIRED_API,
                                 "message": PASSWORD_CHANGE_REQUIRED_API}, status=403)
        from django.contrib import messages

        messages.warning(request, PASSWORD_CHANGE_REQUIRED_PAGE)
        return redirect("accounts:password_change")
