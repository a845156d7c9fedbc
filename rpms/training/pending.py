"""Training lines on the role home pages (rpms.core.pending): one COUNT query."""
from django.urls import reverse

from rpms.accounts.models import Role


def training_pending(user) -> list:
    from rpms.core.pending import PendingItem

    from . import selectors

    if not getattr(user, "is_authenticated", False) or user.role != Role.CITY_ADMIN:
        return []
    count = selectors.pending_records(user=user).count()
    if not count:
        return []
    return [PendingItem(title="继续教育学时申报待确认", url=reverse("training:record_list") + "?status=pending", count=count)]
