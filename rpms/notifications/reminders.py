"""Daily reminders: every deadline the system knows, in the inbox and by e-mail, once per item.

A provider is a callable `provider(*, city, today) -> Iterable[Reminder]` that reads other contexts'
records (read-only) and says who must act on what by when. `REMINDER_PROVIDERS` lists them; another
app may append its own in its AppConfig.ready(). `reminders_send` (the `send_reminders` command) asks
each provider for a city and calls `notify()` once per reminder with the key
`reminder:<kind>:<item>:<deadline>`: the same item is reminded once, and again only if its deadline
changes (a renewed contract, a moved leave date).

Providers here, with whom they remind:
- notice_end: a recruitment notice (公示) ending within one working day, or ended and not yet closed →
  the city administrators (P5(2), B19(7)).
- objection: an objection raised against a notice, not yet resolved → the city administrators.
- contract_expiry: a term ending within the policy's contract_expiry_warning_days (30) → the district
  officers of the unit's district, the hiring entity of the unit, the planner; where the city bureau
  signs the contracts (policy contract_signer), also the city administrators.
- posting_ended: a posting whose term ran out in the last week without a renewal (nobody acts that day)
  → the planner, the hiring entity, the district officers, and the city administrators where the bureau
  signs (B19(2), P6(4); the other endings are announced by their acts, rpms.notifications.appointment_events).
- withdrawal: a withdrawal's leave date within the same warning period and no replacement yet → the city
  administrators and the district officers (P6(5), B25).
- assessment_due: an appointment whose service year (cycle) ends within 30 days without an assessment
  of that cycle → the assessing body (B20, P6(4); read from rpms.assessments).
- allowance_due: an allowance due (its service cycle ended) and unpaid → the city administrators, the
  finance role (P6(3); read from rpms.finance).
- fee_overdue: a service-fee installment not paid by its last day of payment → the district officers and
  the hiring entity of the unit (B21; read from rpms.finance).
- suggestion_overdue: a resident's suggestion past its reply deadline → the district officers of its
  district and the planners serving its unit.
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

from . import recipients
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


def _d(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _safe_reverse(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except Exception:  # noqa: BLE001 - a page not wired yet: the inbox item simply has no link
        return ""


# --- providers -----------------------------------------------------------------------------------------------


def notice_end_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Notices ending by the next working day, or ended and not closed: the city must close them
    (admit the candidates) once the period is over (P5(2))."""
    from rpms.recruitment.models import PublicNotice
    from rpms.workdays.selectors import add_working_days

    next_working_day = add_working_days(today + dt.timedelta(days=1), 1).end
    notices = list(
        PublicNotice.objects.filter(city=city, closed_at__isnull=True, end__lte=next_working_day).order_by("end", "pk")
    )
    if not notices:
        return []
    admins = tuple(recipients.city_admins(city))
    result = []
    for notice in notices:
        if notice.end < today:
            title = f"公示期已满，待办理入库：{notice.title}"
            body = f"公示“{notice.title}”已于{_d(notice.end)}期满，请处理异议并结束公示、办理入库。"
        else:
            title = f"公示即将结束：{notice.title}"
            body = f"公示“{notice.title}”将于{_d(notice.end)}结束（{notice.working_days}个工作日），请及时处理异议并办理入库。"
        result.append(Reminder(
            kind="notice_end", item=f"notice:{notice.pk}", deadline=notice.end, users=admins, title=title, body=body,
            url=_safe_reverse("recruitment:manage_notice", notice.pk), city=city,
        ))
    return result


