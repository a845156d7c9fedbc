"""The duties lines of each role's "待办事项" panel (rpms.core.pending).
At most three COUNT queries per user, whatever the number of records."""
from django.urls import reverse

from rpms.accounts.models import Role

from .models import DutyStatus


def duties_pending(user) -> list:
    from rpms.core.pending import PendingItem

    from . import selectors

    role = getattr(user, "role", None)
    if not getattr(user, "is_authenticated", False) or role not in (Role.PLANNER, Role.HIRING_ENTITY, Role.DISTRICT_OFFICER):
        return []
    items = []
    if role == Role.PLANNER:
        queried = selectors.DutyRecord.objects.filter(planner__user=user, status=DutyStatus.QUERIED).count()
        if queried:
            items.append(PendingItem(title="履职记录有疑问待答复", url=reverse("duties:record_list") + "?status=queried",
                                     count=queried, level="warn"))
        return items
    waiting = selectors.awaiting_confirmation(user).count()
    if waiting:
        items.append(PendingItem(title="待确认的履职记录", url=reverse("duties:record_list") + "?status=submitted",
                                 count=waiting))
    requests = selectors.awaiting_data_answer(user).count()
    if requests:
        items.append(PendingItem(title="待答复的资料申请", url=reverse("duties:request_list") + "?status=submitted",
                                 count=requests, level="warn"))
    if role == Role.DISTRICT_OFFICER:
        feedback = selectors.awaiting_feedback_answer(user).count()
        if feedback:
            items.append(PendingItem(title="待答复的实施监督反馈", url=reverse("duties:feedback_list") + "?status=submitted",
                                     count=feedback, level="warn"))
    return items
