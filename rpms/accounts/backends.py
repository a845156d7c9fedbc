from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .models import User
from .services import login_failure_record, login_success_record


class LockoutModelBackend(ModelBackend):
    """Django's model backend plus the lockout rule: 5 failures lock the account for 15 minutes.

    Used by every page login (our login page and the Django admin)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)
            return None
        if user.is_locked():
            raise PermissionDenied("locked")  # stops other backends; the view shows the lock message
        if user.check_password(password) and self.user_can_authenticate(user):
            return login_success_record(user=user)
        login_failure_record(user=user)
        return None
