"""Helpers the appointments' services, contract signing and proposals share, below all of them: the articles
an act cites joined once, the body a contract is filed with (B19(3)), and the appointment locked for a write."""
from rpms.core.errors import NotFound

from .models import Appointment


def _article_text(*articles: str) -> str:
    return "、".join(dict.fromkeys(part for a in articles for part in (a or "").split("、") if part))


def filing_body_for(unit) -> str:
    """B19(3): the contract is filed with the district's work team."""
    return f"{unit.district.name}责任规划师工作专班"


def _lock_appointment(appointment: Appointment) -> Appointment:
    locked = Appointment.objects.select_for_update(of=("self",)).filter(pk=appointment.pk).first()
    if locked is None:
        raise NotFound()
    # Related objects are read without the lock (they are not changed here).
    fresh = (
        Appointment.objects.select_related("city__policy", "unit__district", "unit__city__policy", "planner")
        .get(pk=appointment.pk)
    )
    return fresh
