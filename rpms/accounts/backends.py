from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .models import User
from .services import login_failure_record, login_first_factor_record, login_refusal_record, login_success_record
from .throttle import login_address_check, login_address_failure
from .twofactor import two_factor_required


class LockoutModelBackend(ModelBackend):
    """Django's model backend plus the lockout rule: 5 failures lock the account for 15 minutes, and the
    failed logins of one client address are limited (rpms.accounts.throttle; 429 once used up). Every failure
    is audited (an unknown user name too). For an account that needs two factors the login is recorded
    complete only after the code (rpms.accounts.twofactor; TwoFactorMiddleware holds the session till then).

    Used by every page login (our login page and the Django admin)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        login_address_check(request)
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # the same time as a real check: no user enumeration by timing
            login_refusal_record(username=username)
            login_address_failure(request)
            return None
        if user.is_locked():
            user.check_password(password)
            login_refusal_record(username=username, user=user)
            login_address_failure(request)
            raise PermissionDenied("locked")  # stops other backends; the view shows the one failure message
        if user.check_password(password) and self.user_can_authenticate(user):
            if two_factor_required(user):
                return login_first_factor_record(user=user)
            return login_success_record(user=user)
        login_failure_record(user=user)
        login_address_failure(request)
        return None
