"""Account writes: login success/failure bookkeeping (lockout), API tokens, user creation."""
import hashlib
import secrets
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from rpms.core import clock
from rpms.core.audit import audit_log
from rpms.core.errors import Conflict, DomainError
from rpms.core.identity import validate_mobile
from rpms.core.roles import ADMIN_ROLES

from .models import ApiToken, Role, User


class AuthenticationFailed(DomainError):
    status = 401
    default_code = "invalid_credentials"


# Issue 16 item 6: one answer for a wrong password, an unknown user name and a locked account, on the login
# page and the token API alike (same text, same code, same status), so that a login tells nobody which
# accounts exist or are locked. The audit trail keeps the real reason.
LOGIN_FAILED_MESSAGE = "用户名或密码错误，或账户已被临时锁定"

# GB/T 22239-2019 8.1.4.1 身份鉴别 b) 登录失败处理（限制非法登录次数、锁定）; d) 两种以上鉴别技术;
# 8.1.4.3 安全审计 (logout and the other acts recorded for the trail).
ARTICLE_LOGIN_FAILURE = "GB/T 22239-2019 8.1.4.1 b)"
ARTICLE_TWO_FACTOR = "GB/T 22239-2019 8.1.4.1 d)"
ARTICLE_AUDIT = "GB/T 22239-2019 8.1.4.3"


def login_failed() -> AuthenticationFailed:
    """The one refusal of a login that must not say why (item 6)."""
    return AuthenticationFailed(LOGIN_FAILED_MESSAGE)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def locked_message(user: User) -> str:
    """Said only to someone who has already proved the password (a wrong second factor locked the
    account); a login attempt is answered with LOGIN_FAILED_MESSAGE."""
    until = timezone.localtime(user.locked_until)
    return f"连续验证失败次数过多，账户已锁定，请于 {until:%H:%M} 后再试。"


_FAILURE_ACTIONS = {
    # reason: (action, summary)
    "password": ("accounts.login_failed", "登录失败：密码错误"),
    "otp": ("accounts.otp_failed", "登录失败：动态验证码错误"),
    "token_otp": ("accounts.token_otp_failed", "签发接口令牌失败：动态验证码错误"),
}


@transaction.atomic
def login_failure_record(*, user: User, reason: str = "password") -> User:
    """Counts one failed login (a wrong password, or a wrong second-factor code after a right password);
    RPMS_LOGIN_MAX_FAILURES of them lock the account for RPMS_LOGIN_LOCK_MINUTES. One audit row: the failure,
    or `accounts.locked` when this failure locks the account."""
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    now = clock.now()
    before = {"failed_login_count": user.failed_login_count, "locked_until": user.locked_until}
    if user.locked_until and user.locked_until <= now:
        # The previous lock has run out: the count starts afresh.
        user.failed_login_count = 0
        user.locked_until = None
    user.failed_login_count += 1
    action, summary = _FAILURE_ACTIONS[reason]
    if user.failed_login_count >= settings.RPMS_LOGIN_MAX_FAILURES:
        user.locked_until = now + timedelta(minutes=settings.RPMS_LOGIN_LOCK_MINUTES)
        action, summary = "accounts.locked", f"连续登录失败，账户锁定（{summary}）"
    user.save(update_fields=["failed_login_count", "locked_until"])
    audit_log(
        actor=None,
        action=action,
        obj=user,
        before=before,
        after={"failed_login_count": user.failed_login_count, "locked_until": user.locked_until, "reason": reason},
        article=ARTICLE_LOGIN_FAILURE,
        summary=summary,
    )
    return user


@transaction.atomic
def login_refusal_record(*, username: str, user: User | None = None) -> None:
    """Audits a login refused before any password was judged: an unknown user name (actor None, the name
    that was typed in object_repr and summary) or an account that is locked. Nothing is counted."""
    username = (username or "")[:150]
    if user is None:
        audit_log(
            actor=None, action="accounts.login_failed", object_type="accounts.user", object_repr=username,
            after={"reason": "unknown_user", "username": username}, article=ARTICLE_LOGIN_FAILURE,
            summary=f"登录失败：用户名不存在（{username}）",
        )
        return
    audit_log(
        actor=None, action="accounts.login_failed", obj=user,
        after={"reason": "locked", "locked_until": user.locked_until}, article=ARTICLE_LOGIN_FAILURE,
        summary="登录失败：账户处于锁定期",
    )


