"""The opinions' lines on the role home pages ("待办事项")."""
from django.urls import reverse

from rpms.accounts.models import Role

from . import selectors
from .models import OpinionStatus, WrittenOpinion


def pending_items(user) -> list:
    from rpms.core.pending import PendingItem

    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    if user.role in (Role.HIRING_ENTITY, Role.DISTRICT_OFFICER):
        unread = selectors.unread_count(user)
        if unread:
            items.append(PendingItem(title="未读的书面意见", url=reverse("opinions:inbox") + "?unread=1", count=unread,
                                     level="warn"))
    elif user.role == Role.PLANNER:
        drafts = WrittenOpinion.objects.filter(author=user, status=OpinionStatus.DRAFT).count()
        if drafts:
            items.append(PendingItem(title="书面意见草稿待出具", url=reverse("opinions:list") + "?status=draft",
                                     count=drafts))
    return items
