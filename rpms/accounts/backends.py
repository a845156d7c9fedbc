from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .models import User
from .services import login_failure_record, login_success_record
from .throttle import login_address_check, login_address_failure


class LockoutModelBackend(ModelBackend):
    """Django's model backend plus the lockout rule: 5 failures lock the account for 15 minutes, and the
    failed logins of one client address are limited (rpms.accounts.throttle; 429 once used up).

    Used by every page login (our login page and the Django admin)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        login_address_check(request)
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)
            login_address_failure(request)
            return None
        if user.is_locked():
            login_address_failure(request)
            raise PermissionDenied("locked")  # stops other backends; the view shows the lock message
        if user.check_password(password) and self.user_can_authenticate(user):
            return login_success_record(user=user)
        login_failure_record(user=user)
        login_address_failure(request)
        return None
