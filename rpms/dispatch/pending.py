"""Pending work for the role home pages (rpms.core.pending)."""
import datetime as dt

from django.urls import reverse

from rpms.accounts.models import Role
from rpms.core import clock

RETURNED_SHOWN_DAYS = 30


def dispatch_pending(user) -> list:
    from rpms.core.pending import PendingItem

    from .models import DispatchRequest, Proposal, ProposalStatus, RequestStatus

    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    if user.role == Role.CITY_ADMIN and user.city_id:
        submitted = DispatchRequest.objects.filter(city_id=user.city_id, status=RequestStatus.SUBMITTED).count()
        if submitted:
            items.append(PendingItem(title="待受理的派驻申请", url=reverse("dispatch:request_list") + "?status=submitted",
                                     count=submitted, level="warn"))
        proposals = Proposal.objects.filter(run__city_id=user.city_id, status=ProposalStatus.PROPOSED).count()
        if proposals:
            items.append(PendingItem(title="待确认的选派建议", url=reverse("dispatch:matching"), count=proposals))
    elif user.role == Role.DISTRICT_OFFICER:
        since = clock.now() - dt.timedelta(days=RETURNED_SHOWN_DAYS)
        returned = DispatchRequest.objects.filter(
            district__in=user.districts.values("pk"), status=RequestStatus.RETURNED, decided_at__gte=since
        ).count()
        if returned:
            items.append(PendingItem(title="被退回的派驻申请（请查看退回理由）", url=reverse("dispatch:request_list") + "?status=returned",
                                     count=returned, level="warn"))
    return items
