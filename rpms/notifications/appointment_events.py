"""Who hears of what happens to an appointment, and what they read (issue #11 item 9).

rpms.appointments runs the APPOINTMENT_EVENT hook (rpms.core.hooks) once per act, inside the act's
transaction; `appointment_event_deliver` is registered on it in NotificationsConfig.ready(). Each party
gets one inbox item, and an e-mail after the act commits (notify); the key names the appointment, the
event and the record, so an act is announced once however often the hook runs for it.

The parties:
- the planner (or the team's account);
- the hiring entity: the street / town / park users of the unit's subdistricts (in Pingdingshan the
  "local government" with the district's officers, P6(2): 向属地政府和责任规划师下达派驻通知);
- the district's officers (the district work team, where the city has one; B19(3), B25);
- the city administrators, where the city bureau signs the contracts or receives the withdrawals
  (P6(3), P6(5)).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from rpms.accounts.delegation import with_delegates
from rpms.accounts.models import Role, User

from .services import notify

PLANNER = "planner"
ENTITY = "entity"
DISTRICT = "district"
CITY = "city"
SIGNER = "signer"  # the contract's party A: the entity, or the city bureau where it signs


@dataclass(frozen=True)
class Event:
    title: str  # "{who}" → the planner's name, "{unit}" → the district and unit
    body: str
    to: tuple[str, ...]


EVENTS: dict[str, Event] = {
    "appointed": Event(
        "{notice}：{who}派驻{unit}",
        "{who}受聘为{unit}{role}，聘期 {start} 至 {end}。{notice}、聘任证书和聘用合同已出具，可在系统中查看和下载。",
        (PLANNER, ENTITY, DISTRICT),
    ),
    "termination_requested": Event(
        "解除聘用合同申请：{who} · {unit}",
        "{who}书面申请解除{unit}{role}聘用合同，待聘任主体同意或不同意（{article}）。理由：{reason}",
        (SIGNER, DISTRICT),
    ),
    "termination_consented": Event(
        "解除聘用合同已同意：{who} · {unit}",
        "聘任主体已同意{who}解除{unit}{role}聘用合同，{effective} 起解除（{article}）。",
        (PLANNER, DISTRICT, SIGNER),
    ),
    "termination_refused": Event(
        "解除聘用合同申请未获同意：{who} · {unit}",
        "聘任主体不同意{who}提前解除{unit}{role}聘用合同，合同继续履行（{article}）。理由：{refusal}",
        (PLANNER, DISTRICT),
    ),
    "termination_withdrawn": Event(
        "解除聘用合同申请已撤回：{who} · {unit}",
        "{unit}{role}的解除聘用合同申请已撤回，合同继续履行。",
        (SIGNER, DISTRICT, PLANNER),
    ),
    "termination_decided": Event(
        "聘任主体依约解除聘用合同：{who} · {unit}",
        "聘任主体以责任规划师未履行合同约定的“{breach}”为由解除{unit}{role}聘用合同，{effective} 起解除（{article}）。"
        "责任规划师可在系统中提交书面陈述。",
        (PLANNER, DISTRICT, CITY),
    ),
    "termination_evidence": Event(
        "解除聘用合同证据材料已提交：{who} · {unit}",
        "聘任主体就解除{unit}{role}聘用合同提交了证据材料，可在系统中查看。",
        (PLANNER, DISTRICT),
    ),
    "termination_statement": Event(
        "责任规划师就解除聘用合同提交陈述：{who} · {unit}",
        "{who}就聘任主体解除{unit}{role}聘用合同提交了书面陈述，可在系统中查看。",
        (SIGNER, DISTRICT, CITY),
    ),
    "withdrawal_requested": Event(
        "退出派驻申请：{who} · {unit}",
        "{who}书面申请退出{unit}{role}的派驻，离任日期 {leave_date}（{article}）。请及时调整补位。",
        (CITY, ENTITY, DISTRICT),
    ),
    "posting_removed": Event(
        "派驻终止（调出资源库）：{who} · {unit}",
        "{who}已调出责任规划师资源库（{reason}），{unit}{role}派驻自 {ended_on} 终止，待调整补位。",
        (PLANNER, ENTITY, DISTRICT, CITY),
    ),
}


def _entity_users(unit) -> list:
    # and the colleagues acting for them today (issue 17 item 7: a delegate's records and messages follow)
    return with_delegates(User.objects.filter(
        role=Role.HIRING_ENTITY, is_active=True, subdistricts__memberships__unit=unit,
        subdistricts__memberships__left_at__isnull=True,
    ).distinct().order_by("pk"))


def _district_users(unit) -> list:
    return with_delegates(User.objects.filter(role=Role.DISTRICT_OFFICER, is_active=True, districts=unit.district_id)
                          .distinct().order_by("pk"))


def _city_users(city) -> list:
    return list(User.objects.filter(role=Role.CITY_ADMIN, is_active=True, city=city).order_by("pk"))


def recipients(appointment, parties) -> list:
    from rpms.cities.models import ContractSigner

    users = []
    policy = appointment.city.policy
    for party in parties:
        if party == SIGNER:
            party = ENTITY if policy.contract_signer == ContractSigner.HIRING_ENTITY else CITY
        if party == PLANNER and appointment.planner.user_id:
            users.append(appointment.planner.user)
        elif party == ENTITY:
            users.extend(_entity_users(appointment.unit))
        elif party == DISTRICT:
            users.extend(_district_users(appointment.unit))
        elif party == CITY:
            users.extend(_city_users(appointment.city))
    return users


def _values(event: str, appointment, record) -> dict:
    from rpms.cities.models import AppointmentMode
    from rpms.cities.selectors import policy_article

    city = appointment.city
    unit = appointment.unit
    step = "withdrawal" if event.startswith("withdrawal") else "termination"
    dispatch = city.policy.appointment_mode == AppointmentMode.CITY_DISPATCH
    return {
        "who": appointment.planner.name,
        "unit": f"{unit.district.name}{unit.name}",
        "role": appointment.role_label,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "notice": "派驻通知" if dispatch else "聘任通知",
        "article": policy_article(city, step) or "",
        "reason": getattr(record, "reason", "") or appointment.end_reason or "",
        "refusal": getattr(record, "refusal_reason", "") or "",
        "breach": getattr(record, "breach_label", "") or "",
        "effective": (getattr(record, "effective_on", None) or appointment.ended_on or "").__str__(),
        "leave_date": str(getattr(record, "leave_date", "") or ""),
        "ended_on": str(appointment.ended_on or ""),
        "status": appointment.get_status_display(),
    }


def appointment_event_deliver(*, event: str, appointment, record=None, actor=None) -> None:
    """APPOINTMENT_EVENT handler: one inbox item per party (not the person who acted), once per act."""
    spec = EVENTS.get(event)
    if spec is None:
        return
    values = _values(event, appointment, record)
    users = [u for u in recipients(appointment, spec.to) if actor is None or u.pk != getattr(actor, "pk", None)]
    try:
        url = reverse("appointments:detail", args=[appointment.pk])
    except NoReverseMatch:
        url = ""
    record_key = f"{record._meta.label_lower}:{record.pk}" if record is not None and getattr(record, "pk", None) else "-"
    notify(
        users=users, event=f"appointment.{event}", title=spec.title.format(**values)[:200],
        body=spec.body.format(**values), url=url, key=f"appointment:{appointment.pk}:{event}:{record_key}",
        city=appointment.city,
    )
