"""Two-factor authentication for staff (issue 16 item 1; GB/T 22239-2019 8.1.4.1 d): a password plus a code from
an authenticator app (TOTP, RFC 6238, django_otp.plugins.otp_totp) or one of ten one-time recovery codes
(django_otp.plugins.otp_static).

Who needs it: when `settings.RPMS_REQUIRE_2FA` is on (production), every account whose role is in
TWO_FACTOR_ROLES, and superusers. Planners and hiring entities (street offices) are never asked. A required
user who signed in with the password only is held by `rpms.accounts.middleware.TwoFactorMiddleware` on the
code page (or on enrolment when they have no confirmed device) until a code is right; the token API
(`POST /api/v1/auth/token`) asks for the code in `otp` (`token_credentials_check`).

Enrolment: `totp_enrolment_device` makes an unconfirmed device whose secret the page shows as a QR code
drawn locally (segno, inline SVG) and as text; `totp_enrolment_confirm` confirms it with a first code and
hands out ten recovery codes, shown once. `recovery_codes_regenerate` replaces them after a code.
`reset_two_factor` (security administrator only) deletes a user's devices so that they enrol again.

Wrong codes count towards the account lockout like wrong passwords (5 failures lock for 15 minutes,
services.login_failure_record), besides django-otp's own per-device back-off (1, 2, 4 … seconds).
"""
from base64 import b32encode

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from rpms.core.audit import audit_log
from rpms.core.errors import Conflict, DomainError, Forbidden

from .models import Role, User
from .services import (
    ARTICLE_TWO_FACTOR,
    AuthenticationFailed,
    login_failure_record,
    login_success_record,
    password_check,
)

TWO_FACTOR_ROLES = (
    Role.CITY_ADMIN,
    Role.DISTRICT_OFFICER,
    Role.AUDITOR,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDIT_ADMIN,
)
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "认证器应用"
STATIC_DEVICE_NAME = "恢复码"

OTP_REQUIRED_MESSAGE = (
    "该账户需要动态验证码（两步验证），请在 otp 中提供认证器应用当前显示的 6 位动态验证码，或一个未使用过的恢复码。"
)
OTP_INVALID_MESSAGE = "动态验证码错误或已使用过，请输入认证器应用当前显示的 6 位动态验证码，或一个未使用过的恢复码。"
OTP_NOT_ENROLLED_MESSAGE = (
    "该账户需要动态验证码（两步验证），但尚未绑定认证器应用：请先在网页登录，按提示完成两步验证设置后再申请令牌。"
)


def two_factor_eligible(user) -> bool:
    """Whether the account is one of those 2FA is for (whatever the setting says)."""
    return bool(getattr(user, "is_authenticated", False)) and (user.is_superuser or user.role in TWO_FACTOR_ROLES)


def two_factor_required(user) -> bool:
    """Whether this account must pass a second factor now (RPMS_REQUIRE_2FA on and a staff role)."""
    return bool(getattr(settings, "RPMS_REQUIRE_2FA", False)) and two_factor_eligible(user)


def confirmed_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalise_code(code) -> str:
    """What the user typed, as the devices compare it: no spaces or dashes, lower case (recovery codes)."""
    return "".join(str(code or "").split()).replace("-", "").lower()


def device_kind(device) -> str:
    return "recovery_code" if isinstance(device, StaticDevice) else "totp"


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it by hand: base32, in groups of four."""
    raw = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code (the otpauth:// URI) as inline SVG, drawn here: no image service, no script."""
    import segno  # only the enrolment page needs it

    return segno.make(device.config_url, error="m", micro=False).svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title="两步验证二维码",
    )


