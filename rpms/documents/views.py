"""Public verification pages (B19(7) disclosure, B22 public trust): anyone holding a printed
dispatch notice, certificate, contract, written opinion or work certificate can check that it was
issued by the system and is still valid. Lookups are rate-limited per client address, so codes
cannot be harvested by guessing."""
from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from rpms.core.ratelimit import client_key, rate_limit_hit

from .integrity import normalise_code
from .selectors import document_by_code, public_verification

VERIFY_RATE = (30, 60)  # lookups per client address: 30 a minute


def verify_rate() -> tuple[int, int]:
    """(limit, window seconds) for verification lookups; settings.RPMS_VERIFY_RATE overrides."""
    return tuple(getattr(settings, "RPMS_VERIFY_RATE", VERIFY_RATE))


def count_lookup(request) -> None:
    """One verification lookup by this client (pages and API share the budget); 429 beyond it."""
    limit, window = verify_rate()
    rate_limit_hit(client_key(request, "documents.verify"), limit=limit, window_seconds=window)


@require_http_methods(["GET", "POST"])
def verify_form(request):
    error = ""
    value = ""
    if request.method == "POST":
        value = (request.POST.get("code") or "").strip()[:64]
        code = normalise_code(value)
        if code:
            return redirect(reverse("documents:verify_detail", args=[code]))
        error = "核验码应为 16 位字母和数字（可含空格或短横线），请核对后重新输入。"
    return render(request, "documents/verify_form.html", {"error": error, "value": value},
                  status=400 if error else 200)


@require_GET
def verify_detail(request, code):
    count_lookup(request)
    document = document_by_code(code)
    if document is None:
        return render(request, "documents/verify_detail.html",
                      {"found": False, "code": code[:64]}, status=404)
    return render(request, "documents/verify_detail.html",
                  {"found": True, "code": document.formatted_code, "result": public_verification(document)})