@transaction.atomic
def login_success_record(*, user: User, second_factor: str = "") -> User:
    """A complete login: the failure count starts afresh. `second_factor` names the device kind when a
    second factor was checked ("totp", "recovery_code")."""
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    before = {"failed_login_count": user.failed_login_count, "locked_until": user.locked_until}
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login = clock.now()
    user.save(update_fields=["failed_login_count", "locked_until", "last_login"])
    after = {"failed_login_count": 0}
    if second_factor:
        after["second_factor"] = second_factor
    audit_log(actor=user, action="accounts.login", obj=user, before=before, after=after,
              article=ARTICLE_TWO_FACTOR if second_factor else "",
              summary="登录成功（两步验证）" if second_factor else "登录成功")
    return user


@transaction.atomic
def login_first_factor_record(*, user: User) -> User:
    """The password was right for an account that also needs a second factor: audited, but the failure
    count is not reset until the code is right too (else a password holder could guess codes without end)."""
    audit_log(actor=user, action="accounts.login_password_ok", obj=user, article=ARTICLE_TWO_FACTOR,
              summary="口令验证通过，等待两步验证")
    return user


@transaction.atomic
def logout_record(*, user: User) -> None:
    audit_log(actor=user, action="accounts.logout", obj=user, article=ARTICLE_AUDIT, summary="退出登录")


def password_check(*, username: str, password: str) -> User:
    """The first factor, with the lockout: the user, or AuthenticationFailed (401) with the one message of
    item 6 whatever the reason (unknown user, locked account, wrong password, inactive account). A failure
    is audited and counted; a success is not recorded here (see `login_success_record`)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        User().set_password(password)  # spend the hashing time anyway: no user enumeration by timing
        login_refusal_record(username=username)
        raise login_failed()
    if user.is_locked():
        user.check_password(password)  # the same time as any other attempt; the answer is no regardless
        login_refusal_record(username=username, user=user)
        raise login_failed()
    if not user.check_password(password) or not user.is_active:
        login_failure_record(user=user)
        raise login_failed()
    return user


def credentials_check(*, username: str, password: str) -> User:
    """Checks a username and password with lockout and records the login; raises AuthenticationFailed (401).
    Password only: the token API adds the second factor (rpms.accounts.twofactor.token_credentials_check)."""
    return login_success_record(user=password_check(username=username, password=password))


@transaction.atomic
def api_token_issue(*, user: User) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken.objects.create(
        user=user,
        digest=token_digest(raw),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.RPMS_API_TOKEN_MINUTES),
    )
    audit_log(actor=user, action="accounts.token_issued", obj=user, after={"token_id": token.pk, "expires_at": token.expires_at}, summary="签发接口令牌")
    return raw, token


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str | None,
    role: str,
    city=None,
    display_name: str = "",
    districts=(),
    subdistricts=(),
    email: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    if role in ADMIN_ROLES:
        # 三权分立: the administrators are installed (rpms.accounts.administration.administrator_install), never
        # opened as ordinary accounts.
        raise DomainError("系统管理员、安全管理员和审计管理员只能在系统安装时设置。", code="administrator_role")
    user = User(
        username=username,
        role=role,
        city=city,
        display_name=display_name,
        email=email,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password is None:
        # No password: the account cannot sign in until one is set (e.g. the demo's fictional applicants).
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError("；".join(exc.messages), code="weak_password") from exc
        user.set_password(password)
    user.full_clean()
    user.save()
    if districts:
        user.districts.set(districts)
    if subdistricts:
        user.subdistricts.set(subdistricts)
    audit_log(
        actor=actor,
        action="accounts.user_create",
        obj=user,
        after={"username": username, "role": role, "city": getattr(city, "code", None),
               "districts": [d.code for d in districts], "subdistricts": [s.code for s in subdistricts]},
        summary=f"创建用户 {username}",
    )
    return user


@transaction.atomic
def user_unlock(*, actor, user: User, article: str = "") -> User:
    """An administrator lifts a login lock before its 15 minutes have run out (`article`: the rule it cites)."""
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    before = {"failed_login_count": user.failed_login_count, "locked_until": user.locked_until}
    user.failed_login_count = 0
    user.locked_until = None
    user.save(update_fields=["failed_login_count", "locked_until"])
    audit_log(actor=actor, action="accounts.unlock", obj=user, before=before, after={"failed_login_count": 0, "locked_until": None},
              article=article, summary=f"解除账户锁定：{user.username}")
    return user


@transaction.atomic
def password_change(*, actor, user: User, new_password: str) -> User:
    """Sets a new password (validated), revokes the user's API tokens, and audits the act."""
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="weak_password") from exc
    user.set_password(new_password)
    was_temporary = user.password_must_change
    user.password_must_change = False  # a temporary password (issue #17 item 7) is replaced
    user.save(update_fields=["password", "password_must_change"])
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())
    after = {"api_tokens_revoked": revoked}
    if was_temporary:
        after["temporary_password_replaced"] = True
    audit_log(actor=actor, action="accounts.password_change", obj=user, after=after, summary="修改登录密码")
    return user