def otp_match(*, user: User, code) -> TOTPDevice | StaticDevice | None:
    """The confirmed device that accepts `code` (a TOTP code, then a recovery code, which is used up), or None.
    Its own transaction: a failed attempt's back-off stays recorded whatever the caller does next."""
    code = normalise_code(code)
    if not code or len(code) > 16:
        return None
    with transaction.atomic():
        if code.isdigit() and len(code) in (6, 8):
            for device in TOTPDevice.objects.filter(user=user, confirmed=True).select_for_update():
                if device.verify_token(code):
                    return device
        for device in StaticDevice.objects.filter(user=user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def otp_throttled(user: User) -> bool:
    """Whether django-otp's back-off refuses to check codes for this user right now (after wrong codes)."""
    device = confirmed_totp_device(user)
    return device is not None and not device.verify_is_allowed()[0]


def second_factor_verify(*, user: User, code) -> tuple[TOTPDevice | StaticDevice | None, User]:
    """The page login's second step: (the device that accepted the code, the user) — the login is recorded
    complete — or (None, the user) with the failure counted towards the lockout and audited."""
    device = otp_match(user=user, code=code)
    if device is None:
        return None, login_failure_record(user=user, reason="otp")
    return device, login_success_record(user=user, second_factor=device_kind(device))


@transaction.atomic
def _token_otp_missing_record(*, user: User, enrolled: bool) -> None:
    audit_log(
        actor=None, action="accounts.token_otp_missing", obj=user, after={"enrolled": enrolled},
        article=ARTICLE_TWO_FACTOR,
        summary="签发接口令牌失败：未提供动态验证码" if enrolled else "签发接口令牌失败：账户尚未绑定认证器",
    )


def token_credentials_check(*, username: str, password: str, otp: str | None = None) -> User:
    """`POST /api/v1/auth/token`: the password (the one message of item 6 for every failure), then, for an
    account that needs two factors, the code in `otp`. Raises AuthenticationFailed (401) with a Chinese
    message; records the login when both are right."""
    user = password_check(username=username, password=password)
    if not two_factor_required(user):
        return login_success_record(user=user)
    enrolled = has_confirmed_device(user)
    if not enrolled:
        _token_otp_missing_record(user=user, enrolled=False)
        raise AuthenticationFailed(OTP_NOT_ENROLLED_MESSAGE, code="otp_not_enrolled")
    if not normalise_code(otp):
        _token_otp_missing_record(user=user, enrolled=True)
        raise AuthenticationFailed(OTP_REQUIRED_MESSAGE, code="otp_required")
    device = otp_match(user=user, code=otp)
    if device is None:
        login_failure_record(user=user, reason="token_otp")
        raise AuthenticationFailed(OTP_INVALID_MESSAGE, code="otp_invalid")
    return login_success_record(user=user, second_factor=device_kind(device))


# --- enrolment, recovery codes, reset -------------------------------------------------------------------


def _require_eligible(user: User) -> None:
    if not two_factor_eligible(user):
        raise Forbidden("您的角色无需两步验证。", code="two_factor_not_applicable")


def totp_enrolment_device(*, user: User) -> TOTPDevice:
    """The device being enrolled: the user's unconfirmed TOTP device, made now if there is none. Not audited:
    a pending secret grants nothing until `totp_enrolment_confirm`."""
    _require_eligible(user)
    if has_confirmed_device(user):
        raise Conflict("您已启用两步验证。如需更换手机，请联系安全管理员重置两步验证。", code="two_factor_enrolled")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=STATIC_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def totp_enrolment_confirm(*, user: User, code) -> tuple[TOTPDevice, list[str]]:
    """Confirms the pending device with a first code from the app; returns it and ten recovery codes (to be
    shown once). Refused (400) with a wrong code."""
    _require_eligible(user)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Conflict("您已启用两步验证。如需更换手机，请联系安全管理员重置两步验证。", code="two_factor_enrolled")
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise DomainError("请先打开两步验证设置页面，扫描二维码后再输入验证码。", code="otp_enrolment_missing")
    normalised = normalise_code(code)
    if not (normalised.isdigit() and len(normalised) == device.digits):
        raise DomainError("请输入认证器应用显示的 6 位数字验证码。", code="otp_invalid")
    if not device.verify_token(normalised):
        raise DomainError("验证码不正确：请确认手机时间准确，并输入认证器应用当前显示的 6 位验证码。", code="otp_invalid")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _recovery_codes_replace(user)
    audit_log(
        actor=user, action="accounts.2fa_enrolled", obj=user,
        after={"totp_device": device.pk, "recovery_codes": len(codes)}, article=ARTICLE_TWO_FACTOR,
        summary="启用两步验证（绑定认证器应用，生成恢复码）",
    )
    return device, codes


def recovery_codes_regenerate(*, user: User, code) -> list[str]:
    """Ten new recovery codes (the old ones stop working), after a right code (TOTP or an unused recovery
    code). Refused (400) with a wrong one."""
    _require_eligible(user)
    if not has_confirmed_device(user):
        raise DomainError("您尚未启用两步验证，请先完成设置。", code="two_factor_not_enrolled")
    device = otp_match(user=user, code=code)  # committed on its own: the back-off counts a wrong code
    if device is None:
        raise DomainError("验证码不正确或已使用过，恢复码未重新生成。", code="otp_invalid")
    with transaction.atomic():
        before = recovery_codes_left(user)
        codes = _recovery_codes_replace(user)
        audit_log(
            actor=user, action="accounts.2fa_recovery_regenerated", obj=user,
            before={"recovery_codes": before}, after={"recovery_codes": len(codes), "confirmed_by": device_kind(device)},
            article=ARTICLE_TWO_FACTOR, summary="重新生成两步验证恢复码",
        )
    return codes


@transaction.atomic
def reset_two_factor(*, actor, user: User) -> User:
    """The security administrator deletes a user's authenticator and recovery codes (a lost phone): the user
    enrols again at the next login. Only Role.SECURITY_ADMIN (三权分立: roles, scopes, lockouts, 2FA resets),
    and not on their own account (another security administrator does that)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role != Role.SECURITY_ADMIN:
        raise Forbidden("只有安全管理员可以重置两步验证。")
    if actor.pk == user.pk:
        raise Forbidden("不能重置自己的两步验证，请由另一位安全管理员办理。", code="two_factor_self_reset")
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    before = {
        "totp_devices": TOTPDevice.objects.filter(user=user).count(),
        "recovery_codes": StaticToken.objects.filter(device__user=user).count(),
    }
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_log(
        actor=actor, action="accounts.2fa_reset", obj=user, before=before,
        after={"totp_devices": 0, "recovery_codes": 0}, article=ARTICLE_TWO_FACTOR,
        summary=f"重置两步验证：{user.username}",
    )
    return user
