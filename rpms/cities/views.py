from django.contrib.auth.decorators import login_required
from django.shortcuts import render, resolve_url

from rpms.accounts.models import Role
from rpms.core.errors import Forbidden
from rpms.core.web import Submission, submit

from .forms import PolicyForm
from .models import PolicyProfile
from .selectors import city_get, city_list
from .services import POLICY_LIST_FIELDS, POLICY_SCALAR_FIELDS, policy_update


def city_list_view(request):
    return render(request, "cities/city_list.html", {"cities": city_list()})


def policy_detail_view(request, code):
    city = city_get(code)
    profile = city.policy
    scalars = []
    for name in POLICY_SCALAR_FIELDS:
        field = PolicyProfile._meta.get_field(name)
        value = getattr(profile, name)
        if field.choices:
            value = getattr(profile, f"get_{name}_display")()
        elif isinstance(value, bool):
            value = "是" if value else "否"
        elif value is None:
            value = "不设上限/不适用"
        scalars.append({"key": name, "label": field.verbose_name, "value": value})
    can_edit = request.user.is_authenticated and (
        request.user.is_superuser or (request.user.role == Role.CITY_ADMIN and request.user.city_id == city.pk)
    )
    return render(
        request,
        "cities/policy_detail.html",
        {"city": city, "policy": profile, "scalars": scalars, "can_edit": can_edit},
    )


@login_required
def policy_edit_view(request, code):
    city = city_get(code)
    user = request.user
    if not (user.is_superuser or (user.role == Role.CITY_ADMIN and user.city_id == city.pk)):
        raise Forbidden("只有本市的市级管理员可以修改政策配置。")
    form = PolicyForm(request.POST or None, instance=PolicyProfile.objects.get(pk=city.policy.pk))
    sent = Submission()
    if request.method == "POST" and form.is_valid():
        sent = submit(request, lambda: policy_update(actor=user, city=city, changes=form.changes()),
                      success=lambda profile: f"政策配置已保存（版本 v{profile.version}），修改已记入操作日志。",
                      redirect_to=resolve_url("cities:policy_detail", code=city.code),
                      propagate=())  # every refusal is shown with the form, which keeps what the user typed
        if sent.response:
            return sent.response
        for key, texts in (sent.details or {}).items():
            if key in form.fields:
                form.add_error(key, texts)
    return render(
        request,
        "cities/policy_edit.html",
        {"city": city, "form": form, "error": sent.error, "list_fields": POLICY_LIST_FIELDS},
        status=400 if sent.error or (request.method == "POST" and form.errors) else 200,
    )
