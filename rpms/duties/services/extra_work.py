"""Extra contracted work (B12): work beyond the basic duties under a separate contract."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.inputs import clean_or_refuse

from ..models import ExtraWork, ExtraWorkKind, ExtraWorkStatus
from ..permissions import can_manage_extra_work
from ._common import _date, _text


EXTRA_FIELDS = ["kind", "title", "scope", "fee_yuan", "party_a", "contract_number", "contract_date", "start", "end",
                "status", "status_note"]


def _fee(value) -> Decimal:
    try:
        fee = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError("合同经费应为数字（元）。", code="invalid_fee") from None
    if not fee.is_finite() or fee < 0:
        raise DomainError("合同经费不能为负数。", code="invalid_fee")
    if fee != fee.quantize(Decimal("0.01")):
        raise DomainError("合同经费最多精确到分（两位小数）。", code="invalid_fee")
    if fee >= Decimal(10000000000):
        raise DomainError("合同经费过大，请核对。", code="invalid_fee")
    return fee.quantize(Decimal("0.01"))


def _extra_values(values: dict, *, city, exclude_pk=None) -> dict:
    kind = str(values.get("kind") or "").strip()
    if kind not in ExtraWorkKind.values:
        labels = "、".join(f"{v}（{label}）" for v, label in ExtraWorkKind.choices)
        raise DomainError(f"工作类型不正确，应为：{labels}。", code="invalid_kind")
    contract_date = _date(values.get("contract_date"), label="合同签订日期")
    if contract_date > clock.today():
        raise DomainError("合同签订日期不能晚于今天（尚未签订的合同不予登记）。", code="invalid_date")
    start = _date(values.get("start"), label="开始日期", required=False)
    end = _date(values.get("end"), label="结束日期", required=False)
    if start and end and end < start:
        raise DomainError("结束日期不能早于开始日期。", code="invalid_period")
    number = _text(values.get("contract_number"), label="合同编号", max_length=100, required=True)
    duplicate = ExtraWork.objects.filter(city=city, contract_number=number)
    if exclude_pk:
        duplicate = duplicate.exclude(pk=exclude_pk)
    if duplicate.exists():
        raise Conflict(f"合同编号“{number}”已登记。", code="duplicate_contract_number")
    return {
        "kind": kind,
        "title": _text(values.get("title"), label="项目名称", max_length=200, required=True),
        "scope": _text(values.get("scope"), label="工作内容及范围", max_length=5000, required=True),
        "fee_yuan": _fee(values.get("fee_yuan")),
        "party_a": _text(values.get("party_a"), label="委托方", max_length=200, required=True),
        "contract_number": number,
        "contract_date": contract_date,
        "start": start,
        "end": end,
    }


@transaction.atomic
def extra_work_create(*, actor, appointment, kind, title, scope, fee_yuan, party_a, contract_number, contract_date,
                      start=None, end=None) -> ExtraWork:
    """B12: work beyond the basic duties under a separate contract (its own scope and fee), recorded against
    the appointment by its planner, the unit's hiring entity or the district officer."""
    from rpms.appointments.models import Appointment

    appointment = Appointment.objects.select_related("city__policy", "unit__district", "planner").get(pk=appointment.pk)
    if not can_manage_extra_work(actor, appointment):
        raise Forbidden("只有该派驻的责任规划师、聘任主体或区级主管部门可以登记另行签约的工作。", code="not_party")
    if not appointment.is_active() and appointment.state() != "upcoming":
        # Past appointments keep their history but take no new contracts.
        raise Conflict("该派驻聘任已结束，不能再登记另行签约的工作。", code="appointment_over")
    cleaned = _extra_values(
        {"kind": kind, "title": title, "scope": scope, "fee_yuan": fee_yuan, "party_a": party_a,
         "contract_number": contract_number, "contract_date": contract_date, "start": start, "end": end},
        city=appointment.city,
    )
    work = ExtraWork(city=appointment.city, appointment=appointment, unit=appointment.unit, planner=appointment.planner,
                     status=ExtraWorkStatus.SIGNED, created_by=actor, **cleaned)
    clean_or_refuse(work)
    work.save()
    audit_log(actor=actor, action="duties.extra_work_create", obj=work, after=snapshot(work, EXTRA_FIELDS),
              article=policy_article(appointment.city, "extra_work"),
              summary=f"登记另行签约工作：{work.get_kind_display()}“{work.title}”，{appointment.planner.name}，"
                      f"经费 {work.fee_yuan} 元，合同 {work.contract_number}"[:255])
    return work


@transaction.atomic
def extra_work_update(*, actor, work: ExtraWork, **changes) -> ExtraWork:
    work = ExtraWork.objects.select_for_update(of=("self",)).select_related("appointment__planner", "appointment__unit__district",
                                                                "city").get(pk=work.pk)
    if not can_manage_extra_work(actor, work.appointment):
        raise Forbidden("只有该派驻的责任规划师、聘任主体或区级主管部门可以修改。", code="not_party")
    if work.status in (ExtraWorkStatus.COMPLETED, ExtraWorkStatus.TERMINATED):
        raise Conflict(f"该工作已{work.get_status_display()}，不能修改。", code="extra_work_closed")
    unknown = set(changes) - {"kind", "title", "scope", "fee_yuan", "party_a", "contract_number", "contract_date", "start", "end"}
    if unknown:
        raise DomainError(f"不能修改的字段：{'、'.join(sorted(unknown))}。", code="invalid_field")
    before = snapshot(work, EXTRA_FIELDS)
    values = {k: getattr(work, k) for k in ("kind", "title", "scope", "fee_yuan", "party_a", "contract_number",
                                            "contract_date", "start", "end")}
    values.update(changes)
    for key, value in _extra_values(values, city=work.city, exclude_pk=work.pk).items():
        setattr(work, key, value)
    clean_or_refuse(work)
    work.save()
    audit_log(actor=actor, action="duties.extra_work_update", obj=work, before=before, after=snapshot(work, EXTRA_FIELDS),
              article=policy_article(work.city, "extra_work"), summary=f"修改另行签约工作“{work.title}”"[:255])
    return work


@transaction.atomic
def extra_work_status_change(*, actor, work: ExtraWork, status: str, note: str = "") -> ExtraWork:
    work = ExtraWork.objects.select_for_update(of=("self",)).select_related("appointment__planner", "appointment__unit__district",
                                                                "city").get(pk=work.pk)
    if not can_manage_extra_work(actor, work.appointment):
        raise Forbidden("只有该派驻的责任规划师、聘任主体或区级主管部门可以变更状态。", code="not_party")
    if status not in ExtraWorkStatus.values:
        raise DomainError("状态不正确，应为 in_progress、completed 或 terminated。", code="invalid_status")
    if not work.can_become(status):
        raise Conflict(f"该工作当前为“{work.get_status_display()}”，不能改为“{ExtraWorkStatus(status).label}”。",
                       code="invalid_transition")
    note = _text(note, label="状态说明", max_length=2000, required=status == ExtraWorkStatus.TERMINATED)
    before = snapshot(work, EXTRA_FIELDS)
    work.move_to(status)
    work.status_note = note
    work.status_changed_at = clock.now()
    clean_or_refuse(work)
    work.save()
    audit_log(actor=actor, action="duties.extra_work_status", obj=work, before=before, after=snapshot(work, EXTRA_FIELDS),
              article=policy_article(work.city, "extra_work"),
              summary=f"另行签约工作“{work.title}”状态改为{work.get_status_display()}"[:255])
    return work
