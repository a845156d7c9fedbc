"""The inbox (/inbox/): a signed-in user's notifications, newest first, with mark read / all read."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services


@login_required
@require_GET
def inbox(request):
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(selectors.inbox_list(user=request.user, unread_only=unread_only), selectors.INBOX_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/inbox.html", {
        "page": page, "unread_only": unread_only, "unread": selectors.unread_count(request.user),
    })


def _safe_target(request, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return ""


@login_required
@require_POST
def mark_read(request, pk):
    """Mark one item read; with `open=1`, go on to the page it points to."""
    note = services.notification_mark_read(actor=request.user, notification_id=pk)
    if request.POST.get("open") == "1":
        target = _safe_target(request, note.url)
        if target:
            return redirect(target)
    back = _safe_target(request, request.POST.get("next", ""))
    return redirect(back or "notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = services.notification_mark_all_read(actor=request.user)
    messages.success(request, f"已将 {count} 条提醒标为已读。" if count else "没有未读提醒。")
    return redirect("notifications:inbox")