def register_rate() -> tuple[int, int]:
    """(attempts, seconds) allowed per client address for self-registration, page and API together;
    `settings.RPMS_REGISTER_RATE_LIMIT`, default 10 per hour."""
    limit, window = getattr(settings, "RPMS_REGISTER_RATE_LIMIT", (10, 3600))
    return int(limit), int(window)


def _city_model():
    # By the app registry, as User.city names its model: accounts sits below cities.
    return apps.get_model("cities", "City")


def registration_cities():
    """Cities a person may register for: active and with a policy profile (rules configured)."""
    return _city_model().objects.filter(is_active=True, policy__isnull=False).order_by("sort_order", "code")


@transaction.atomic
def planner_account_register(*, username: str, password: str, display_name: str, email: str, mobile: str, city) -> User:
    """Self-registration of a planner account (issue #3: "a person registers an account and applies").

    `city` is a city code (or a City). Creates an active PLANNER user through `user_create`, whose row
    is the one audit row of the act. The mobile number is checked (`validate_mobile`) but not stored:
    the User model has no place for it and the application form collects it with the application.
    Refusals: 400 `invalid_username` / `invalid_display_name` / `invalid_email` / `invalid_mobile` /
    `invalid_city` / `weak_password`; 409 `username_taken` (user names are unique regardless of case).
    """
    username = username_clean(username)
    display_name = (display_name or "").strip()
    email = (email or "").strip()
    if not display_name:
        raise DomainError("请填写姓名。", code="invalid_display_name")
    if len(display_name) > 100:
        raise DomainError("姓名不能超过 100 个字符。", code="invalid_display_name")
    email = email_clean(email)
    validate_mobile(mobile)
    code = city.code if isinstance(city, _city_model()) else str(city or "").strip()
    if not code:
        raise DomainError("请选择所在城市。", code="invalid_city")
    found = registration_cities().filter(code=code).first()
    if found is None:
        raise DomainError(f"城市“{code}”不存在或尚未开通责任规划师申请。", code="invalid_city")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("该用户名已被注册，请换一个用户名。", code="username_taken")
    try:
        return user_create(
            actor=None,
            username=username,
            password=password or "",
            role=Role.PLANNER,
            city=found,
            display_name=display_name,
            email=email,
        )
    except IntegrityError:  # a concurrent registration took the name between the check and the insert
        raise Conflict("该用户名已被注册，请换一个用户名。", code="username_taken") from None
    except ValidationError as exc:  # full_clean() in user_create: anything not caught above
        raise DomainError("；".join(exc.messages), code="invalid_account") from exc


def username_clean(username: str) -> str:
    """A user name as typed, trimmed and checked (Django's Unicode user-name rule), or a 400 in Chinese."""
    username = (username or "").strip()
    if not username:
        raise DomainError("请填写用户名。", code="invalid_username")
    if len(username) > 150:
        raise DomainError("用户名不能超过 150 个字符。", code="invalid_username")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise DomainError("用户名只能包含字母、数字和 @ . + - _ 字符，不能有空格。", code="invalid_username") from None
    return username


def email_clean(email: str) -> str:
    """An e-mail address as typed, trimmed and checked ("" when none), or a 400 in Chinese."""
    email = (email or "").strip()
    if email:
        try:
            if len(email) > 254:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            raise DomainError("电子邮箱格式不正确。", code="invalid_email") from None
    return email
