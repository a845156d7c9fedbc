"""Daily reminders: every deadline the system knows, in the inbox and by e-mail, once per item.

A provider is a callable `provider(*, city, today) -> Iterable[Reminder]` that reads its app's records
(read-only) and says who must act on what by when. Each app keeps its providers in its own `reminders.py`
and registers them in its AppConfig.ready() (`register`); `REMINDER_PROVIDERS` lists them, and this app
imports none of them (CONVENTIONS, layers). `reminders_send` (the `send_reminders` command) asks
each provider for a city and calls `notify()` once per reminder with the key
`reminder:<kind>:<item>:<deadline>`: the same item is reminded once, and again only if its deadline
changes (a renewed contract, a moved leave date).

The providers (in each app's reminders.py), with whom they remind:
- notice_end (recruitment): a recruitment notice (公示) ending within one working day, or ended and not
  yet closed → the city administrators (P5(2), B19(7)).
- objection (recruitment): an objection raised against a notice, not yet resolved → the city administrators.
- contract_expiry (appointments): a term ending within the policy's contract_expiry_warning_days (30) → the
  district officers of the unit's district, the hiring entity of the unit, the planner; where the city
  bureau signs the contracts (policy contract_signer), also the city administrators.
- posting_ended (appointments): a posting whose term ran out in the last week without a renewal (nobody
  acts that day) → the planner, the hiring entity, the district officers, and the city administrators
  where the bureau signs (B19(2), P6(4); the other endings are announced by their acts,
  rpms.notifications.appointment_events).
- withdrawal (appointments): a withdrawal's leave date within the same warning period and no replacement
  yet → the city administrators and the district officers (P6(5), B25).
- assessment_due (assessments): an appointment whose service year (cycle, rpms.core.dates) ends within 30
  days without an assessment of that cycle → the assessing body (B20, P6(4)).
- allowance_due (finance): an allowance due (its service cycle ended) and unpaid → the city
  administrators, the finance role (P6(3)).
- fee_overdue (finance): a service-fee installment not paid by its last day of payment → the district
  officers and the hiring entity of the unit (B21).
- suggestion_overdue (suggestions): a resident's suggestion past its reply deadline → the district
  officers of its district and the planners serving its unit.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse

from rpms.core import clock
from rpms.core.audit import audit_log

from .services import notify

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    kind: str  # provider's event kind, e.g. "contract_expiry"
    item: str  # the record, e.g. "appointment:42"
    deadline: dt.date
    users: tuple = ()
    title: str = ""
    body: str = ""
    url: str = ""
    city: object = None
    extra_key: str = field(default="")  # e.g. the recipients' group, when one item reminds two groups differently

    @property
    def key(self) -> str:
        suffix = f":{self.extra_key}" if self.extra_key else ""
        return f"reminder:{self.kind}:{self.item}:{self.deadline.isoformat()}{suffix}"

    @property
    def event(self) -> str:
        return f"reminder.{self.kind}"


def day_label(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def safe_reverse(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except Exception:  # noqa: BLE001 - a page not wired yet: the inbox item simply has no link
        return ""


Provider = Callable[..., Iterable[Reminder]]

# Each app registers its own providers in its AppConfig.ready() (`register`); this app imports none of them.
REMINDER_PROVIDERS: list[Provider] = []


def register(*providers: Provider) -> None:
    """Adds each provider (once: `ready()` may run more than once in tests)."""
    for provider in providers:
        if provider not in REMINDER_PROVIDERS:
            REMINDER_PROVIDERS.append(provider)


# --- the daily run ---------------------------------------------------------------------------------------------


@dataclass
class ReminderRun:
    city_code: str
    today: dt.date
    due: dict[str, int] = field(default_factory=dict)  # kind → reminders the providers returned
    sent: dict[str, int] = field(default_factory=dict)  # kind → inbox items created now
    failed: list[str] = field(default_factory=list)  # providers that raised

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())


@transaction.atomic
def reminders_send(*, city, today: dt.date | None = None, providers: list[Provider] | None = None) -> ReminderRun:
    """Ask every provider for `city`'s due items and notify once per item. One audit row per run.

    Each provider runs in its own savepoint: one that fails (a half-built app, bad data) is logged and
    skipped, the others still deliver. E-mails leave after the run commits (notify's on_commit)."""
    from rpms.cities.selectors import policy_article

    today = today or clock.today()
    run = ReminderRun(city_code=city.code, today=today)
    for provider in providers if providers is not None else REMINDER_PROVIDERS:
        name = getattr(provider, "__name__", repr(provider))
        try:
            with transaction.atomic():
                reminders = list(provider(city=city, today=today))
                for reminder in reminders:
                    created = notify(
                        users=reminder.users, event=reminder.event, title=reminder.title, body=reminder.body,
                        url=reminder.url, key=reminder.key, city=reminder.city or city,
                    )
                    run.due[reminder.kind] = run.due.get(reminder.kind, 0) + 1
                    run.sent[reminder.kind] = run.sent.get(reminder.kind, 0) + len(created)
        except Exception:
            logger.exception("send_reminders: provider %s failed for %s", name, city.code)
            run.failed.append(name)
    audit_log(
        actor=None, action="notifications.reminders_send", object_type="cities.city", object_id=city.pk,
        object_repr=str(city), city_code=city.code, article=policy_article(city, "notification"),
        after={"today": today.isoformat(), "due": run.due, "sent": run.sent, "failed": run.failed},
        summary=f"每日工作提醒（{city.name}，{today.isoformat()}）：新发送 {run.total_sent} 条"
        + (f"，{len(run.failed)} 类提醒失败" if run.failed else ""),
    )
    return run
