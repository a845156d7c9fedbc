from django.contrib import auth
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import User
from .services import locked_message


def login_view(request):
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        try:
            user = auth.authenticate(request, username=username, password=password)
        except PermissionDenied:
            user = None
        if user is not None:
            auth.login(request, user)  # cycles the session key: a new session id at login
            target = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
                target = "portal:home"
            return redirect(target)
        found = User.objects.filter(username=username).first()
        error = locked_message(found) if found and found.is_locked() else "用户名或密码错误。"
    return render(
        request,
        "accounts/login.html",
        {"error": error, "username": username, "next": request.GET.get("next", "")},
        status=401 if error else 200,
    )


@require_POST
def logout_view(request):
    auth.logout(request)
    return redirect("portal:home")
