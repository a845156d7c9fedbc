"""The suggestions' lines on the role home pages ("待办事项", rpms.core.pending).

- planner: suggestions of the units it serves waiting for a public reply; overdue ones as a warning
- district officer: overdue suggestions of its districts (B22: flagged to the district), and those that
  arrived in a unit nobody serves
- hiring entity: work proposals waiting for its acknowledgement
Each line is one aggregate query, computed from the dates (no flag set by a job)."""
from django.db.models import Count, Min, Q
from django.urls import reverse

from rpms.accounts.models import Role
from rpms.appointments.models import Appointment
from rpms.core import clock

from .models import Suggestion, WorkProposal, WorkProposalStatus
from .selectors import overdue_q, pending_q


def _counts(queryset, today) -> dict:
    return queryset.aggregate(
        pending=Count("id", filter=pending_q()),
        overdue=Count("id", filter=overdue_q(today)),
        vacant=Count("id", filter=pending_q() & Q(unit_vacant=True)),
        first_due=Min("due_on", filter=pending_q()),
    )


def suggestion_pending(user) -> list:
    from rpms.core.pending import PendingItem

    if not getattr(user, "is_authenticated", False):
        return []
    today = clock.today()
    url = reverse("suggestions:manage_list")
    items = []
    if user.role == Role.PLANNER:
        units = Appointment.objects.active(on=today).filter(planner__user=user).values("unit_id")
        counts = _counts(Suggestion.objects.filter(unit_id__in=units), today)
        if counts["overdue"]:
            items.append(PendingItem(title="超过答复期限的居民意见建议", url=f"{url}?overdue=1", count=counts["overdue"], level="warn"))
        if counts["pending"]:
            due = f"最早答复期限 {counts['first_due']:%Y-%m-%d}" if counts["first_due"] else ""
            items.append(PendingItem(title="待答复的居民意见建议", url=f"{url}?pending=1", count=counts["pending"], due=due))
    elif user.role == Role.DISTRICT_OFFICER:
        counts = _counts(Suggestion.objects.filter(district_id__in=user.districts.values("pk")), today)
        if counts["overdue"]:
            items.append(PendingItem(title="超过答复期限未答复的居民意见建议", url=f"{url}?overdue=1", count=counts["overdue"], level="warn"))
        if counts["vacant"]:
            items.append(PendingItem(title="无在任责任规划师单元收到的意见建议（由区级办理）", url=f"{url}?vacant=1&pending=1",
                                     count=counts["vacant"], level="warn"))
    elif user.role == Role.HIRING_ENTITY:
        count = (
            WorkProposal.objects.filter(
                status=WorkProposalStatus.SUBMITTED,
                unit__memberships__left_at__isnull=True,
                unit__memberships__subdistrict__in=user.subdistricts.values("pk"),
            ).values("pk").distinct().count()
        )
        if count:
            items.append(PendingItem(title="待签收的责任规划师工作建议", url=f"{reverse('suggestions:proposal_list')}?status=submitted",
                                     count=count))
    return items
