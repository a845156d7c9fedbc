"""Finance lines on the role home pages (rpms.core.pending): at most two COUNT
queries per user, whatever the number of rows."""
from django.urls import reverse

from rpms.accounts.models import Role
from rpms.core import clock



def finance_pending(user) -> list:
    from rpms.core.pending import PendingItem

    from . import selectors

    role = getattr(user, "role", None)
    if not getattr(user, "is_authenticated", False) or role not in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY):
        return []
    on = clock.today()
    items = []
    if role == Role.CITY_ADMIN:
        unpaid = selectors.allowance_list(user=user, filters=selectors.AllowanceFilters(status="unpaid"), on=on)
        totals = selectors.allowance_totals(unpaid, on)
        if totals["count"]:
            items.append(PendingItem(
                title="交通通讯补贴待支付", url=reverse("finance:allowance_list") + "?status=unpaid", count=totals["count"],
                due=f"其中逾期 {totals['overdue_count']} 条" if totals["overdue_count"] else "",
                level="warn" if totals["overdue_count"] else "info",
            ))
    overdue = selectors.fees_overdue(user=user, on=on).count()
    if overdue:
        items.append(PendingItem(title="服务费用逾期未付清", url=reverse("finance:fee_list") + "?status=overdue",
                                 count=overdue, level="warn"))
    return items