def objection_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Objections not yet resolved; the deadline is the end of their notice (P5(2))."""
    from rpms.recruitment.models import Objection

    objections = list(
        Objection.objects.filter(notice__city=city, resolution="")
        .select_related("notice", "entry__application")
        .order_by("received_at", "pk")
    )
    if not objections:
        return []
    admins = tuple(recipients.city_admins(city))
    result = []
    for objection in objections:
        notice = objection.notice
        result.append(Reminder(
            kind="objection", item=f"objection:{objection.pk}", deadline=notice.end, users=admins,
            title=f"公示异议待处理：{notice.title}",
            body=(
                f"{_d(objection.received_at.date())}收到对公示人选“{objection.entry.application.name}”的异议，"
                f"请在公示期满（{_d(notice.end)}）前核查处理并公布结果。"
            ),
            url=_safe_reverse("recruitment:manage_notice", notice.pk), city=city,
        ))
    return result


def _contract_parties(city, appointments):
    """(appointment, its contract's parties): the district officers of the unit's district, the hiring
    entity of the unit, the planner, and the city administrators where the bureau signs (contract_signer).
    A fixed number of queries for any number of appointments."""
    from rpms.cities.models import ContractSigner

    officers = recipients.district_officers_by_district(city)
    entities = recipients.hiring_entities_by_unit(city, {a.unit_id for a in appointments})
    admins = recipients.city_admins(city) if city.policy.contract_signer != ContractSigner.HIRING_ENTITY else []
    for appointment in appointments:
        people = [*officers.get(appointment.unit.district_id, []), *entities.get(appointment.unit_id, []), *admins]
        if appointment.planner.user is not None:
            people.append(appointment.planner.user)
        yield appointment, tuple(people)


def contract_expiry_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Terms ending within the policy's warning period: renew or arrange a replacement (B19(2), P6(4))."""
    from rpms.appointments.models import Appointment

    days = city.policy.contract_expiry_warning_days
    appointments = list(
        Appointment.objects.expiring(within_days=days, on=today)
        .filter(city=city)
        .select_related("unit__district", "planner__user")
        .order_by("end", "pk")
    )
    if not appointments:
        return []
    result = []
    for appointment, people in _contract_parties(city, appointments):
        result.append(Reminder(
            kind="contract_expiry", item=f"appointment:{appointment.pk}", deadline=appointment.end, users=people,
            title=f"聘用合同即将到期：{appointment.planner.name} · {appointment.unit.name}",
            body=(
                f"{appointment.planner.name}在{appointment.unit.district.name}{appointment.unit.name}的聘期将于"
                f"{_d(appointment.end)}届满（提前 {days} 天提醒），请及时办理续聘或调整补位。"
            ),
            url=_safe_reverse("appointments:detail", appointment.pk), city=city,
        ))
    return result


# A posting's end by expiry is announced on the daily runs of the week after its last day (once: the key
# names the last day), so a missed run (a holiday, an outage) still announces it.
POSTING_ENDED_LOOKBACK_DAYS = 7


def posting_ended_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Terms that ran out without renewal: the posting has ended (B19(2), P6(4))."""
    from rpms.appointments.models import Appointment, AppointmentStatus

    earliest = today - dt.timedelta(days=POSTING_ENDED_LOOKBACK_DAYS)
    appointments = list(
        Appointment.objects.filter(
            city=city, status__in=[AppointmentStatus.ACTIVE, AppointmentStatus.ENDED], ended_on__isnull=True,
            end__gte=earliest, end__lt=today,
        )
        .select_related("unit__district", "planner__user")
        .order_by("end", "pk")
    )
    if not appointments:
        return []
    result = []
    for appointment, people in _contract_parties(city, appointments):
        result.append(Reminder(
            kind="posting_ended", item=f"appointment:{appointment.pk}", deadline=appointment.end, users=people,
            title=f"聘期届满，派驻结束：{appointment.planner.name} · {appointment.unit.name}",
            body=(
                f"{appointment.planner.name}在{appointment.unit.district.name}{appointment.unit.name}的聘期已于"
                f"{_d(appointment.end)}届满，未办理续聘，派驻结束；责任单元如需继续服务，请办理聘任或调整补位。"
            ),
            url=_safe_reverse("appointments:detail", appointment.pk), city=city,
        ))
    return result


def withdrawal_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Withdrawals whose leave date comes within the warning period and whose unit has no replacement
    yet (P6(5), B25)."""
    from rpms.appointments.models import AppointmentStatus, Withdrawal

    horizon = today + dt.timedelta(days=city.policy.contract_expiry_warning_days)
    withdrawals = list(
        Withdrawal.objects.filter(
            appointment__city=city, appointment__status=AppointmentStatus.ACTIVE, replacement__isnull=True,
            leave_date__gte=today, leave_date__lte=horizon,
        )
        .select_related("appointment__unit__district", "appointment__planner")
        .order_by("leave_date", "pk")
    )
    if not withdrawals:
        return []
    admins = recipients.city_admins(city)
    officers = recipients.district_officers_by_district(city)
    result = []
    for withdrawal in withdrawals:
        appointment = withdrawal.appointment
        result.append(Reminder(
            kind="withdrawal", item=f"withdrawal:{withdrawal.pk}", deadline=withdrawal.leave_date,
            users=(*admins, *officers.get(appointment.unit.district_id, [])),
            title=f"责任规划师退出离任：{appointment.planner.name} · {appointment.unit.name}",
            body=(
                f"{appointment.planner.name}申请退出{appointment.unit.district.name}{appointment.unit.name}的派驻，"
                f"离任日期为{_d(withdrawal.leave_date)}，尚未安排补位，请及时调整补位。"
            ),
            url=_safe_reverse("appointments:withdrawal_detail", withdrawal.pk), city=city,
        ))
    return result


def suggestion_overdue_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Residents' suggestions past their reply deadline, unanswered (B11(2), P3(3))."""
    from rpms.suggestions.models import Suggestion
    from rpms.suggestions.selectors import overdue_q

    suggestions = list(
        Suggestion.objects.filter(city=city).filter(overdue_q(today)).select_related("unit", "district")
        .order_by("due_on", "pk")
    )
    if not suggestions:
        return []
    officers = recipients.district_officers_by_district(city)
    planners = recipients.serving_planner_users_by_unit(city, {s.unit_id for s in suggestions}, on=today)
    result = []
    for suggestion in suggestions:
        result.append(Reminder(
            kind="suggestion_overdue", item=f"suggestion:{suggestion.pk}", deadline=suggestion.due_on,
            users=(*officers.get(suggestion.district_id, []), *planners.get(suggestion.unit_id, [])),
            title=f"群众意见建议超期未答复：{suggestion.tracking_code}",
            body=(
                f"{suggestion.district.name}{suggestion.unit.name}收到的意见建议（查询码 {suggestion.tracking_code}）"
                f"答复期限为{_d(suggestion.due_on)}，现已超期，请尽快答复或转交。"
            ),
            url=_safe_reverse("suggestions:manage_detail", suggestion.pk), city=city,
        ))
    return result


# Assessments (rpms.assessments) and money (rpms.finance): in .reminders_extra; they read those apps
# only when their models exist.
from .reminders_extra import allowance_due_reminders, assessment_due_reminders, fee_overdue_reminders

Provider = Callable[..., Iterable[Reminder]]

REMINDER_PROVIDERS: list[Provider] = [
    notice_end_reminders,
    objection_reminders,
    contract_expiry_reminders,
    posting_ended_reminders,
    withdrawal_reminders,
    assessment_due_reminders,
    allowance_due_reminders,
    fee_overdue_reminders,
    suggestion_overdue_reminders,
]


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
